"""A worker timing the app's own handlers (no HTTP) in any checkout: an upload's score, then its heatmaps.

    PYTHONPATH=CHECKOUT python benchmarks/app_handlers.py WEIGHTS

``benchmarks/bench_app.py --baseline`` runs one for this checkout and one for the baseline, and asks
them in turn, so both are timed on one machine at one time. Like ``python app.py`` it first tunes the
process's allocator for serving (without it torch's large buffers are fresh mmaps, zeroed page by page,
and a torch forward is markedly slower), then loads the app's models from CHECKOUT's code (first on the path)
(``load_studio(WEIGHTS)``; on a CPU it waits until a model that switches to ONNX Runtime has switched),
and uses only what every checkout's app has (``tune_for_serving``, ``Callbacks.score_image`` and
``Callbacks.explain_image``). Each line read from stdin is a photo's path; the line written back is the
seconds that photo's score then Grad-CAM maps (all pairs) took. "ready" is written once loaded.
"""
from __future__ import annotations

import sys
import time


def main(weights: str) -> None:
    from qualiclip.studio.allocator import tune_for_serving
    from qualiclip.studio.callbacks import Callbacks
    from qualiclip.studio.model_slots import load_studio

    tune_for_serving()
    handlers = Callbacks(load_studio(weights))
    while getattr(handlers.model, "session", True) is None:  # switching to ONNX Runtime (its export is cached)
        time.sleep(0.05)
    print("ready", flush=True)
    for line in sys.stdin:
        started = time.perf_counter()
        handlers.score_image(line.strip())
        handlers.explain_image(line.strip(), "gradcam", -1, 0.5)
        print(time.perf_counter() - started, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
