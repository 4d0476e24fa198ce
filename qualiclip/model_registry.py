"""The models this project knows, as data: :data:`MODELS` (name -> :class:`ModelSpec`) and
:func:`list_models`, a summary for people and tools.

This module imports nothing heavy (no torch, no open_clip), so ``qualiclip --help`` and
``list_models()`` answer at once; :func:`qualiclip.loading.load_model` turns a spec into a model.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .formulas import OFFICIAL_FORMULA, PYIQA_FORMULA, Formula
from .prompts import CLIP_IQA_PAIRS, PROMPT_PAIRS, PromptPair
from .weight_files import QUALICLIP_ENV, QUALICLIP_URL, RemoteWeights

#: open_clip's Hugging Face repository of OpenAI's RN50 weights (its ``pretrained="openai"`` for RN50;
#: tests/test_hub.py checks this against open_clip's own table).
OPENAI_RN50_HF_HUB = "timm/resnet50_clip.openai"
#: OpenAI's RN50 CLIP weights as open_clip publishes them (no hash is published for this file).
OPENAI_RN50 = RemoteWeights(url=f"https://huggingface.co/{OPENAI_RN50_HF_HUB}/resolve/main/open_clip_pytorch_model.bin",
                            filename="open_clip_rn50_openai.bin")

#: pyiqa's weights repository (QualiCLIP's checkpoint as pyiqa loads it, and the QualiCLIP+ prompts).
PYIQA_WEIGHTS_URL = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/"
#: SHA-256 of pyiqa's QualiCLIP files as Hugging Face publishes them (the Git LFS pointers of commit
#: 9c1c305ce9d08878a3e5c92626b444ab6c855e99 of chaofengc/IQA-PyTorch-Weights, "Upload QualiCLIP (#1)").
PYIQA_SHA256 = {
    "QualiCLIP.pth": "5818e085ac4b3d297cdd183fd2b1d8a4ddb2242e5bb7fd24b2cd66d7d132bc7e",
    "koniq": "450292893e96f38dca09d51ca2e0e1cd7cb1c2c55d444cfe2ac8ea2ab5d1d894",
    "clive": "5a2c75e4586abbaf1bc55e945691be14c70d68ede7dbabd86caebaf838ec50a3",
    "flive": "ac20494683fb8c26abae04c6df671c389bf42f08461b2eac8497d91d53d558cc",
    "spaq": "2d9c2ef6b746d0f42573c24a118a6f0bf1f919d60163b5dbd6de0b6fc7e1a0e9",
}
#: The QualiCLIP checkpoint pyiqa's QualiCLIP+ models run on (cached under its own name: whether it is
#: byte-identical to the official release is not documented).
PYIQA_QUALICLIP = RemoteWeights(url=PYIQA_WEIGHTS_URL + "QualiCLIP.pth", filename="pyiqa-QualiCLIP.pth",
                                sha256=PYIQA_SHA256["QualiCLIP.pth"])


def _qualiclip_plus_prompts(dataset: str) -> RemoteWeights:
    """pyiqa's QualiCLIP+ prompt file tuned on ``dataset`` ("+" is "%2B" in its URL)."""
    return RemoteWeights(url=f"{PYIQA_WEIGHTS_URL}QualiCLIP%2B_{dataset}.pth",
                         filename=f"QualiCLIP+_{dataset}.pth", option="prompt_learner", sha256=PYIQA_SHA256[dataset])


#: Weights shipped inside the package (see weights/MODEL_CARD.md).
BUNDLED_DIR = Path(__file__).with_name("weights")
#: Why the bundled offline model cannot score prompts of one's own (see weights/MODEL_CARD.md).
_OFFLINE_TEXT_TOWER = ("Its prompt features are random orthonormal directions, not text embeddings, and its "
                       "text tower was never trained, so prompts of your own would mean nothing to it.")

#: The bundled model: it scores with no download (the command line's offline hint names it).
OFFLINE_MODEL = "qualiclip-offline"

#: The terms of each source of weights (docs/models.md, "Licences of the weights", says more).
OFFICIAL_LICENCE = "CC BY-NC 4.0 (official QualiCLIP weights; non-commercial)"
OPENAI_LICENCE = "MIT (OpenAI CLIP)"
PYIQA_LICENCE = ("CC BY-NC-SA 4.0 (pyiqa's weights repository; non-commercial), built on QualiCLIP's "
                 "CC BY-NC 4.0 weights")
BUNDLED_LICENCE = "MIT (this project's own weights, as its code)"


@dataclass(frozen=True)
class ModelSpec:
    """A named model: what it is, where its weights come from and under which terms, its prompt pairs
    and its formula."""

    name: str
    title: str
    #: The terms of its weights (one line; see docs/models.md); every model of MODELS states them.
    licence: str = ""
    remote: RemoteWeights | None = None
    bundled: Path | None = None
    #: The antonym pairs of its score (positive first); a checkpoint's stored prompt features are
    #: used only for the official seven, any other pairs are encoded by the model's text tower.
    prompt_pairs: tuple[PromptPair, ...] = PROMPT_PAIRS
    #: Why its text tower cannot score other prompt pairs; None when it can.
    no_custom_prompts: str | None = None
    #: Learned prompts (QualiCLIP+) replacing the checkpoint's prompt features.
    prompt_learner: RemoteWeights | None = None
    formula: Formula = OFFICIAL_FORMULA

    @property
    def needs_download(self) -> bool:
        """True when its weights come from the internet (once, then from the torch hub cache)."""
        return self.remote is not None


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qualiclip",
            title="QualiCLIP (official weights)",
            licence=OFFICIAL_LICENCE,
            remote=RemoteWeights(url=QUALICLIP_URL, filename="qualiclip.pth", env_var=QUALICLIP_ENV),
        ),
        ModelSpec(
            name="clip-iqa",
            title='CLIP-IQA (zero-shot OpenAI RN50, "Good photo." vs "Bad photo.")',
            licence=OPENAI_LICENCE,
            remote=OPENAI_RN50,
            prompt_pairs=CLIP_IQA_PAIRS,
        ),
        ModelSpec(
            name="clip-qualiclip-prompts",
            title="OpenAI RN50 CLIP, zero-shot, with QualiCLIP's seven prompt pairs (not CLIP-IQA)",
            licence=OPENAI_LICENCE,
            remote=OPENAI_RN50,
        ),
        ModelSpec(
            name=OFFLINE_MODEL,
            title="QualiCLIP-offline (tiny, trained from scratch on CPU by this project; bundled)",
            licence=BUNDLED_LICENCE,
            bundled=BUNDLED_DIR / "qualiclip-offline.pth",
            no_custom_prompts=_OFFLINE_TEXT_TOWER,
        ),
        *(
            ModelSpec(
                name="qualiclip+" + suffix,
                title=f"QualiCLIP+ (pyiqa; prompts tuned on {dataset})",
                licence=PYIQA_LICENCE,
                remote=PYIQA_QUALICLIP,
                prompt_learner=_qualiclip_plus_prompts(key),
                formula=PYIQA_FORMULA,
            )
            for suffix, key, dataset in (("", "koniq", "KonIQ-10k"), ("-clive", "clive", "LIVE Challenge"),
                                         ("-flive", "flive", "FLIVE"), ("-spaq", "spaq", "SPAQ"))
        ),
    )
}


@dataclass(frozen=True)
class ModelInfo:
    """One row of :func:`list_models`: what a user needs to choose a model."""

    name: str
    description: str
    needs_download: bool
    licence: str


def list_models() -> list[ModelInfo]:
    """Every named model (``load_model(name)``, ``--model NAME``): its one-line description, whether
    its weights are downloaded (else they ship with the package), and the licence of those weights."""
    return [ModelInfo(spec.name, spec.title, spec.needs_download, spec.licence) for spec in MODELS.values()]


def model_spec(model: str) -> ModelSpec:
    """``MODELS[model]``, or a ``ValueError`` naming the choices."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    return MODELS[model]
