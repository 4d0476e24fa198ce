"""Agreement of this project's scores with the official formula and with pyiqa's, on the same weights.

One random RN50 checkpoint (``make_random_checkpoint(arch="RN50-quickgelu", seed=0)``, its CLIP
``logit_scale`` set to ln 100: OpenAI's RN50 holds that value and QualiCLIP trains only the image
tower, so the official weights most likely hold it too) scores the app's example photos (``qualiclip/studio/examples/*.jpg``) at native
resolution, on CPU in float32:

- **official**: the official hubconf's forward written out plainly (torchvision ToTensor + Normalize,
  ``encode_image`` on NCHW float32, ``100 * f @ P.T``, softmax per pair, mean). Its fp16 autocast
  applies on CUDA only, and this machine has none, so fp16 is not measured here;
- **pyiqa**: pyiqa's formula written out (``z = exp(logit_scale) / 2 * cos``, ``e^z+ / (e^z+ + e^z-)``,
  float32);
- **ours**: ``load_model(weights=...).score(...)`` with the official formula (the default) and with
  ``formula="pyiqa"`` (``--formula pyiqa``);
- **converted**: pyiqa's score computed from ours' official *pair probabilities* alone: with
  ``logit_scale = ln 100`` every pair's pyiqa logit is half the official one, ``p' = sigmoid(logit(p) / 2)``.

Usage: python -m benchmarks.formula_agreement [--update-results]
"""
from __future__ import annotations

import argparse
import math
import tempfile
from datetime import date
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision.transforms as transforms
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from PIL import Image
from scipy.stats import spearmanr

from benchmarks.results_file import publish
from qualiclip import load_model
from qualiclip.constants import OFFICIAL_ARCH
from qualiclip.loading import load_clip
from qualiclip.studio import EXAMPLES_DIR
from qualiclip.tiny import make_random_checkpoint

SECTION = "## Agreement with the official formula and pyiqa's (benchmarks/formula_agreement.py)"
ROOT = Path(__file__).resolve().parents[1]
PHOTOS = sorted(EXAMPLES_DIR.glob("*.jpg"))
OPENAI_LOG_SCALE = math.log(100.0)


def random_rn50(folder: Path) -> Path:
    """The random RN50 checkpoint, with OpenAI's logit scale (ln 100) in place of the random init's."""
    path = make_random_checkpoint(folder / "rn50.pth", arch=OFFICIAL_ARCH, seed=0)
    raw = torch.load(path, weights_only=True)
    raw["clip_model.logit_scale"] = torch.tensor(OPENAI_LOG_SCALE)
    torch.save(raw, path)
    return path


def reference_scores(weights: Path) -> dict[str, tuple[float, float]]:
    """Photo -> (official, pyiqa) scores, each formula written out on a plain float32 forward."""
    clip, checkpoint = load_clip(weights)
    prompts = F.normalize(checkpoint.prompt_features, dim=-1)
    preprocess = transforms.Compose([transforms.ToTensor(),
                                     transforms.Normalize(OPENAI_DATASET_MEAN, OPENAI_DATASET_STD)])
    results = {}
    with torch.no_grad():
        for path in PHOTOS:
            image = preprocess(Image.open(path).convert("RGB"))[None]
            cosines = F.normalize(clip.encode_image(image), dim=-1) @ prompts.T
            official = (100.0 * cosines).view(1, -1, 2).softmax(dim=-1)[..., 0].mean()
            z = (clip.logit_scale.exp() / 2 * cosines).view(1, -1, 2)
            pyiqa = (z[..., 0].exp() / (z[..., 0].exp() + z[..., 1].exp())).mean()
            results[path.name] = (float(official), float(pyiqa))
    return results


def halved_logit(probabilities: tuple[float, ...]) -> float:
    """pyiqa's score from the official pair probabilities when ``exp(logit_scale) = 100``."""
    return sum(1.0 / (1.0 + math.exp(-math.log(p / (1.0 - p)) / 2)) for p in probabilities) / len(probabilities)


def measure() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        weights = random_rn50(Path(tmp))
        reference = reference_scores(weights)
        ours = load_model(weights=weights, device="cpu").score(PHOTOS)
        ours_pyiqa = load_model(weights=weights, device="cpu", formula="pyiqa").score(PHOTOS)
    rows, gaps = [], {"official": [], "pyiqa": [], "converted": [], "formulas": []}
    for path, mine, mine_pyiqa in zip(PHOTOS, ours, ours_pyiqa):
        official, pyiqa = reference[path.name]
        converted = halved_logit(mine.pair_probabilities)
        gaps["official"].append(abs(mine.score - official))
        gaps["pyiqa"].append(abs(mine_pyiqa.score - pyiqa))
        gaps["converted"].append(abs(converted - pyiqa))
        gaps["formulas"].append(abs(official - pyiqa))
        width, height = Image.open(path).size
        rows.append(f"| {path.name} | {width}x{height} | {mine.score:.6f} | {official:.6f} | "
                    f"{abs(mine.score - official):.1e} | {mine_pyiqa.score:.6f} | {pyiqa:.6f} | "
                    f"{abs(mine_pyiqa.score - pyiqa):.1e} | {converted:.6f} | {official - pyiqa:+.4f} |")
    officials, pyiqas = zip(*(reference[path.name] for path in PHOTOS))
    header = ("| photo | size | ours | official | \\|ours - official\\| | ours, `--formula pyiqa` | pyiqa | "
              "\\|ours - pyiqa\\| | converted | official - pyiqa |\n|---|---|---|---|---|---|---|---|---|---|")
    return "\n".join([
        f"Measured {date.today().isoformat()} on CPU (float32; no CUDA here, so the official fp16 autocast is "
        "not measured) with `make_random_checkpoint(arch=\"RN50-quickgelu\", seed=0)`, its CLIP `logit_scale` "
        "set to ln 100 (OpenAI's value, so pyiqa's multiplier is exp(ln 100) / 2 = 50 against the official "
        "100), on `qualiclip/studio/examples/*.jpg` at native resolution. `converted`: pyiqa's score from ours' official "
        "pair probabilities, `mean(sigmoid(logit(p) / 2))`.", "",
        header, *rows, "",
        f"Largest differences: ours vs official {max(gaps['official']):.1e}; ours `--formula pyiqa` vs pyiqa "
        f"{max(gaps['pyiqa']):.1e}; converted vs pyiqa {max(gaps['converted']):.1e}; official vs pyiqa "
        f"{max(gaps['formulas']):.4f} (mean {sum(gaps['formulas']) / len(gaps['formulas']):.4f}). "
        f"Spearman correlation between the official and pyiqa scores of these photos: "
        f"{spearmanr(officials, pyiqas).statistic:.3f}.",
    ]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-results", action="store_true", help="rewrite this section of RESULTS.md")
    args = parser.parse_args()
    publish(SECTION, measure(), args.update_results)


if __name__ == "__main__":
    main()
