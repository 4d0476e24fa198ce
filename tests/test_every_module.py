"""The fast tier touches every module: each module under ``qualiclip/`` imports (so a module no fast test
reaches still fails the fast tier when it no longer imports); the slow tier imports them all again in a
fresh interpreter, where an import cycle hidden by an earlier import shows, and the benchmarks after them."""
from __future__ import annotations

import importlib
import json
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


def benchmark_modules() -> list[str]:
    return sorted(f"benchmarks.{path.stem}" for path in (ROOT / "benchmarks").glob("*.py") if path.stem != "__init__")


@pytest.fixture(scope="module")
def imported_in_a_fresh_interpreter() -> dict[str, int]:
    """How many of the library's modules, then of the benchmarks', one new interpreter imported: from the
    checkout, without PYTHONPATH (as a contributor runs ``python -m benchmarks.x``), library first so that
    no earlier import hides a cycle in it."""
    script = ("import importlib, json, sys\nlibrary, benchmarks = json.loads(sys.argv[1])\ncounts = {}\n"
              "for group, names in (('library', library), ('benchmarks', benchmarks)):\n"
              "    counts[group] = len([importlib.import_module(name) for name in names])\n"
              "print(json.dumps(counts))")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    argument = json.dumps([library_modules(), benchmark_modules()])
    result = subprocess.run([sys.executable, "-c", script, argument], cwd=ROOT, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.slow  # a new interpreter imports torch, gradio, Ray and open_clip again: about 16 s here
def test_every_module_imports_in_a_fresh_interpreter(imported_in_a_fresh_interpreter: dict[str, int]) -> None:
    """Where no earlier import has run first, so an import cycle or an undeclared order shows."""
    assert imported_in_a_fresh_interpreter["library"] == len(library_modules())


@pytest.mark.slow  # the same new interpreter, after the library
def test_benchmarks_import_as_modules_of_the_checkout(imported_in_a_fresh_interpreter: dict[str, int]) -> None:
    assert "benchmarks.bench_score" in benchmark_modules()
    assert imported_in_a_fresh_interpreter["benchmarks"] == len(benchmark_modules())
