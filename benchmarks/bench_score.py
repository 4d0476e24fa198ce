"""Speed of QualiCLIP scoring: our path vs. the plain reference path, per image size (CPU or CUDA).

CPU (default): for each size, one process times both paths with their calls interleaved (so drift
of this shared machine hits both alike), and one process per path measures peak memory (RSS above
the loaded model) cleanly. The RN50 has random weights: speed does not depend on their values.

CUDA (``--device cuda``): images/s at 512x384 and 1024x768 for batch sizes 1..64 and peak GPU
memory, for the plain official-style path (fp16 autocast, NCHW), ours (fp16 autocast, channels-last,
inference mode) and, with ``--compile``, ours with the image tower compiled by ``torch.compile``.
On a machine without CUDA it says so and exits 0.

ONNX Runtime and bf16 (``--onnx``, CPU): at 768x512, in one process with the calls interleaved, the bare
ONNX Runtime trunk forward, the ONNX Runtime score path (``backend="onnxruntime"``), today's torch path,
the torch trunk in both memory formats and bf16 autocast (``precision="bf16"``), each with its GFLOP/s
against the CPU's fp32 limit and its error against fp32 torch; then what bf16 costs on the example photos.

    python -m benchmarks.bench_score [--runs 7] [--device cpu|cuda] [--compile] [--onnx] [--update-results]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime
import torch
from PIL import Image
from skimage import data
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.results_file import publish, targets_line
from qualiclip import QualityScorer, load_model
from qualiclip.architecture import tower_trunk
from qualiclip.constants import OFFICIAL_ARCH
from qualiclip.explain import explain
from qualiclip.formula import quality_from_features
from qualiclip.imaging import normalize
from qualiclip.model_registry import OFFLINE_MODEL
from qualiclip.onnx.backend import open_session
from qualiclip.onnx.export import ScoreGraph
from qualiclip.studio import EXAMPLES_DIR
from qualiclip.tiny import make_random_checkpoint

#: The checkout, where the worker processes run (``python -m benchmarks.bench_score``).
ROOT = Path(__file__).resolve().parents[1]
SIZES = [(512, 384), (1024, 768), (1920, 1080)]
MAX_SIDES = [512, 640, 768, 896, 1024]
TARGET_SECONDS = 1.0
SECTION = "## Scoring speed (benchmarks/bench_score.py)"
CUDA_SECTION = "## Scoring speed on CUDA (benchmarks/bench_score.py --device cuda)"
CUDA_SIZES = [(512, 384), (1024, 768)]
CUDA_BATCHES = [1, 2, 4, 8, 16, 32, 64]
ONNX_SECTION = "## ONNX Runtime, bf16 and the CPU's limit (benchmarks/bench_score.py --onnx)"
#: The size of issue 29's table (width, height).
ONNX_SIZE = (768, 512)
#: This machine kind's fp32 limit in GFLOP/s (../shared/cpu-limit-facts.md: ONNX Runtime's RN50 trunk
#: at 768x512 on 2 threads); the run also measures a matmul's rate, which stays below it.
CPU_LIMIT_GFLOPS = 216.0
#: Issue 29's speed targets: the ONNX Runtime score path within this factor of its bare trunk forward...
ONNX_OVERHEAD_TARGET = 1.1
#: ...and at least this much faster than today's torch path.
ONNX_SPEEDUP_TARGET = 1.25
#: Issue 29's app target (upload -> score + maps <= 0.8x of today's), here for the library's part of it.
UPLOAD_TARGET = 0.8
#: Why pyiqa's own QualiCLIP is not timed here (issue 29 asks for it).
PYIQA_NOT_RUN = ("pyiqa 0.1.16's own QualiCLIP is not timed: its wheel downloads, but running it needs its "
                 "dependencies (transformers 5, bitsandbytes, facexlib, datasets, openai-clip, ...) and weights "
                 "it downloads from GitHub and Hugging Face at construction, which this offline machine cannot "
                 "fetch, so no number is given for that target.")


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


def scoring_path(weights: str, path: str, image: torch.Tensor) -> Callable[[], torch.Tensor]:
    """A loaded model's scoring call: ``ours`` (the library) or the plain ``reference`` forward."""
    model = load_model(weights=weights, device="cpu")
    if path == "ours":
        return lambda: model.score_batch(image)[0]
    model.clip.visual.to(memory_format=torch.contiguous_format)

    def reference() -> torch.Tensor:
        with torch.no_grad():
            features = torch.nn.functional.normalize(model.clip.encode_image(normalize(image)), dim=-1)
            return quality_from_features(features, model.prompt_features, model.logit_scale)[0]
    return reference


def interleaved(calls: dict[str, Callable[[], torch.Tensor]],
                runs: int) -> tuple[dict[str, torch.Tensor], dict[str, list[float]]]:
    """Each call's warm-up result and its seconds over ``runs`` rounds, every round calling each once in
    turn, so drift of this shared machine hits them alike."""
    results = {name: call() for name, call in calls.items()}
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return results, times


def time_worker(weights: str, width: int, height: int, runs: int, paths: list[str]) -> dict:
    """Median seconds per path, the paths' calls interleaved so machine drift hits them alike."""
    image = photo(width, height)
    calls = {path: scoring_path(weights, path, image) for path in paths}
    results, times = interleaved(calls, runs)
    scores = {path: float(result[0]) for path, result in results.items()}
    with FlopCounterMode(display=False) as counter:
        calls[paths[0]]()
    return {"seconds": {path: statistics.median(t) for path, t in times.items()}, "scores": scores,
            "flops": counter.get_total_flops(), "ceiling": matmul_ceiling_gflops()}


def memory_worker(weights: str, width: int, height: int, path: str) -> dict:
    """Peak memory (MB above the loaded model) of a first scoring call, alone in a process."""
    call = scoring_path(weights, path, photo(width, height))
    baseline = reset_peak_rss()
    call()
    return {"peak_mb": peak_rss_mb() - baseline}


def matmul_ceiling_gflops(n: int = 4096, runs: int = 5) -> float:
    """The machine's own float32 ceiling: GFLOP/s of a large matmul on all torch threads."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    seconds, _ = timed(lambda: a @ b, runs)
    return 2 * n**3 / seconds / 1e9


def in_subprocess(*args: object) -> dict:
    """Run this script's worker mode with ``args`` in a fresh process; its JSON answer."""
    command = [sys.executable, "-m", "benchmarks.bench_score", "--worker", *map(str, args)]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def cuda_paths(weights: str, compiled: bool) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    """Scoring calls on CUDA: the official-style plain path, ours, and ours compiled (if asked)."""
    ours = load_model(weights=weights, device="cuda")
    plain = load_model(weights=weights, device="cuda")
    plain.clip.visual.to(memory_format=torch.contiguous_format)

    def official_style(batch: torch.Tensor) -> torch.Tensor:
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16):
            features = plain.clip.encode_image(normalize(batch.cuda()))
        return quality_from_features(torch.nn.functional.normalize(features.float(), dim=-1),
                                     plain.prompt_features, plain.logit_scale)[0]

    paths = {"official-style (fp16, NCHW)": official_style,
             "ours (fp16, channels-last)": lambda batch: ours.score_batch(batch)[0]}
    if compiled:
        fast = load_model(weights=weights, device="cuda")
        fast.clip.visual = torch.compile(fast.clip.visual)
        paths["ours + torch.compile"] = lambda batch: fast.score_batch(batch)[0]
    return paths


def cuda_table(weights: str, runs: int, compiled: bool) -> list[str]:
    """Markdown rows: images/s and peak GPU memory per size, batch size and path."""
    paths = cuda_paths(weights, compiled)
    rows = ["| size | batch | " + " | ".join(f"{name} img/s" for name in paths) + " | peak GiB (per path) |",
            "|---|---:|" + "---:|" * len(paths) + "---|"]
    for width, height in CUDA_SIZES:
        for batch_size in CUDA_BATCHES:
            batch = photo(width, height).repeat(batch_size, 1, 1, 1).pin_memory()
            rates, peaks = [], []
            for call in paths.values():
                call(batch)  # warm-up (and compilation for this shape)
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                times = []
                for _ in range(runs):
                    start = time.perf_counter()
                    call(batch)
                    torch.cuda.synchronize()
                    times.append(time.perf_counter() - start)
                rates.append(batch_size / statistics.median(times))
                peaks.append(torch.cuda.max_memory_allocated() / 2**30)
            rows.append(f"| {width}x{height} | {batch_size} | " + " | ".join(f"{rate:.0f}" for rate in rates)
                        + " | " + " / ".join(f"{peak:.2f}" for peak in peaks) + " |")
            print(rows[-1], flush=True)
    return rows


def cuda_main(runs: int, compiled: bool, update: bool) -> None:
    """The ``--device cuda`` report; says so and returns when CUDA is not available."""
    if not torch.cuda.is_available():
        print("CUDA is not available on this machine: nothing measured (run this where a GPU is).")
        return
    with tempfile.TemporaryDirectory() as tmp:
        weights = make_random_checkpoint(Path(tmp) / "rn50.pth", arch=OFFICIAL_ARCH, seed=0)
        rows = cuda_table(str(weights), runs, compiled)
    lines = [f"Measured {date.today()} on {torch.cuda.get_device_name()} with torch "
             f"{torch.__version__}: RN50 ({OFFICIAL_ARCH}) with random weights, median of {runs} timed runs "
             "after a warm-up, images already in pinned host memory (the copy to the GPU is timed).", "", *rows]
    publish(CUDA_SECTION, "\n".join(lines) + "\n", update)


def relative_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    """||value - reference|| / ||reference||, in float64."""
    value, reference = value.double(), reference.double()
    return float((value - reference).norm() / reference.norm())


#: The rows of the re-measured table that time the trunk and today's torch rows (the references).
TODAY_TRUNK = "torch fp32 trunk, channels-last (today's)"
TODAY_SCORE = "torch score path (today's, fp32)"
BF16_SCORE = "torch bf16 score path (--precision bf16)"
ONNX_SCORE = "ONNX Runtime score path (--backend onnxruntime)"


def onnx_calls(weights: str, image: torch.Tensor, folder: Path) -> dict[str, Callable[[], torch.Tensor]]:
    """Issue 29's paths on one image, each returning the trunk (trunk rows) or the (1,) score (score rows)."""
    ours = load_model(weights=weights, device="cpu")
    onnx_model = load_model(weights=weights, backend="onnxruntime")
    bf16 = load_model(weights=weights, device="cpu", precision="bf16")
    contiguous = load_model(weights=weights, device="cpu").clip.visual.to(memory_format=torch.contiguous_format)
    model_input = normalize(image)
    trunk_file = folder / "trunk.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        # .eval(): the exporter restores the module's mode afterwards, and must not leave BatchNorm training
        torch.onnx.export(_Trunk(ours.clip.visual).eval(), (model_input,), str(trunk_file), input_names=["x"],
                          output_names=["trunk"], dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}},
                          opset_version=17, dynamo=False)
    session, array = open_session(trunk_file), model_input.numpy()

    def torch_trunk(visual: torch.nn.Module, memory_format: torch.memory_format) -> Callable[[], torch.Tensor]:
        batch = model_input.contiguous(memory_format=memory_format)
        return lambda: _no_grad(lambda: tower_trunk(visual, batch))

    return {
        "torch fp32 trunk, contiguous": torch_trunk(contiguous, torch.contiguous_format),
        TODAY_TRUNK: torch_trunk(ours.clip.visual, torch.channels_last),
        "ONNX Runtime fp32 trunk, bare": lambda: torch.from_numpy(session.run(None, {"x": array})[0]),
        TODAY_SCORE: lambda: ours.score_batch(image).scores,
        ONNX_SCORE: lambda: onnx_model.score_batch(image).scores,
        BF16_SCORE: lambda: bf16.score_batch(image).scores,
        "torch score + both Grad-CAM maps (an app upload)": lambda: upload(ours, image),
        "ONNX Runtime score + both Grad-CAM maps (an app upload)": lambda: upload(onnx_model, image),
        "(bf16 trunk, not timed)": lambda: bf16.trunk(image).float(),
    }


def upload(model: QualityScorer, image: torch.Tensor) -> torch.Tensor:
    """What the app does for an upload, in the library: one trunk pass, the score from it, both Grad-CAM
    maps from it (with the ONNX Runtime backend the trunk is ONNX Runtime's, the pool's backward torch's)."""
    prepared = model.prepare(image[0])
    trunk = model.trunk(prepared.pixels[None])
    scores = model.score_trunk(trunk).scores
    explain(model, prepared, method="gradcam", trunk=trunk)
    return scores


class _Trunk(torch.nn.Module):
    """The image tower up to its pool, as a module (what the bare ONNX Runtime trunk runs)."""

    def __init__(self, visual: torch.nn.Module) -> None:
        super().__init__()
        self.visual = visual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return tower_trunk(self.visual, x)


def _no_grad(call: Callable[[], torch.Tensor]) -> torch.Tensor:
    with torch.inference_mode():
        return call()


def onnx_table(weights: str, runs: int, folder: Path) -> tuple[list[str], list[tuple[str, bool]]]:
    """Rows of issue 29's table re-measured, and its speed targets."""
    width, height = ONNX_SIZE
    image = photo(width, height)
    calls = onnx_calls(weights, image, folder)
    bf16_trunk = calls.pop("(bf16 trunk, not timed)")()
    results, times = interleaved(calls, runs)
    flops = {}
    graph = ScoreGraph(load_model(weights=weights, device="cpu").as_module())
    for name, call in ((TODAY_TRUNK, calls[TODAY_TRUNK]), (TODAY_SCORE, calls[TODAY_SCORE]),
                       (ONNX_SCORE, lambda: _no_grad(lambda: graph(image)))):
        with FlopCounterMode(display=False) as counter:
            call()
        flops[name] = counter.get_total_flops() / 1e9
    ceiling = matmul_ceiling_gflops()
    today = statistics.median(times[TODAY_SCORE])
    rows = ["| path | GFLOP | min s | median s | vs today's torch score path (median) | GFLOP/s (median) | "
            f"of the {CPU_LIMIT_GFLOPS:.0f} GFLOP/s limit | of this run's matmul rate | error vs fp32 torch |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, seconds in times.items():
        trunk_row = "trunk" in name
        # the exported graph pools the mean token only; the upload rows count the torch score's FLOPs
        gflop = flops[TODAY_TRUNK if trunk_row else ONNX_SCORE if name == ONNX_SCORE else TODAY_SCORE]
        median = statistics.median(seconds)
        if "today's" in name:
            error = "-"
        elif trunk_row:
            error = f"{relative_error(results[name], results[TODAY_TRUNK]):.1e} relative (trunk)"
        else:
            error = f"{float((results[name] - results[TODAY_SCORE]).abs().max()):.1e} (score)"
        if name == BF16_SCORE:
            error += f"; trunk {relative_error(bf16_trunk, results[TODAY_TRUNK]):.1e} relative"
        rows.append(f"| {name} | {gflop:.1f} | {min(seconds):.3f} | {median:.3f} | {today / median:.2f}x | "
                    f"{gflop / median:.0f} | {gflop / median / CPU_LIMIT_GFLOPS:.0%} | {gflop / median / ceiling:.0%} "
                    f"| {error} |")
        print(rows[-1], flush=True)
    rows += ["", f"A 4096x4096 float32 matmul in the same process, after the paths: {ceiling:.0f} GFLOP/s."]
    # Judged on the fastest run of each path: on a shared machine it is the least disturbed one (medians shown too).
    onnx_score, onnx_trunk, torch_score = (times[name] for name in (
        ONNX_SCORE, "ONNX Runtime fp32 trunk, bare", TODAY_SCORE))

    def ratio(slow: list[float], fast: list[float]) -> str:
        return f"min {min(slow) / min(fast):.2f}x, median {statistics.median(slow) / statistics.median(fast):.2f}x"

    targets = [(f"ONNX Runtime score path within {ONNX_OVERHEAD_TARGET}x of the bare trunk "
                f"({ratio(onnx_score, onnx_trunk)})", min(onnx_score) <= ONNX_OVERHEAD_TARGET * min(onnx_trunk)),
               (f"ONNX Runtime score path >= {ONNX_SPEEDUP_TARGET}x faster than today's torch path "
                f"({ratio(torch_score, onnx_score)})", min(torch_score) >= ONNX_SPEEDUP_TARGET * min(onnx_score))]
    onnx_upload, torch_upload = (times[f"{backend} score + both Grad-CAM maps (an app upload)"]
                                 for backend in ("ONNX Runtime", "torch"))
    targets.append((f"an upload's score and maps with ONNX Runtime <= {UPLOAD_TARGET}x of torch's, in the library "
                    f"({ratio(onnx_upload, torch_upload)})", min(onnx_upload) <= UPLOAD_TARGET * min(torch_upload)))
    return rows, targets


def bf16_photo_rows(weights: str) -> list[str]:
    """What bf16 costs on the example photos (native size): |bf16 - fp32| score per model and photo."""
    photos = sorted(EXAMPLES_DIR.glob("*.jpg"))
    models = {f"random {OFFICIAL_ARCH}": dict(weights=weights), OFFLINE_MODEL: dict(model=OFFLINE_MODEL)}
    rows = ["| model | " + " | ".join(path.name for path in photos) + " | largest |",
            "|---|" + "---:|" * (len(photos) + 1)]
    for label, source in models.items():
        full = load_model(**source, device="cpu").score(photos, batch_size=1)
        reduced = load_model(**source, device="cpu", precision="bf16").score(photos, batch_size=1)
        gaps = [abs(a.score - b.score) for a, b in zip(full, reduced)]
        rows.append(f"| {label} | " + " | ".join(f"{gap:.1e}" for gap in gaps) + f" | **{max(gaps):.1e}** |")
        print(rows[-1], flush=True)
    return rows


def onnx_main(runs: int, update: bool) -> None:
    """The ``--onnx`` report: issue 29's table re-measured, the targets, bf16's error on the example photos."""
    torch.set_num_threads(2)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TORCH_HOME"] = tmp  # the backend's cached export of these random weights goes here
        weights = str(make_random_checkpoint(Path(tmp) / "rn50.pth", arch=OFFICIAL_ARCH, seed=0))
        rows, targets = onnx_table(weights, runs, Path(tmp))
        bf16_rows = bf16_photo_rows(weights)
    after = os.getloadavg()[0]
    width, height = ONNX_SIZE
    lines = [f"Measured {date.today()} with torch {torch.__version__} and ONNX Runtime {onnxruntime.__version__}, "
             f"on a CPU whose widest instructions torch uses are {torch.backends.cpu.get_cpu_capability()}, "
             f"2 threads, RN50 ({OFFICIAL_ARCH}) with random weights, one {width}x{height} photo, {runs} timed runs "
             "after one warm-up, every path's calls interleaved in one process (drift hits them alike; on this "
             f"shared machine compare ratios). 1-minute load average {before:.1f} before, {after:.1f} after "
             "(2 cores; other developers' jobs ran too). Trunk rows: the image tower up to its attention pool "
             "on a normalised image; score rows: the whole score from a unit-range image (the exported graph "
             "pools the mean token only, hence its fewer GFLOP). GFLOP counted by torch's FlopCounterMode.", "",
             *rows, "", targets_line(targets), "", PYIQA_NOT_RUN, "",
             "bf16 (`--precision bf16`, opt-in, never the default): |bf16 - fp32| score on "
             "`qualiclip/studio/examples/*.jpg` at native size. The official weights cannot be downloaded "
             "here, so the figures are for random RN50 weights and the bundled trained tiny model:", "",
             *bf16_rows]
    publish(ONNX_SECTION, "\n".join(lines) + "\n", update)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--compile", action="store_true", help="CUDA: also time the torch.compile'd tower")
    parser.add_argument("--onnx", action="store_true", help="CPU: ONNX Runtime, bf16 and the CPU's limit (issue 29)")
    parser.add_argument("--update-results", action="store_true", help="rewrite this benchmark's RESULTS.md section")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.device == "cuda":
        cuda_main(args.runs, args.compile, args.update_results)
        return
    if args.onnx:
        onnx_main(args.runs, args.update_results)
        return
    if args.worker:
        mode, weights, width, height, *rest = args.worker
        width, height = int(width), int(height)
        if mode == "time":
            print(json.dumps(time_worker(weights, width, height, int(rest[0]), rest[1:])))
        else:
            print(json.dumps(memory_worker(weights, width, height, rest[0])))
        return

    lines = [f"Measured {date.today()} with torch {torch.__version__}, {torch.get_num_threads()} threads, "
             f"RN50 ({OFFICIAL_ARCH}) with random weights, {args.runs} timed runs after one warm-up, the two "
             f"paths interleaved in one process (drift hits both alike), followed in that process by the "
             f"machine's own ceiling (a 4096x4096 float32 matmul); peak memory per path in its own process.", "",
             "| size | GFLOP | reference ms | ours ms | speed-up | ours GFLOP/s | ceiling GFLOP/s | of ceiling "
             "| peak MB (ref / ours) | score diff |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        weights = make_random_checkpoint(Path(tmp) / "rn50.pth", arch=OFFICIAL_ARCH, seed=0)
        for width, height in SIZES:
            timing = in_subprocess("time", weights, width, height, args.runs, "reference", "ours")
            ref, ours = timing["seconds"]["reference"], timing["seconds"]["ours"]
            peaks = [in_subprocess("memory", weights, width, height, path)["peak_mb"] for path in ("reference", "ours")]
            gflop, ceiling = timing["flops"] / 1e9, timing["ceiling"]
            lines.append(
                f"| {width}x{height} | {gflop:.1f} | {ref * 1e3:.0f} | {ours * 1e3:.0f} | {ref / ours:.2f}x | "
                f"{gflop / ours:.0f} | {ceiling:.0f} | {gflop / ours / ceiling:.0%} | {peaks[0]:.0f} / {peaks[1]:.0f} | "
                f"{abs(timing['scores']['reference'] - timing['scores']['ours']):.1e} |")
            print(lines[-1], flush=True)
        lines += ["", "Longer side capped with `max_side` (4:3 image, our path), to choose the app's CPU default:", "",
                  "| max_side | size | ours ms |", "|---|---|---|"]
        capped = {}
        for side in MAX_SIDES:
            width, height = side, side * 3 // 4
            capped[side] = in_subprocess("time", weights, width, height, args.runs, "ours")["seconds"]["ours"]
            lines.append(f"| {side} | {width}x{height} | {capped[side] * 1e3:.0f} |")
            print(lines[-1], flush=True)
        within = [side for side, seconds in capped.items() if seconds <= TARGET_SECONDS]
        lines += ["", f"Largest cap scoring within {TARGET_SECONDS:.0f} s here: "
                  f"**{max(within) if within else 'none'}** (the app uses 768 on CPU, because every upload "
                  "also computes both Grad-CAM maps, about 1.2x a score)."]
    publish(SECTION, "\n".join(lines) + "\n", args.update_results)


if __name__ == "__main__":
    main()
