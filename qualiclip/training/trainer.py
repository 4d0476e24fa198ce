"""The training loop: QualiCLIP's losses on the image encoder, with exact resume and safe Ctrl-C.

Files in ``config.output``:

- ``config.json``: the run's configuration (``--resume`` reads it back);
- ``last.pth``: latest weights in the official checkpoint format (loadable with ``load_model``);
- ``train_state.pt``: image-tower weights (and their moving average), optimizer, schedule, step and RNG
  states for ``--resume``;
- ``log.csv``: every loss term at every step; ``eval.csv``: periodic held-out evaluation;
- ``curves.png``: plots of both; ``model.pth``: the final, logit-scale-calibrated model;
- ``synthetic_eval.csv``: the final model's held-out synthetic evaluation per distortion type.

The other concerns live beside it: :mod:`.run_files` (where a run's files are), :mod:`.optimization`
(optimiser and learning-rate schedule), :mod:`.rng_state` (random states for an exact resume),
:mod:`.interrupts` (Ctrl-C between steps), :mod:`.data` (the batches), :mod:`.losses` and :mod:`.step`
(the losses of a batch and its gradient step), :mod:`.start`
(the start point) and :mod:`.calibration`; this module is the loop, its evaluation and the final model.

Only the image tower is trained; the text tower and the prompt features stay frozen. BatchNorm
under ``batchnorm="auto"`` is frozen (eval mode, running statistics kept) when the start point is
pretrained, because batches of a few images give poor statistics; a from-scratch model trains it.
With ``ema_decay`` > 0 an exponential moving average of the image tower (``torch.optim.swa_utils``)
is what gets evaluated and written; the raw weights keep training.

Under ``torchrun`` (``ranks`` from :mod:`qualiclip.training.distributed`) every rank trains its share
of each batch through DDP and only rank 0 writes these files and evaluates; one process is unchanged.
"""
from __future__ import annotations

import contextlib
import copy
import csv
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..checkpoint import load_safely, write_checkpoint
from ..evaluation.synthetic import TypeSummary, rescore, score_synthetic, summarize, write_summary_csv
from ..imaging import PreparedImage, prepare
from ..optional import import_optional
from ..scoring import QualityScorer
from .calibration import calibrate_logit_scale
from .config import TrainConfig
from .data import StepBatches, list_images
from .distributed import SINGLE, Ranks, data_parallel, rank_device, rank_slots, share_step, with_global_batchnorm
from .interrupts import deferred_interrupt
from .losses import LossTerms
from .optimization import lr_factor, make_optimizer
from .rng_state import restore_rng_states, rng_states
from .run_files import EVAL_COLUMNS, LOG_COLUMNS, RunFiles, truncate_csv
from .start import load_start
from .step import crop_losses, descend

CALIBRATION_FALLBACK_IMAGES = 4
StepCallback = Callable[[int, LossTerms], None]


@dataclass(frozen=True)
class RunResult:
    """What a finished run produced."""

    model_path: Path
    logit_scale: float
    summaries: list[TypeSummary]


def resolve_device(name: str) -> torch.device:
    """"auto" -> CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def text_tower_as_half(clip: nn.Module) -> nn.Module:
    """A copy whose frozen text tower is float16 (the image tower stays float32).

    ``load_state_dict`` casts back into float32 parameters, so the file loads unchanged.
    """
    compact = copy.deepcopy(clip).cpu()
    for name, child in compact.named_children():
        if name != "visual":
            child.half()
    return compact


class Trainer:
    """One training run; ``resume=True`` continues the run saved in ``config.output``.

    ``ranks``: this process's place in a ``torchrun`` run (its process group already joined, see
    :func:`qualiclip.training.distributed.process_group`); the default is one process.
    """

    def __init__(self, config: TrainConfig, resume: bool = False, ranks: Ranks = SINGLE) -> None:
        self.config = config
        self.ranks = ranks
        self.files = RunFiles(config.output_dir)
        self.plots = import_optional("qualiclip.training.plots", "train")  # before any work: the run ends with a plot
        self.device = rank_device(resolve_device(config.device), ranks)
        if config.threads > 0:
            torch.set_num_threads(config.threads)
        start = load_start(config.init, config.arch, config.prompts, config.seed)
        self.arch, self.initial_scale = start.arch, start.logit_scale
        self.model = QualityScorer(start.clip, start.prompt_features, name="training", weights_origin=config.init,
                                  arch=start.arch, logit_scale=start.logit_scale, device=self.device)
        self.clip = self.model.clip
        self.clip.requires_grad_(False)
        self.clip.visual.requires_grad_(True)
        self.train_batchnorm = config.batchnorm == "train" or (config.batchnorm == "auto" and not start.pretrained)
        self.slots = rank_slots(config.batch_size, ranks)
        if ranks.distributed and self.train_batchnorm:
            with_global_batchnorm(self.clip.visual)
        self.optimizer = make_optimizer(list(self.clip.visual.parameters()), config)
        self.schedule = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: lr_factor(s, config))
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.device.type == "cuda")
        self.ema = (AveragedModel(self.clip.visual, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay),
                                  use_buffers=True) if config.ema_decay else None)
        #: What runs the image tower in training: DDP's wrapper with several processes, else the tower.
        self.tower = data_parallel(self.clip.visual, self.device) if ranks.distributed else self.clip.visual
        self.paths = list_images(config.data)
        self.holdout = self._load_holdout() if ranks.is_main else {}
        self.step, self.elapsed = 0, 0.0
        if resume:
            self._load_state()
        elif ranks.is_main:
            config.to_json(self.files.config)
            for path in (self.files.log, self.files.evals):
                path.unlink(missing_ok=True)

    def _load_holdout(self) -> dict[str, PreparedImage]:
        """Held-out images (downscaled to ``eval_max_side``) for evaluation and calibration."""
        if self.config.holdout:
            paths = list_images(self.config.holdout)
        else:
            warnings.warn("no holdout folder: the logit scale is calibrated on training images", stacklevel=3)
            paths = self.paths[:CALIBRATION_FALLBACK_IMAGES]
        return {p.name: prepare(p, self.config.eval_max_side) for p in paths}

    def _set_train_mode(self) -> None:
        self.clip.eval()
        self.clip.visual.train(self.train_batchnorm)

    @contextlib.contextmanager
    def published_weights(self) -> Iterator[None]:
        """The weights to evaluate and write: the moving average when there is one, else the live ones.

        The live image-tower state is put back afterwards, so training continues unchanged.
        """
        if self.ema is None:
            yield
            return
        live = copy.deepcopy(self.clip.visual.state_dict())
        self.clip.visual.load_state_dict(self.ema.module.state_dict())
        try:
            yield
        finally:
            self.clip.visual.load_state_dict(live)

    # -- state -------------------------------------------------------------------------------------
    def save(self) -> None:
        """Write ``last.pth`` (official format) and ``train_state.pt`` (everything to resume)."""
        with self.published_weights():
            write_checkpoint(self.files.weights, self.clip, self.model.prompt_features, arch=self.arch,
                             logit_scale=self.initial_scale)
        state = {"step": self.step, "elapsed": self.elapsed, "visual": self.clip.visual.state_dict(),
                 "prompt_features": self.model.prompt_features.cpu(), "optimizer": self.optimizer.state_dict(),
                 "schedule": self.schedule.state_dict(), "scaler": self.scaler.state_dict(), "rng": rng_states(),
                 "ema": self.ema.state_dict() if self.ema else None}
        tmp = self.files.state.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(self.files.state)

    def _load_state(self) -> None:
        # on the CPU: RNG states must stay CPU tensors; load_state_dict moves the rest to the device
        state = load_safely(self.files.state, "a resumable training state")
        self.clip.visual.load_state_dict(state["visual"])
        self.model.prompt_features = state["prompt_features"].to(self.device)
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.scaler.load_state_dict(state["scaler"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
        restore_rng_states(state["rng"])
        self.step, self.elapsed = state["step"], state["elapsed"]
        for path in (self.files.log, self.files.evals) if self.ranks.is_main else ():
            truncate_csv(path, self.step)  # drop rows logged after the saved step

    # -- loop --------------------------------------------------------------------------------------
    def loader(self) -> DataLoader:
        """This rank's share of each remaining step's batch: a pure function of (seed, step, rank)."""
        c = self.config
        dataset = StepBatches(self.paths, slots=self.slots, **c.values_for(StepBatches))
        return DataLoader(dataset, batch_size=None, sampler=range(self.step, c.steps), num_workers=c.workers)

    def train_step(self, batch: torch.Tensor) -> LossTerms:
        """One optimisation step on a (B, 2, L, 3, S, S) batch."""
        _, terms = crop_losses(self.model, batch, self.config, self.tower)
        descend(terms, self.optimizer, self.scaler)
        self.schedule.step()
        if self.ema is not None:
            self.ema.update_parameters(self.clip.visual)
        return terms

    def run(self, on_step: StepCallback | None = None) -> RunResult:
        """Train to ``config.steps``, then calibrate and write ``model.pth``.

        Ctrl-C (or a KeyboardInterrupt from ``on_step``) saves a resumable checkpoint, then re-raises.
        With several processes, ``on_step`` gets the losses averaged over the ranks, and a Ctrl-C on
        any rank stops every rank after the same step.
        """
        c, main = self.config, self.ranks.is_main
        self._set_train_mode()
        progress = tqdm(total=c.steps, initial=self.step, unit="step", dynamic_ncols=True, disable=not main)
        try:
            with (deferred_interrupt(self.ranks.distributed) as interrupted,
                  self.files.log.open("a", newline="") if main else contextlib.nullcontext() as log):
                writer = csv.writer(log) if main else None
                if writer and log.tell() == 0:
                    writer.writerow(LOG_COLUMNS)
                started = time.perf_counter() - self.elapsed
                for batch in self.loader():
                    lr = self.optimizer.param_groups[0]["lr"]
                    terms = self.train_step(batch)
                    self.step += 1
                    self.elapsed = time.perf_counter() - started
                    values, stop = terms.as_floats(), interrupted[0]
                    if self.ranks.distributed:
                        values, stop = share_step(values, stop, self.device)
                        terms = LossTerms(**{name: torch.tensor(value) for name, value in values.items()})
                    if writer:
                        writer.writerow([self.step, f"{lr:.6g}"] + [f"{values[k]:.6f}" for k in LOG_COLUMNS[2:6]]
                                        + [f"{self.elapsed:.1f}"])
                        log.flush()
                    progress.update()
                    progress.set_postfix(loss=f"{values['total']:.4f}", cons=f"{values['consistency']:.3f}",
                                         pos=f"{values['positive']:.3f}", neg=f"{values['negative']:.3f}")
                    self._periodic()
                    if on_step:
                        on_step(self.step, terms)
                    if stop:
                        raise KeyboardInterrupt
        except KeyboardInterrupt:
            if main:
                self.save()
                tqdm.write(f"interrupted: checkpoint saved at step {self.step} in {self.files.root}")
            raise
        finally:
            progress.close()
        if not main:
            return RunResult(self.files.final, math.nan, [])
        self.save()
        return self.finish()

    def _periodic(self) -> None:
        c = self.config
        if not self.ranks.is_main:
            return
        if self.step % c.checkpoint_every == 0:
            self.save()
        if c.eval_every and self.step % c.eval_every == 0 and self.step < c.steps:
            self.evaluate()
            self._set_train_mode()
            self.plots.plot_training(self.files.log, self.files.evals, self.files.plot)

    def evaluate(self) -> tuple[float, list[TypeSummary]]:
        """Held-out synthetic evaluation with a freshly calibrated logit scale; logged to ``eval.csv``."""
        self.clip.eval()
        with self.published_weights():
            records = score_synthetic(self.model, self.holdout, self.config.eval_types, seed=self.config.seed)
        sims = torch.tensor([r.similarities for r in records])
        scale = calibrate_logit_scale(sims, self.config.calibration_quantile, self.config.calibration_logit)
        summaries = summarize(rescore(records, scale))
        overall = summaries[-1]
        new_file = not self.files.evals.exists()
        with self.files.evals.open("a", newline="") as handle:
            writer = csv.writer(handle)
            if new_file:
                writer.writerow(EVAL_COLUMNS)
            writer.writerow([self.step, f"{overall.spearman:.4f}", f"{overall.pairwise_accuracy:.4f}", f"{scale:.4f}"])
        tqdm.write(f"step {self.step}: held-out Spearman {overall.spearman:.3f}, "
                   f"pairwise accuracy {overall.pairwise_accuracy:.3f}")
        return scale, summaries

    def finish(self) -> RunResult:
        """Calibrate, write ``model.pth`` and ``synthetic_eval.csv``, draw the final plot."""
        scale, summaries = self.evaluate()
        with self.published_weights():
            clip = text_tower_as_half(self.clip) if self.config.half_text_tower else self.clip
            path = write_checkpoint(self.files.final, clip, self.model.prompt_features, arch=self.arch,
                                    logit_scale=scale)
        write_summary_csv(self.files.synthetic, summaries)
        self.plots.plot_training(self.files.log, self.files.evals, self.files.plot)
        return RunResult(path, scale, summaries)


def train(config: TrainConfig, resume: bool = False, on_step: StepCallback | None = None,
          ranks: Ranks = SINGLE) -> RunResult:
    """Run (or resume) training described by ``config``; see :class:`Trainer`.

    On a rank other than 0 of a ``torchrun`` run, the result names the model rank 0 writes and
    holds no evaluation (``logit_scale`` NaN).
    """
    return Trainer(config, resume=resume, ranks=ranks).run(on_step)
