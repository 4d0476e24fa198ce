"""How much each distortion changes a held-out photo, before and after the ARNIQA-faithful rewrite.

For every type and level 1..5 it prints the mean absolute difference to the pristine image (x 1000,
values in [0, 1]) of the OLD implementation (``qualiclip/degradations`` at commit ``--old``, loaded
from git into a temporary package) and of the NEW one (the working tree), as a markdown table.
The photo is the held-out ``skimage.data.chelsea()`` (451x300), every call seeded with 0.
With ``--update-results`` it also rewrites its own section of benchmarks/RESULTS.md.

Usage: python -m benchmarks.distortion_changes [--old 52305a7] [--update-results]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Mapping

import numpy as np
from skimage import data

from benchmarks.results_file import publish
from qualiclip.degradations import DEGRADATIONS, MAX_LEVEL

ROOT = Path(__file__).resolve().parents[1]

SECTION = "## Distortions: before/after ARNIQA-faithful operations (benchmarks/distortion_changes.py)"
PACKAGE_DIR = "qualiclip/degradations"


def load_old(commit: str, into: Path) -> ModuleType:
    """Import ``qualiclip/degradations`` as it was at ``commit`` as a standalone package under ``into``."""
    package = f"old_degradations_{commit}"
    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{commit}:{PACKAGE_DIR}"],
                           check=True, capture_output=True, text=True).stdout.split()
    (into / package).mkdir()
    for name in names:
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{PACKAGE_DIR}/{name}"],
                                check=True, capture_output=True, text=True).stdout
        (into / package / name).write_text(source)
    spec = importlib.util.spec_from_file_location(package, into / package / "__init__.py",
                                                  submodule_search_locations=[str(into / package)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module  # its own relative imports resolve through this entry
    spec.loader.exec_module(module)
    return module


def changes(registry: Mapping, image: np.ndarray) -> dict[str, list[float]]:
    """Type -> mean |degraded - pristine| x 1000 at levels 1..5 (seed 0)."""
    return {name: [1000.0 * float(np.abs(spec(image, level, np.random.default_rng(0)) - image).mean())
                   for level in range(1, MAX_LEVEL + 1)]
            for name, spec in registry.items()}


def render(old: dict[str, list[float]], new: dict[str, list[float]], commit: str) -> str:
    """Markdown report: one row per type, each level as 'old / new'."""
    lines = [
        f"Mean |degraded - pristine| x 1000 on the held-out `skimage.data.chelsea()` (451x300, float32 in "
        f"[0, 1], seed 0), each cell OLD (commit {commit}) / NEW (ARNIQA-faithful).",
        "",
        "| type | L1 | L2 | L3 | L4 | L5 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in new:
        before = old.get(name, [float("nan")] * MAX_LEVEL)
        cells = " | ".join(f"{a:.1f} / {b:.1f}" for a, b in zip(before, new[name]))
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="52305a7", help="commit of the old implementation")
    parser.add_argument("--update-results", action="store_true", help="rewrite this section of RESULTS.md")
    args = parser.parse_args()
    image = data.chelsea().astype(np.float32) / 255.0
    with tempfile.TemporaryDirectory() as tmp:
        old = changes(load_old(args.old, Path(tmp)).DEGRADATIONS, image)
    report = render(old, changes(DEGRADATIONS, image), args.old)
    publish(SECTION, report, args.update_results)


if __name__ == "__main__":
    main()
