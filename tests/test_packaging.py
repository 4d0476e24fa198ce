"""The package: ``pip install .`` in a fresh environment works from anywhere, the base install needs no
extra, the dependency lists agree, and nothing patches ``sys.path``."""
from __future__ import annotations

import ast
import importlib
import json
import os
import re
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from qualiclip import load_model
from qualiclip.studio import EXAMPLES_DIR

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = EXAMPLES_DIR / "coffee.jpg"
#: What ``pip install .`` needs from the checkout: the project file, its readme and licence, and the one package.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "qualiclip")
#: Top-level modules only the extras bring (app, train, scale, test).
EXTRAS_ONLY = ("gradio", "gradio_client", "pytorch_grad_cam", "pandas", "matplotlib", "skimage", "sklearn",
               "ray", "pyarrow", "playwright", "pytest", "onnx", "onnxruntime")


def _clean_env() -> dict[str, str]:
    """This environment without PYTHONPATH, so a child sees only what is installed."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def _site_dirs() -> list[str]:
    """The running interpreter's site-packages folders: a venv's own (and its base's only when it was
    made with ``--system-site-packages``), or the base interpreter's when not run from a venv."""
    dirs = site.getsitepackages()
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        dirs.append(site.getusersitepackages())
    return dirs


def _nested_venv(path: Path) -> Path:
    """A new virtual environment that sees exactly the running interpreter's installed packages (not
    the checkout, not a base interpreter's that this one does not see): it is made without system site
    packages, and a ``.pth`` file adds this interpreter's site folders after its own, with their own
    ``.pth`` files processed. Returns its python."""
    venv.create(path, system_site_packages=False, with_pip=False)
    python = path / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True, env=_clean_env()).stdout.strip()
    lines = "".join(f"import site; site.addsitedir({folder!r})\n" for folder in _site_dirs())
    (Path(purelib) / "_outer_site_packages.pth").write_text(lines)
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment (seeing this interpreter's packages) with the project pip-installed, offline,
    from a copy of the checkout (a build writes into its source tree; the checkout stays untouched)."""
    root = tmp_path_factory.mktemp("install")
    (root / "src").mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, root / "src" / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, root / "src" / name)
    python = _nested_venv(root / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", str(root / "src")], check=True, env=_clean_env(), cwd=root,
                   capture_output=True, text=True)
    return root / "venv"


@pytest.mark.slow  # a pip install
def test_installed_command_scores_from_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    command = installed / "bin" / "qualiclip"
    usage = subprocess.run([str(command), "--help"], cwd=tmp_path, env=_clean_env(), capture_output=True,
                           text=True, check=True).stdout
    assert usage.startswith("usage: qualiclip ") and "score" in usage and "eval-synthetic" in usage
    result = subprocess.run([str(command), "score", str(EXAMPLE), "--model", "qualiclip-offline", "--device", "cpu",
                             "--json"], cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, check=True)
    assert f"model: qualiclip-offline ({installed}" in result.stderr, "the bundled weights come from the install"
    [record] = json.loads(result.stdout)
    [expected] = load_model("qualiclip-offline", device="cpu").score([EXAMPLE])
    assert record["score"] == pytest.approx(expected.score, abs=1e-6)


@pytest.mark.slow  # a pip install
def test_installed_packages_and_data_come_from_the_install(installed: Path, tmp_path: Path) -> None:
    script = ("import json, qualiclip, qualiclip.explain, qualiclip.studio.serve, importlib.resources as r; "
              "w = r.files('qualiclip') / 'weights'; "
              "print(json.dumps([qualiclip.__file__, qualiclip.explain.__file__, qualiclip.studio.serve.__file__, "
              "(w / 'MODEL_CARD.md').is_file(), (r.files('qualiclip') / 'model_configs' / 'qualiclip-tiny.json').is_file()]))")
    out = subprocess.run([str(installed / "bin" / "python"), "-c", script], cwd=tmp_path, env=_clean_env(),
                         capture_output=True, text=True, check=True).stdout
    *files, card, config = json.loads(out)
    assert all(Path(file).is_relative_to(installed) for file in files), files
    assert card and config
    assert (installed / "bin" / "qualiclip-studio").is_file()


@pytest.mark.slow
def test_the_installed_distribution_has_the_licence_and_the_version(installed: Path, tmp_path: Path) -> None:
    """The wheel ships LICENSE (pyproject's license-files) and its version is qualiclip.__version__."""
    import qualiclip

    script = ("import importlib.metadata as m, json, qualiclip; d = m.distribution('qualiclip-studio'); "
              "print(json.dumps([d.version, qualiclip.__version__, d.metadata['License-Expression'], "
              "[str(f) for f in d.files if f.name == 'LICENSE'], d.read_text('licenses/LICENSE')[:11]]))")
    out = subprocess.run([str(installed / "bin" / "python"), "-c", script], cwd=tmp_path, env=_clean_env(),
                         capture_output=True, text=True, check=True).stdout
    version, attribute, expression, files, text = json.loads(out)
    assert version == attribute == qualiclip.__version__ and expression == "MIT"
    assert files and text == "MIT License"


@pytest.mark.slow  # fresh Python processes importing torch, or several models
def test_library_and_score_command_need_no_extra(tmp_path: Path) -> None:
    """With every extra's modules made unimportable, the library, the hub module and ``score`` still work,
    and the commands that plot say which extra they need."""
    script = f"""
import sys
sys.modules.update(dict.fromkeys({EXTRAS_ONLY!r}))  # None: imports fail as for a package not installed
from qualiclip.cli import main
from qualiclip.hub import load_module
from qualiclip.optional import import_optional
from qualiclip.errors import MissingDependencyError
import qualiclip.training, qualiclip.evaluation, qualiclip.degradations
assert main(["score", {str(EXAMPLE)!r}, "--model", "qualiclip-offline", "--device", "cpu", "--json"]) == 0
load_module("qualiclip-offline")
try:
    import_optional("qualiclip.training.plots", "train")
except MissingDependencyError as error:
    print("MISSING", error)
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=_clean_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "\"score\":" in result.stdout
    assert "MISSING qualiclip.training.plots needs the package 'matplotlib'" in result.stdout
    assert "pip install 'qualiclip-studio[train]'" in result.stdout


def _requirement_names(lines: list[str]) -> set[str]:
    names = set()
    for line in lines:
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def test_requirements_files_agree_with_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    pinned = [*(ROOT / "requirements.txt").read_text().splitlines(),
              *(ROOT / "requirements-dev.txt").read_text().splitlines()]
    assert _requirement_names(pinned) <= _requirement_names(declared), _requirement_names(pinned) - _requirement_names(declared)
    gradio = [r.split("#")[0].strip() for r in declared if r.startswith(("gradio==", "gradio["))]
    assert gradio and all(pin in (ROOT / "requirements.txt").read_text() for pin in gradio)
    for target in project["scripts"].values():
        module, _, function = target.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), target
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    missing = [f"{package}: {pattern}" for package, patterns in data.items() for pattern in patterns
               if not list((ROOT / package.replace(".", "/")).glob(pattern))]
    assert missing == []


def _changes_sys_path(node: ast.AST) -> bool:
    """``sys.path.insert(...)``/``append``/``extend``/``remove``, or an assignment to ``sys.path``."""
    def is_sys_path(value: ast.AST) -> bool:
        return (isinstance(value, ast.Attribute) and value.attr == "path" and isinstance(value.value, ast.Name)
                and value.value.id == "sys")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return is_sys_path(node.func.value) and node.func.attr in {"insert", "append", "extend", "remove"}
    if isinstance(node, (ast.Assign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(is_sys_path(t) or (isinstance(t, ast.Subscript) and is_sys_path(t.value)) for t in targets)
    return False


def test_nothing_patches_sys_path() -> None:
    assert _changes_sys_path(ast.parse("sys.path.insert(0, ROOT)").body[0].value)  # the check can fail
    files = [path for path in ROOT.rglob("*.py") if ".git" not in path.parts]
    offenders = [str(path.relative_to(ROOT)) for path in files
                 if any(_changes_sys_path(node) for node in ast.walk(ast.parse(path.read_text())))]
    assert offenders == []
