"""The fast tier touches every module: each module under ``qualiclip/`` imports (so a module no fast test
reaches still fails the fast tier when it no longer imports); the slow tier imports them all again in a
fresh interpreter, where an import cycle hidden by an earlier import shows."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def library_modules() -> list[str]:
    """Every ``.py`` file under ``qualiclip/`` as a dotted name; ``__main__`` modules are left out (importing
    one runs it: ``python -m qualiclip`` is run by tests/test_cli.py, ``python -m qualiclip.studio`` serves)."""
    names = []
    for path in sorted((ROOT / "qualiclip").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_the_walk_finds_every_layer() -> None:
    modules = library_modules()
    files = [p for p in (ROOT / "qualiclip").rglob("*.py") if p.name != "__main__.py"]
    assert len(modules) == len(set(modules)) == len(files)
    assert {"qualiclip", "qualiclip.explain.gradcam", "qualiclip.studio.layout", "qualiclip.collection.ray_engine",
            "qualiclip.training.distributed", "qualiclip.studio.examples.make_examples"} <= set(modules)


def test_every_module_imports() -> None:
    """In this process (cheap: most are loaded already by other tests), so the fast tier reaches them all."""
    for name in library_modules():
        importlib.import_module(name)
    assert set(library_modules()) <= set(sys.modules)


@pytest.mark.slow  # a new interpreter imports torch, gradio, Ray and open_clip again: about 16 s here
def test_every_module_imports_in_a_fresh_interpreter() -> None:
    """Where no earlier import has run first, so an import cycle or an undeclared order shows."""
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\nprint(len(sys.argv) - 1)"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", script, *library_modules()], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[-1]) == len(library_modules())
