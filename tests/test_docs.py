"""The documentation runs: every ```bash and ```python block of README.md and docs/*.md (slow), and every
link between the pages resolves (fast). ```console blocks are shown, not run."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.python_zygote import Zygote

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Seconds a block may run: each takes well under 60 s of CPU, but up to 4 min of wall time on shared cores.
BLOCK_TIMEOUT = 600
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def blocks(page: Path, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(page.read_text()) if lang == language]


def runnable_blocks() -> list[tuple[Path, int, str, str]]:
    """(page, index on the page, language, code) of every block the test runs."""
    found = []
    for page in PAGES:
        for index, (language, body) in enumerate(FENCE.findall(page.read_text())):
            if language in ("bash", "python"):
                found.append((page, index, language, body))
    return found


def _offline_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(PYTHONPATH=str(ROOT), CUDA_VISIBLE_DEVICES="", HF_HUB_OFFLINE="1", MPLBACKEND="Agg")
    return env


def test_the_fence_parser_finds_what_it_must() -> None:
    text = "a\n```bash\necho 1\n```\n```console\n$ x\n```\n```python\nprint(2)\n```\n"
    assert FENCE.findall(text) == [("bash", "echo 1\n"), ("console", "$ x\n"), ("python", "print(2)\n")]
    assert blocks(ROOT / "README.md", "python"), "the README shows Python"


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    """One interpreter that has imported torch and the library; each block's ``python`` is a fork of it."""
    with Zygote(_offline_env()) as started:
        yield started


@pytest.mark.slow  # runs every example: training, evaluation, scoring
@pytest.mark.parametrize("page, index, language, code",
                         [pytest.param(*block, id=f"{block[0].name}-{block[1]}") for block in runnable_blocks()])
def test_every_documented_block_runs(zygote: Zygote, page: Path, index: int, language: str, code: str) -> None:
    """Each block runs as a reader would run it, from the repository root, offline. ``python`` is the
    running interpreter (by the zygote, forked; see tests/python_zygote.py), then its own folder is first
    on PATH: the test passes from a virtual environment's python called without activating it."""
    command = ["bash", "-e", "-o", "pipefail", "-c", code] if language == "bash" else ["python", "-c", code]
    (Path("/tmp") / "qc-docs").mkdir(exist_ok=True)
    env = zygote.environment(_offline_env())
    try:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{page.name} block {index} ran over {BLOCK_TIMEOUT} s:\n{code}")
    assert result.returncode == 0, f"{page.name} block {index} failed:\n{code}\n{result.stderr[-3000:]}"


def test_every_page_the_readme_links_exists() -> None:
    targets = [t for t in LINK.findall((ROOT / "README.md").read_text()) if t.startswith("docs/")]
    assert "docs/testing.md" in [t.split("#")[0] for t in targets]
    missing = [t for t in targets if not (ROOT / t.split("#")[0]).exists()]
    assert missing == []


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", page.read_text()), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_relative_link_in_the_docs_resolves() -> None:
    assert "the-synthetic-distortions" in _anchors(ROOT / "docs" / "training.md")
    broken = []
    for page in PAGES:
        for target in LINK.findall(FENCE.sub("", page.read_text())):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto: not checked offline
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_the_readme_test_command_is_what_ci_runs_and_the_readme_is_short() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    command = "pip install -r requirements-dev.txt && python -m pytest -q"
    assert command in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install --quiet -r requirements-dev.txt" in ci and re.search(r"^python -m pytest -q\b", ci, re.M)


#: A ``qualiclip.*`` dotted name in the text (a module, or a module's attribute); not one in quotes, which is
#: a string such as an ONNX file's metadata key ("qualiclip.weights_sha256").
DOTTED = re.compile(r"(?<![\"'])\bqualiclip(?:\.[A-Za-z_]\w*)+")
#: A repository path in the text: a tracked top-level folder, then more (``../`` from docs/ allowed).
REPO_PATH = re.compile(r"(?<![\w./~$-])(?:\.\./)*((?:\.ci|qualiclip|tests|benchmarks|docs)/[\w./-]*[\w/])")
#: Files the pages name as ``name.py`` etc. in backticks, without a folder.
BARE_FILE = re.compile(r"`([\w-]+\.(?:py|md|txt|toml|json|cff|ini|sh))`")
#: Paths the pages name that are made by the commands they show, not tracked.
MADE_BY_COMMANDS = {"artifacts"}


def _resolves(dotted: str) -> bool:
    """Whether ``dotted`` is an importable module, or an attribute (chain) of one."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def _tracked() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


def test_every_qualiclip_name_the_docs_use_exists() -> None:
    """``qualiclip.x.y`` in README.md and docs/ is a module or an attribute of one: a rename shows here."""
    named = {name for page in PAGES for name in DOTTED.findall(page.read_text())}
    named = {name for name in named if not name.endswith((".pth", ".onnx"))}  # file names such as qualiclip.pth
    assert len(named) >= 20, "the pattern still finds the names"
    assert sorted(name for name in named if not _resolves(name)) == []


def test_every_repository_path_the_docs_name_exists() -> None:
    """Paths (``qualiclip/studio/layout.py``, ``benchmarks/results_file.publish``) and bare file names
    (`` `layout.py` ``) in README.md and docs/ name files or folders that git tracks."""
    tracked = _tracked()
    folders = {str(folder) for file in tracked for folder in Path(file).parents}
    basenames = {Path(file).name for file in tracked}
    missing = []
    for page in PAGES:
        text = page.read_text()
        for path in set(REPO_PATH.findall(text)):
            path = path.rstrip("/")
            module = path.rsplit(".", 1)[0] + ".py"  # benchmarks/results_file.publish: an attribute of a module
            if path not in tracked and path not in folders and module not in tracked:
                missing.append(f"{page.name}: {path}")
        missing += [f"{page.name}: {name}" for name in set(BARE_FILE.findall(text)) if name not in basenames]
    assert sorted(missing) == []


def test_the_readme_lists_the_apps_tabs(tiny_studio) -> None:
    """README.md's "Tabs: A, B, ...;" is the app's tabs, in order."""
    import gradio as gr

    from qualiclip.studio.layout import build_demo

    listed = re.search(r"Tabs: ([^;]+);", (ROOT / "README.md").read_text()).group(1)
    demo = build_demo(tiny_studio)
    tabs = [block.label for block in demo.blocks.values() if isinstance(block, gr.Tab)]
    assert [name.strip() for name in listed.split(",")] == tabs
