"""The command-line options that choose and run a model, shared by every sub-command that scores.

``score``, ``eval`` and ``eval-synthetic`` (and any later command) call :func:`add_model_options`
and :func:`model_from_options`, so the same flags mean the same thing everywhere, checked the same
way. A command that compares models (``eval-synthetic``) adds them with ``several=True`` and loads
them with :func:`models_from_options`. Importing this imports no torch (the parsers are built for
``--help`` too); loading imports :mod:`qualiclip.loading` when called.
"""
from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from .constants import BACKENDS, MIN_SIDE, PRECISIONS
from .errors import WeightsUnavailableError
from .formulas import FORMULAS
from .model_registry import MODELS, OFFLINE_MODEL

if TYPE_CHECKING:
    from .scoring import QualityScorer


#: The ``argparse`` destinations of :func:`add_model_options`' flags.
MODEL_OPTIONS = ("model", "weights", "prompt_learner", "formula", "max_side", "device", "backend", "precision",
                 "batch_size")


def at_least(minimum: int, why: str = "") -> Callable[[str], int]:
    """An argparse ``type``: a whole number no smaller than ``minimum`` (``why`` explains the bound)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}{why}, got {value}")
        return value
    return parse


def device_name(text: str) -> str:
    """An argparse ``type``: a device string torch can parse (``cpu``, ``cuda``, ``cuda:1``, ``mps``...).

    torch is imported only here, when a ``--device`` is given, so that ``--help`` never waits for it.
    """
    import torch

    try:
        torch.device(text)
    except RuntimeError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def named_weights(text: str) -> tuple[str, Path]:
    """An argparse ``type``: ``NAME=PATH``, a model of ``MODELS`` and the weights file to load it from."""
    name, equals, path = text.partition("=")
    if not equals or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {text!r}")
    if name not in MODELS:
        raise argparse.ArgumentTypeError(f"unknown model {name!r}; choose from {', '.join(sorted(MODELS))}")
    return name, Path(path)


def models_help() -> str:
    """The ``--model`` choices for ``--help``: each name, what it is, and whether it is downloaded."""
    return "Models: " + "; ".join(
        f"{name}: {spec.title}{', downloaded once' if spec.needs_download else ', works offline'}"
        for name, spec in MODELS.items()) + "."


def add_model_options(parser: argparse.ArgumentParser, max_side: int | None = None, several: bool = False) -> None:
    """Add :func:`add_weights_options`' flags, then ``--max-side``, ``--device``, ``--backend``, ``--precision``
    and ``--batch-size``.

    ``several``: ``--model`` may be repeated, and ``--weights-for NAME=PATH`` gives each model its file.
    """
    add_weights_options(parser, several)
    parser.add_argument("--max-side", type=at_least(MIN_SIDE, " (the model's smallest side)"), default=max_side,
                        help=f"downscale so the longer side is at most this many pixels, at least {MIN_SIDE}; a strip too "
                             f"thin for that is shrunk only until its shorter side is {MIN_SIDE} px, and refused if it "
                             f"then has more than MAX_SIDE squared pixels (default: {max_side or 'native resolution'})")
    parser.add_argument("--device", type=device_name, help="torch device, e.g. cpu or cuda:1 (default: cuda when present)")
    parser.add_argument("--backend", choices=BACKENDS, default="torch",
                        help="torch (default), or onnxruntime: the CPU only, 1.3x to 1.7x faster there; the model is "
                             "exported to ONNX once and cached (needs pip install 'qualiclip-studio[onnx]')")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32",
                        help="fp32 (default), or bf16: opt-in bfloat16 autocast of the torch backend's image tower; "
                             "faster only on CPUs with bf16 instructions (AVX-512 BF16, AMX; several times slower "
                             "without them), and the scores move (docs/onnx.md)")
    parser.add_argument("--batch-size", type=at_least(1), default=8, help="images per forward pass (default: 8)")


def add_weights_options(parser: argparse.ArgumentParser, several: bool = False) -> None:
    """Add the flags that choose a model and its weights: ``--model``, ``--weights``, ``--prompt-learner``
    and ``--formula`` (``several``: as in :func:`add_model_options`)."""
    if several:
        parser.add_argument("--model", choices=sorted(MODELS), action="append", metavar="MODEL",
                            help="a model to evaluate; repeat it to compare models (default: qualiclip). "
                                 + models_help())
        parser.add_argument("--weights-for", type=named_weights, action="append", default=[], metavar="NAME=PATH",
                            help="load model NAME from this file (repeatable; NAME is added to the models, "
                                 "and the tables call it NAME)")
    else:
        parser.add_argument("--model", choices=sorted(MODELS), default="qualiclip", metavar="MODEL",
                            help="the model that scores (default: qualiclip). " + models_help())
    parser.add_argument("--weights", help="checkpoint file (default: $QUALICLIP_WEIGHTS for qualiclip, "
                                          "then the model's own download or bundled file)")
    parser.add_argument("--prompt-learner", help="QualiCLIP+ prompt file in pyiqa's layout (default: the "
                                                 "model's own, for the qualiclip+ models)")
    parser.add_argument("--formula", choices=sorted(FORMULAS),
                        help="official: cosines x 100, fp16 autocast on CUDA; pyiqa: cosines x exp(CLIP "
                             "logit_scale) / 2 (about 50), float32, numbers comparable with pyiqa's "
                             "(default: the model's own: pyiqa for qualiclip+, else official)")


def model_options_of(args: argparse.Namespace, **changes: object) -> argparse.Namespace:
    """Only the values of :func:`add_model_options`' flags (with ``changes``): what another process
    needs to load the same model, without the rest of a command line."""
    values = {name: getattr(args, name) for name in MODEL_OPTIONS}
    return argparse.Namespace(**{**values, **changes})


@contextlib.contextmanager
def _offline_hint() -> Iterator[None]:
    """Re-raise weights that cannot be had with a last sentence naming the bundled model's flag."""
    try:
        yield
    except WeightsUnavailableError as error:
        raise type(error)(f"{error} To score now without any download, use the bundled model: "
                          f"--model {OFFLINE_MODEL}.") from error


def model_from_options(args: argparse.Namespace) -> QualityScorer:
    """Load the model that :func:`~qualiclip.model_options.add_model_options`' flags describe; weights that
    cannot be had raise an error that also suggests ``--model qualiclip-offline``."""
    from .loading import load_model  # torch: only when a command runs, never for --help
    with _offline_hint():
        return load_model(args.model, args.weights, device=args.device, max_side=args.max_side,
                          prompt_learner=args.prompt_learner, formula=args.formula, backend=args.backend,
                          precision=args.precision)


def models_from_options(args: argparse.Namespace) -> dict[str, QualityScorer]:
    """The models of ``add_model_options(..., several=True)``, by the name the tables use.

    The models are the ``--model`` names and then the ``--weights-for`` ones not listed yet (default:
    qualiclip). ``--weights FILE`` goes with one model, named after the file as everywhere; more than
    one model needs ``--weights-for``. A wrong combination is a ``ValueError``.
    """
    from .loading import load_model  # torch: only when a command runs, never for --help
    files: dict[str, Path] = {}
    for name, path in args.weights_for:
        if name in files:
            raise ValueError(f"--weights-for {name} is given twice")
        files[name] = path
    names = list(dict.fromkeys([*(args.model or []), *files])) or ["qualiclip"]
    options = dict(device=args.device, max_side=args.max_side, prompt_learner=args.prompt_learner,
                   formula=args.formula, backend=args.backend, precision=args.precision)
    if args.weights is not None:
        if len(names) > 1 or files:
            raise ValueError("--weights goes with one model; give each model its file with --weights-for NAME=PATH")
        with _offline_hint():
            model = load_model(names[0], args.weights, **options)
        return {model.name: model}
    with _offline_hint():
        return {name: load_model(name, files.get(name), **options) for name in names}
