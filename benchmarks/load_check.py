"""Load check of the app as a public Space: server memory and latency under hostile and mixed traffic.

Starts ``app.py`` in a subprocess (the production entry point) on RN50-sized random weights in the
official format, samples the server process's resident memory every 10 ms, and runs three loads
through gradio_client, each after the server has settled:

1. four concurrent requests with a 6000x6000 JPEG, one on each of four model endpoints;
2. 20 concurrent mixed requests (score, heatmaps, robustness, compare) with 12 MP (4000x3000) photos;
3. 100 sequential mixed requests after those, for memory growth (leaks).

For each: errors, p50/p95 latency (submission to result, queueing included) and the server's peak
RSS rise over its resident size just before the load; for the sequential run also the growth from
its first to its last request. Exits non-zero when a target of the issue is missed.

    python -m benchmarks.load_check [--arch RN50-quickgelu | --weights PATH] [--sequential 100] [--update-results]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from gradio_client import Client, handle_file
from PIL import Image

from benchmarks.app_process import start_app, stop
from benchmarks.results_file import publish, targets_line
from qualiclip.tiny import make_random_checkpoint
from qualiclip.studio import EXAMPLES_DIR
from tests.app_server import free_port

ROOT = Path(__file__).resolve().parents[1]

SECTION = "## App load check (benchmarks/load_check.py)"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.jpg"))
#: The issue's targets: peak RSS rise (MB) of the 6000x6000 and the 12 MP runs; growth (MB) over the sequential run.
TARGET_HUGE_MB, TARGET_MIXED_MB, TARGET_GROWTH_MB = 1536, 2048, 50
MB = 1024 * 1024


class RssSampler:
    """Samples a process's resident set size every ``interval`` s; ``peak_since(mark)`` after a mark."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.status = Path(f"/proc/{pid}/status")
        self.interval, self.peak, self.running = interval, 0, True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def rss(self) -> int:
        for line in self.status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS line")

    def _run(self) -> None:
        while self.running:
            try:
                self.peak = max(self.peak, self.rss())
            except (OSError, RuntimeError):
                return
            time.sleep(self.interval)

    def mark(self) -> int:
        """Start a new peak from now; returns the current RSS."""
        current = self.rss()
        self.peak = current
        return current

    def stop(self) -> None:
        self.running = False
        self.thread.join()


@dataclass
class Run:
    """One load: what was sent, latencies, errors, memory."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rss_before: int = 0
    rss_peak: int = 0
    rss_after: int = 0

    @property
    def peak_rise_mb(self) -> float:
        return (self.rss_peak - self.rss_before) / MB

    def row(self) -> str:
        p50, p95 = percentile(self.latencies, 50), percentile(self.latencies, 95)
        return (f"| {self.name} | {len(self.latencies) + len(self.errors)} | {len(self.errors)} | {p50:.2f} | "
                f"{p95:.2f} | {self.rss_before / MB:,.0f} | {self.peak_rise_mb:+,.0f} | "
                f"{(self.rss_after - self.rss_before) / MB:+,.0f} |")


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def photo(path: Path, size: tuple[int, int], source: Path) -> Path:
    """A natural-looking JPEG of ``size``: an example photo upscaled (bicubic), quality 90."""
    Image.open(source).convert("RGB").resize(size, Image.Resampling.BICUBIC).save(path, quality=90)
    return path


ENDPOINTS = {
    "/score": (),
    "/heatmaps": ("gradcam", -1, 0.5),
    "/robustness": ("gaussian_blur", 3),
    "/compare": (),
}


def submit(client: Client, endpoint: str, image: Path) -> Future:
    return client.submit(handle_file(str(image)), *ENDPOINTS[endpoint], api_name=endpoint)


def concurrent(client: Client, sampler: RssSampler, name: str, jobs: list[tuple[str, Path]]) -> Run:
    """Submit every job at once and wait for all."""
    time.sleep(2.0)  # let the server settle
    run = Run(name, rss_before=sampler.mark())
    started, finished, futures = {}, {}, []
    for index, (endpoint, image) in enumerate(jobs):
        started[index] = time.perf_counter()
        futures.append(submit(client, endpoint, image))
        futures[-1].add_done_callback(lambda _, index=index: finished.setdefault(index, time.perf_counter()))
    for index, future in enumerate(futures):
        try:
            future.result(timeout=900)
            run.latencies.append(finished.setdefault(index, time.perf_counter()) - started[index])
        except Exception as err:  # every failure counts, whatever it is
            run.errors.append(f"{jobs[index][0]}: {type(err).__name__}: {err}")
    run.rss_peak, run.rss_after = sampler.peak, sampler.rss()
    return run


def sequential(client: Client, sampler: RssSampler, jobs: list[tuple[str, Path]]) -> tuple[Run, list[float]]:
    """One request after the other; also returns the RSS (MB) after each request."""
    time.sleep(2.0)
    run = Run(f"{len(jobs)} sequential, mixed", rss_before=sampler.mark())
    after: list[float] = []
    for endpoint, image in jobs:
        started = time.perf_counter()
        try:
            submit(client, endpoint, image).result(timeout=900)
            run.latencies.append(time.perf_counter() - started)
        except Exception as err:
            run.errors.append(f"{endpoint}: {type(err).__name__}: {err}")
        after.append(sampler.rss() / MB)
    run.rss_peak, run.rss_after = sampler.peak, sampler.rss()
    return run, after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    models = parser.add_mutually_exclusive_group()
    models.add_argument("--arch", default="RN50-quickgelu", help="random checkpoint of this architecture")
    models.add_argument("--weights", help="start the app on this checkpoint instead")
    parser.add_argument("--sequential", type=int, default=100, help="requests in the sequential run")
    parser.add_argument("--update-results", action="store_true", help=f"rewrite '{SECTION}' in RESULTS.md")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qualiclip_load_"))
    weights = Path(args.weights) if args.weights else make_random_checkpoint(work / "random.pth", arch=args.arch)
    huge = photo(work / "huge_6000x6000.jpg", (6000, 6000), EXAMPLES[0])
    twelve = [photo(work / f"photo12mp_{i}.jpg", (4000, 3000), source) for i, source in enumerate(EXAMPLES)]
    endpoints = list(ENDPOINTS)
    port = free_port()
    server, _ = start_app(ROOT, port, weights)
    sampler = RssSampler(server.pid)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        for endpoint in endpoints:  # warm-up: every endpoint once, on a small photo
            submit(client, endpoint, EXAMPLES[0]).result(timeout=300)
        idle = sampler.rss()
        runs = [
            concurrent(client, sampler, "4 concurrent, 6000x6000 JPEG, 4 endpoints",
                       [(endpoint, huge) for endpoint in endpoints]),
            concurrent(client, sampler, "20 concurrent, 12 MP photos, mixed",
                       [(endpoints[i % 4], twelve[i % len(twelve)]) for i in range(20)]),
        ]
        steady, series = sequential(client, sampler, [(endpoints[i % 4], twelve[i % len(twelve)])
                                                      for i in range(args.sequential)])
        runs.append(steady)
        growth = series[-1] - series[0]
        checkpoints = sorted({1, *range(10, len(series) + 1, 10)})
    finally:
        sampler.stop()
        stop(server)
    checks = [
        (f"6000x6000 peak rise <= {TARGET_HUGE_MB} MB", runs[0].peak_rise_mb <= TARGET_HUGE_MB),
        (f"12 MP mixed: 0 errors, peak rise <= {TARGET_MIXED_MB} MB",
         not runs[1].errors and runs[1].peak_rise_mb <= TARGET_MIXED_MB),
        (f"sequential growth <= {TARGET_GROWTH_MB} MB ({growth:+.1f} MB)", growth <= TARGET_GROWTH_MB),
        ("no errors at all", not any(run.errors for run in runs)),
    ]
    lines = [
        f"Measured {date.today().isoformat()} on {os.cpu_count()} cores: `python app.py` in a subprocess on "
        f"{'`' + Path(args.weights).name + '`' if args.weights else 'random `' + args.arch + '` weights'} in the "
        f"official format, CPU (max_side 768), one model queue of 2; requests through gradio_client; "
        f"server RSS sampled every 10 ms. Idle RSS after warm-up: {idle / MB:,.0f} MB.",
        "",
        "| load | requests | errors | p50 (s) | p95 (s) | RSS before (MB) | peak rise (MB) | after - before (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *[run.row() for run in runs],
        "",
        f"Sequential run: RSS growth from after its first request to after its last: **{growth:+.1f} MB**; "
        "RSS (MB) after request " + ", ".join(f"{i}: {series[i - 1]:,.0f}" for i in checkpoints) + ".",
        "",
        targets_line(checks),
        f"Load average at the end: {os.getloadavg()[0]:.1f} (other work shared the machine's cores).",
    ]
    for run in runs:
        lines += [f"- error in '{run.name}': {error}" for error in run.errors[:5]]
    publish(SECTION, "\n".join(lines) + "\n", args.update_results)
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
