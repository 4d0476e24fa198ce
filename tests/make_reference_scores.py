"""Write tests/data/reference_scores.json: the scores the library gave before the scoring API was
renamed and restructured (issue 22), for tests/test_library_api.py to compare against, within the rounding
that another CPU's kernels cause.

Run once, on the commit before that refactor (its hash is stored in the file), from the repository root:
``python -m tests.make_reference_scores``. :func:`compute` uses only calls that existed then and still do
(``load_model``, ``score``, ``as_module``), so the test runs the very same calls on today's code. Models:
a tiny random checkpoint (official formula), the same checkpoint with a random QualiCLIP+ prompt file
(pyiqa's formula), and the bundled offline model; images: the app's example photos (capped at 96 px for
the tiny models); one torch thread, so the summation order does not depend on the thread count (the
kernels, chosen by the CPU's instruction set, still round differently from machine to machine).
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "reference_scores.json"
#: The reference models by name, with the max_side they score at (None: native size).
CASES = {"tiny": 96, "tiny-qualiclip-plus": 96, "qualiclip-offline": None}


def compute(folder: Path) -> dict[str, object]:
    """Every reference number, from models built in ``folder``, on one torch thread."""
    from qualiclip import load_model
    from qualiclip.imaging import prepare
    from qualiclip.studio import EXAMPLES_DIR
    from qualiclip.tiny import make_random_checkpoint, make_random_prompt_learner

    images = sorted(EXAMPLES_DIR.glob("*.jpg"))
    checkpoint = make_random_checkpoint(folder / "tiny.pth", seed=0)
    learner = make_random_prompt_learner(folder / "tiny-plus.pth", checkpoint, seed=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        models = {
            "tiny": load_model("qualiclip", checkpoint, device="cpu", max_side=CASES["tiny"]),
            "tiny-qualiclip-plus": load_model("qualiclip+", checkpoint, prompt_learner=learner, device="cpu",
                                              max_side=CASES["tiny-qualiclip-plus"]),
            "qualiclip-offline": load_model("qualiclip-offline", device="cpu"),
        }
        results: dict[str, object] = {"images": [p.name for p in images], "models": {}}
        for name, model in models.items():
            scored = model.score(images, batch_size=1)
            with torch.no_grad():
                module_scores = [float(model.as_module()(prepare(p, model.max_side).pixels[None])[0])
                                 for p in images]
            results["models"][name] = {
                "max_side": CASES[name],
                "logit_scale": float(model.logit_scale),
                "score": [r.score for r in scored],
                "pair_probabilities": [list(r.pair_probabilities) for r in scored],
                "similarities": [list(r.similarities) for r in scored],
                "module_score": module_scores,
            }
        return results
    finally:
        torch.set_num_threads(threads)


def main() -> None:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        results = {"commit": commit, **compute(Path(tmp))}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {OUT} (commit {commit})")


if __name__ == "__main__":
    main()
