"""Do the "bad" maps point at the damage? Pointing game and deletion curves on pasted distortions.

For every photo (scikit-image: astronaut, coffee, chelsea, rocket, motorcycle; scikit-learn's
sample images), every quadrant and every distortion type, the quadrant is replaced by a strongly
degraded copy (``qualiclip.degradations`` at ``--level``) and the image is explained:

* pointing game: a hit when the "bad" map's argmax lies in the damaged quadrant; also the share
  of the map's mass inside it (chance: 0.25). An empty "bad" map counts as a miss.
* deletion curve: the image is cut into a ``--grid`` x ``--grid`` grid and cells are restored
  from the clean photo one at a time, most "bad" first vs. in random order; the score change
  after k cells is averaged over all cases. A faithful map recovers the score faster (larger area).

The default model is the bundled offline one (no download); ``--model qualiclip`` or
``--weights FILE`` evaluates others. Usage:

    python -m benchmarks.faithfulness [--model M | --weights FILE] [--method gradcam] \
        [--plot deletion.png] [--update-results]
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import cv2
import numpy as np
from skimage import data
from sklearn.datasets import load_sample_images

from benchmarks.results_file import publish
from qualiclip.explain import METHODS, TARGET_KINDS, explain
from qualiclip import MODELS, QualityScorer, load_model
from qualiclip.degradations import MAX_LEVEL, apply_degradation, degradation_names

SECTION = "## Explanation faithfulness (benchmarks/faithfulness.py)"

SKIMAGE_PHOTOS = {
    "astronaut": data.astronaut,
    "coffee": data.coffee,
    "chelsea": data.chelsea,
    "rocket": data.rocket,
    "motorcycle_left": lambda: data.stereo_motorcycle()[0],
}
QUADRANTS = ("top-left", "top-right", "bottom-left", "bottom-right")
Region = tuple[slice, slice]


@dataclass(frozen=True)
class Case:
    """Result of one (photo, quadrant, distortion) case."""

    distortion: str
    hit: bool
    mass_share: float
    empty: bool
    score_drop: float
    bad_first: np.ndarray  # score change after restoring k cells, k = 0..grid**2
    random_order: np.ndarray


def load_photos(longest: int) -> dict[str, np.ndarray]:
    """The test photos as float32 RGB in [0, 1], longer side ``longest``."""
    photos = {name: load() for name, load in SKIMAGE_PHOTOS.items()}
    sample = load_sample_images()
    photos.update({Path(path).stem: image for path, image in zip(sample.filenames, sample.images)})
    return {name: _resized(image[..., :3], longest) for name, image in photos.items()}


def _resized(image: np.ndarray, longest: int) -> np.ndarray:
    scale = longest / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def grid_cells(shape: tuple[int, ...], grid: int) -> list[Region]:
    """Row-major cells of a ``grid`` x ``grid`` split of an HxW area (proportional, so any size works)."""
    rows = np.linspace(0, shape[0], grid + 1).round().astype(int)
    cols = np.linspace(0, shape[1], grid + 1).round().astype(int)
    return [(slice(rows[i], rows[i + 1]), slice(cols[j], cols[j + 1])) for i in range(grid) for j in range(grid)]


def quadrant(shape: tuple[int, ...], index: int) -> Region:
    """Quadrant ``index`` (see QUADRANTS) of an HxW area."""
    return grid_cells(shape, 2)[index]


def paste_distortion(clean: np.ndarray, name: str, level: int, index: int, seed: int) -> np.ndarray:
    """``clean`` with quadrant ``index`` taken from a fully degraded copy (context-aware blur etc.)."""
    degraded = apply_degradation(clean, name, level, seed)
    result = clean.copy()
    region = quadrant(clean.shape, index)
    result[region] = degraded[region]
    return result


def pointing(bad: np.ndarray, index: int) -> tuple[bool, float]:
    """(argmax inside quadrant ``index``, share of the map's mass inside it)."""
    region = quadrant(bad.shape, index)
    inside = np.zeros(bad.shape, bool)
    inside[region] = True
    total = float(bad.sum())
    hit = bool(inside.flat[int(np.argmax(bad))]) and total > 0
    return hit, float(bad[inside].sum()) / total if total > 0 else 0.0


def deletion_curve(model: QualityScorer, clean: np.ndarray, distorted: np.ndarray, order: np.ndarray,
                   grid: int) -> np.ndarray:
    """Score change after restoring the first k cells of ``order`` from ``clean``, k = 0..grid**2."""
    cells = grid_cells(clean.shape, grid)
    steps = [distorted.copy()]
    for cell in order:
        restored = steps[-1].copy()
        restored[cells[cell]] = clean[cells[cell]]
        steps.append(restored)
    scores = np.array([result.score for result in model.score(steps)])
    return scores - scores[0]


def run_case(model: QualityScorer, clean: np.ndarray, distortion: str, index: int, args: argparse.Namespace,
             rng: np.random.Generator) -> Case:
    """Explain one pasted distortion and measure pointing and deletion."""
    distorted = paste_distortion(clean, distortion, args.level, index, seed=int(rng.integers(2**31)))
    result = explain(model, distorted, method=args.method, target=args.target)
    bad = result.negative.values
    hit, share = pointing(bad, index)
    cell_badness = np.array([bad[cell].mean() for cell in grid_cells(bad.shape, args.grid)])
    bad_first = deletion_curve(model, clean, distorted, np.argsort(-cell_badness, kind="stable"), args.grid)
    random_order = np.mean([
        deletion_curve(model, clean, distorted, rng.permutation(args.grid ** 2), args.grid)
        for _ in range(args.random_orders)
    ], axis=0)
    [clean_score] = model.score([clean])
    return Case(distortion, hit, share, result.negative.empty, clean_score.score - result.score,
                bad_first, random_order)


def tables(cases: list[Case], grid: int) -> str:
    """Markdown: pointing game per distortion and overall; mean deletion curves."""
    lines = ["| distortion | cases | argmax hit rate | mean mass share (chance 0.25) | empty bad maps "
             "| mean score drop |", "|---|---:|---:|---:|---:|---:|"]
    for name in [*dict.fromkeys(case.distortion for case in cases), "all"]:
        group = [case for case in cases if name in ("all", case.distortion)]
        lines.append(f"| {name} | {len(group)} | {np.mean([c.hit for c in group]):.2f} | "
                     f"{np.mean([c.mass_share for c in group]):.3f} | {sum(c.empty for c in group)} | "
                     f"{np.mean([c.score_drop for c in group]):+.4f} |")
    bad_first, random_order = _mean_curves(cases)
    lines += ["", f"Deletion (restoration) curve, {grid}x{grid} cells: mean score change after restoring k cells",
              "", "| k | most bad first | random order |", "|---:|---:|---:|"]
    lines += [f"| {k} | {a:+.4f} | {b:+.4f} |" for k, (a, b) in enumerate(zip(bad_first, random_order))]
    lines.append(f"| area (mean over k) | {bad_first.mean():+.4f} | {random_order.mean():+.4f} |")
    return "\n".join(lines) + "\n"


def _mean_curves(cases: list[Case]) -> tuple[np.ndarray, np.ndarray]:
    return np.mean([c.bad_first for c in cases], axis=0), np.mean([c.random_order for c in cases], axis=0)


def save_plot(cases: list[Case], path: Path, title: str) -> None:
    """PNG of the two mean deletion curves."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    bad_first, random_order = _mean_curves(cases)
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(bad_first, marker="o", label='most "bad" cells first')
    axes.plot(random_order, marker="s", label="random order")
    axes.set(xlabel="cells restored from the clean photo", ylabel="score change", title=title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qualiclip-offline", choices=sorted(MODELS),
                        help="named model (default: the bundled offline model, available without internet)")
    parser.add_argument("--weights", type=Path, help="checkpoint file replacing the named model's own weights")
    parser.add_argument("--method", default="gradcam", choices=METHODS)
    parser.add_argument("--target", default="score", choices=TARGET_KINDS)
    parser.add_argument("--distortions", nargs="+", default=["gaussian_blur", "white_noise"], metavar="NAME",
                        choices=degradation_names())
    parser.add_argument("--level", type=int, default=MAX_LEVEL, choices=range(1, MAX_LEVEL + 1))
    parser.add_argument("--longest", type=int, default=512, help="photos are resized to this longer side")
    parser.add_argument("--max-side", type=int, help="the model's max_side (maps follow the scored size)")
    parser.add_argument("--grid", type=int, default=4)
    parser.add_argument("--random-orders", type=int, default=3)
    parser.add_argument("--images", nargs="+", help="subset of photo names")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, help="write the deletion curves as a PNG")
    parser.add_argument("--update-results", action="store_true", help=f"rewrite '{SECTION}' in RESULTS.md")
    args = parser.parse_args()

    model = load_model(args.model, weights=args.weights, max_side=args.max_side)
    photos = load_photos(args.longest)
    rng = np.random.default_rng(args.seed)
    cases = []
    for name in args.images or photos:
        for distortion in args.distortions:
            for index, where in enumerate(QUADRANTS):
                case = run_case(model, photos[name], distortion, index, args, rng)
                print(f"{name:16s} {distortion:14s} {where:12s} hit={case.hit!s:5s} share={case.mass_share:.2f}",
                      flush=True)
                cases.append(case)
    summary = (f"Measured {date.today()}: model {model.description}; method {args.method}, target {args.target}; "
               f"level-{args.level} distortion pasted into one quadrant of {len(args.images or photos)} photos "
               f"(longer side {args.longest} px); a hit = the argmax of the \"bad\" map lies in that quadrant.\n\n")
    report = summary + tables(cases, args.grid)
    publish(SECTION, report, args.update_results)
    if args.plot:
        save_plot(cases, args.plot, f"{args.method} ({args.target}) on {model.name}")
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
