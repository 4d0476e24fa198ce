"""A first visit: click an example photo -> its score and heatmaps on the page, with the examples' results
computed in the background after start-up (the default) and without (``QUALICLIP_STUDIO_EXAMPLE_RESULTS=0``).

``python app.py`` runs on a random ResNet-50 checkpoint (the official model's cost) on the CPU, started
once per variant, variants interleaved over ``--runs``. A visitor arrives ``--arrive`` seconds after the
server answers (time to read the page), then clicks each example once in a fresh page of a real browser
(Playwright + Debian's Chromium); the time runs from the click to the score shown and the "towards good"
heatmap's caption written. Median per variant over every click of every run.

    python -m benchmarks.bench_first_visit [--runs 2] [--arrive 30] [--update-results]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.app_process import start_app, stop
from benchmarks.results_file import publish, targets_line
from qualiclip.studio.main_image import EXAMPLES
from qualiclip.studio.page_text import example_label
from qualiclip.studio.serve import EXAMPLE_RESULTS_ENV
from qualiclip.tiny import make_random_checkpoint
from tests.app_server import free_port
from tests.browser import CHROMIUM, DESKTOP, LAUNCH_ARGS, open_page

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## First visit: click an example -> score and heatmaps"
VARIANTS = {"computed ahead (default)": "1", "not computed ahead": "0"}


def clicks(browser, url: str) -> list[float]:
    """Seconds from a click on each example to its score and heatmap caption, one fresh page per example."""
    times = []
    for example in EXAMPLES:
        page = open_page(browser, url, DESKTOP, timeout_ms=300_000)
        started = time.perf_counter()
        page.get_by_text(example_label(example, False), exact=True).click()
        page.locator("#score-gauge .qc-gauge").wait_for()
        page.locator("#good-caption", has_text="Towards good").wait_for()
        times.append(time.perf_counter() - started)
        page.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="start-ups of each variant, interleaved")
    parser.add_argument("--arrive", type=float, default=30.0, help="seconds between start-up and the first click")
    parser.add_argument("--arch", default="RN50-quickgelu")
    parser.add_argument("--update-results", action="store_true", help=f"rewrite '{SECTION}' in RESULTS.md")
    args = parser.parse_args()
    weights = make_random_checkpoint(Path(tempfile.mkdtemp(prefix="qualiclip_first_visit_")) / "random.pth",
                                     arch=args.arch)
    measured: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        for run in range(args.runs):
            for name, flag in VARIANTS.items():
                port = free_port()
                server, _ = start_app(ROOT, port, weights, {EXAMPLE_RESULTS_ENV: flag})
                try:
                    time.sleep(args.arrive)
                    measured[name] += clicks(browser, f"http://127.0.0.1:{port}/")
                finally:
                    stop(server)
                print(f"run {run + 1}, {name}: {[round(t, 2) for t in measured[name][-len(EXAMPLES):]]}")
        browser.close()
    ahead, cold = (statistics.median(measured[name]) for name in VARIANTS)
    load = os.getloadavg()[0]
    lines = [f"`python -m benchmarks.bench_first_visit --runs {args.runs} --arrive {args.arrive:g}`: `python app.py` "
             f"on a random {args.arch} checkpoint, CPU ({os.cpu_count()} cores, load average {load:.1f} at the end); "
             f"{len(EXAMPLES)} examples clicked once each per start-up, {args.runs} start-ups per variant, "
             "interleaved.",
             "", "| examples' results | click -> score and heatmaps, median | slowest |", "|---|---|---|"]
    lines += [f"| {name} | {statistics.median(times):.2f} s | {max(times):.2f} s |" for name, times in measured.items()]
    lines += ["", f"Computed ahead, a click is {cold / ahead:.1f}x faster; what remains is Gradio's round trip "
                  "(the example's upload, the queued call, the pictures' encoding and download), no model call "
                  "(counted by tests/test_app_report_training.py).",
              "", targets_line([(f"the examples' results ready before the first click (median {ahead:.2f} s against "
                                 f"{cold:.2f} s computed on the click)", ahead < cold)])]
    publish(SECTION, "\n".join(lines), args.update_results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
