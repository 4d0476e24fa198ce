"""CPU speed of one QualiCLIP score: our path vs. the plain reference path, per image size.

Each (size, path) runs in its own process so that peak memory (max RSS above the loaded model)
is measured cleanly. The RN50 has random weights: speed does not depend on their values.

    python benchmarks/bench_score.py [--runs 7] [--update-results]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage import data
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import replace_section  # noqa: E402
from qualiclip import load_model  # noqa: E402
from qualiclip.architecture import OFFICIAL_ARCH  # noqa: E402
from qualiclip.imaging import normalize  # noqa: E402
from qualiclip.scoring import quality_from_features  # noqa: E402
from qualiclip.tiny import make_random_checkpoint  # noqa: E402

SIZES = [(512, 384), (1024, 768), (1920, 1080)]
MAX_SIDES = [512, 640, 768, 896, 1024]
TARGET_SECONDS = 1.0
SECTION = "## Scoring speed (benchmarks/bench_score.py)"


def photo(width: int, height: int) -> torch.Tensor:
    """A natural photograph resized to width x height, as a (1, 3, H, W) unit-range tensor."""
    img = Image.fromarray(data.astronaut()).resize((width, height), Image.Resampling.LANCZOS)
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    raise KeyError(field)


def reset_peak_rss() -> float:
    """Reset the kernel's peak-RSS mark (Linux clear_refs) and return the current RSS in MB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    return _status_mb("VmHWM")


def timed(fn, runs: int) -> tuple[float, torch.Tensor]:
    """Median seconds of ``fn()`` over ``runs`` calls after one warm-up, and its last result."""
    result = fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def worker(weights: str, width: int, height: int, path: str, runs: int) -> dict:
    """Measure one path at one size; printed as JSON for the parent."""
    model = load_model(weights=weights, device="cpu")
    image = photo(width, height)
    if path == "ours":
        def run() -> torch.Tensor:
            return model.score_batch(image)[0]
    else:
        model.clip.visual.to(memory_format=torch.contiguous_format)

        def run() -> torch.Tensor:
            with torch.no_grad():
                features = torch.nn.functional.normalize(model.clip.encode_image(normalize(image)), dim=-1)
                return quality_from_features(features, model.prompt_features, model.logit_scale)[0]
    baseline = reset_peak_rss()
    seconds, scores = timed(run, runs)
    peak = peak_rss_mb() - baseline
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.clip.encode_image(model.to_model_input(image))
    return {"seconds": seconds, "peak_mb": peak, "flops": counter.get_total_flops(), "score": float(scores[0])}


def matmul_ceiling_gflops(n: int = 4096, runs: int = 5) -> float:
    """The machine's own float32 ceiling: GFLOP/s of a large matmul on all torch threads."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    seconds, _ = timed(lambda: a @ b, runs)
    return 2 * n**3 / seconds / 1e9


def measure(weights: Path, width: int, height: int, path: str, runs: int) -> dict:
    command = [sys.executable, __file__, "--worker", str(weights), str(width), str(height), path, str(runs)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--update-results", action="store_true", help=f"rewrite '{SECTION}' in RESULTS.md")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        weights, width, height, path, runs = args.worker
        print(json.dumps(worker(weights, int(width), int(height), path, int(runs))))
        return

    ceiling = matmul_ceiling_gflops()
    lines = [SECTION, "", f"Measured {date.today()} with torch {torch.__version__}, {torch.get_num_threads()} threads, "
             f"RN50 ({OFFICIAL_ARCH}) with random weights, {args.runs} timed runs after one warm-up. "
             f"Machine ceiling (4096x4096 float32 matmul): {ceiling:.0f} GFLOP/s.", "",
             "| size | GFLOP | reference ms | ours ms | speed-up | ours GFLOP/s | of ceiling | peak MB (ref / ours) | score diff |",
             "|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        weights = make_random_checkpoint(Path(tmp) / "rn50.pth", arch=OFFICIAL_ARCH, seed=0)
        for width, height in SIZES:
            ref = measure(weights, width, height, "reference", args.runs)
            ours = measure(weights, width, height, "ours", args.runs)
            gflop = ours["flops"] / 1e9
            lines.append(
                f"| {width}x{height} | {gflop:.1f} | {ref['seconds'] * 1e3:.0f} | {ours['seconds'] * 1e3:.0f} | "
                f"{ref['seconds'] / ours['seconds']:.2f}x | {gflop / ours['seconds']:.0f} | "
                f"{gflop / ours['seconds'] / ceiling:.0%} | {ref['peak_mb']:.0f} / {ours['peak_mb']:.0f} | "
                f"{abs(ref['score'] - ours['score']):.1e} |")
            print(lines[-1], flush=True)
        lines += ["", "Longer side capped with `max_side` (4:3 image, our path), to choose the app's CPU default:", "",
                  "| max_side | size | ours ms |", "|---|---|---|"]
        capped = {}
        for side in MAX_SIDES:
            width, height = side, side * 3 // 4
            capped[side] = measure(weights, width, height, "ours", args.runs)["seconds"]
            lines.append(f"| {side} | {width}x{height} | {capped[side] * 1e3:.0f} |")
            print(lines[-1], flush=True)
        within = [side for side, seconds in capped.items() if seconds <= TARGET_SECONDS]
        lines += ["", f"Largest cap scoring within {TARGET_SECONDS:.0f} s here: "
                  f"**{max(within) if within else 'none'}** (the app uses 768 on CPU, because every upload "
                  "also computes both Grad-CAM maps, about 1.2x a score)."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.update_results:
        replace_section(SECTION, text)


if __name__ == "__main__":
    main()
