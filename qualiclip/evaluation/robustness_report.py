"""A robustness report over a reviewer's own photos: per model and distortion type, does the score fall with the level?

The photos are degraded and scored by the code of ``qualiclip eval-synthetic``
(:func:`~qualiclip.evaluation.comparison.score_models`), so the same photos in the same order, the
same types in the same order and the same seed give the same numbers: a series' random stream
follows the seed and the positions of its photo and type (:mod:`.synthetic`), which is also why a
report can be split by model but not by photo or type without changing them. Per model and type
it gives what ``eval-synthetic`` gives (mean Spearman of level and score over the photos, pairwise
ranking accuracy), the fraction of photos whose score falls monotonically, and per level the mean
and sd of the scores over the photos (the paper's headline figure, :meth:`RobustnessReport.figure`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np
from PIL import Image

from ..degradations import ALL_LEVELS, DEGRADATIONS, degradation_names
from ..errors import QualiCLIPError
from ..imaging import ImageInput, PreparedImage, prepare, scaled_size
from ..optional import import_optional
from ..csv_files import CsvWriter
from .comparison import score_models
from .metrics import falls_monotonically
from .synthetic import LevelScore, LevelSpread, Scorer, level_spreads, series_by_type, summarize

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: A photo of the report: a file, or anything :func:`~qualiclip.imaging.prepare` takes.
Photo = ImageInput | PreparedImage
#: Called with the fraction done (0..1) and a line saying what is being done: ``gr.Progress`` or a tqdm adapter.
Progress = Callable[[float, str], object]
#: Megapixels assumed for a file whose size cannot be read (the report itself then says why it is unusable).
UNKNOWN_MEGAPIXELS = 1.0
#: Decimals of the report's CSV (the score differences it tracks are far above 1e-6).
CSV_DECIMALS = 6
#: Columns of :meth:`RobustnessReport.write_csv`: the per-type results, then each level's mean and sd.
CSV_COLUMNS = ("model", "distortion", "spearman", "monotone_fraction", "pairwise_accuracy", "images",
               *(f"mean_L{level}" for level in ALL_LEVELS), *(f"sd_L{level}" for level in ALL_LEVELS))


@dataclass(frozen=True)
class TypeRobustness:
    """One model on one distortion type (or ``"overall"``: the mean over its types)."""

    model: str
    distortion: str
    #: Spearman of level and score per photo, averaged over the photos (a constant score counts 0).
    spearman: float
    #: Fraction of photos whose score never rises from one level to the next (:func:`.metrics.falls_monotonically`).
    monotone_fraction: float
    #: Fraction of level pairs of a photo where the less degraded one scores higher, averaged over the photos.
    pairwise_accuracy: float
    images: int


@dataclass(frozen=True)
class RobustnessReport:
    """Every model's scores of every series, per-type results and per-level spreads."""

    #: Each model's records, as ``eval-synthetic`` scores them (model name -> records).
    records: dict[str, list[LevelScore]]
    #: Per model (in ``models`` order): one row per type in the order asked, then ``"overall"``.
    rows: list[TypeRobustness]
    #: Per model: each type's mean and sd of the scores at every level.
    spreads: dict[str, list[LevelSpread]]

    def figure(self) -> Figure:
        """The headline figure (a matplotlib ``Figure``): mean score against level, +-1 sd band, one panel per type."""
        return import_optional("qualiclip.evaluation.plots", "train").level_curves_figure(self.records)

    def write_png(self, path: str | Path) -> Path:
        """:meth:`figure` as a PNG."""
        return import_optional("qualiclip.evaluation.plots", "train").plot_level_curves(self.records, path)

    def write_csv(self, path: str | Path) -> Path:
        """One :data:`CSV_COLUMNS` row per model and type (``overall`` with empty level cells), escaped as every CSV here."""
        with Path(path).open("w", newline="") as handle:
            writer = CsvWriter(handle)
            writer.writerow(CSV_COLUMNS)
            for row in self.rows:
                by_level = {(s.distortion, s.level): s for s in self.spreads[row.model]}
                levels = [by_level.get((row.distortion, level)) for level in ALL_LEVELS]
                writer.writerow([row.model, row.distortion,
                                 *(round(value, CSV_DECIMALS) for value in
                                   (row.spearman, row.monotone_fraction, row.pairwise_accuracy)), row.images,
                                 *("" if s is None else round(s.mean, CSV_DECIMALS) for s in levels),
                                 *("" if s is None else round(s.sd, CSV_DECIMALS) for s in levels)])
        return Path(path)


@dataclass(frozen=True)
class ReportWork:
    """How much a report computes, known before it runs: for limits and for a GPU booking."""

    photos: int
    types: int
    models: int
    #: Megapixels of all the photos together, as they will be scored.
    megapixels: float
    levels: int = len(ALL_LEVELS)

    @property
    def scored_megapixels(self) -> float:
        """Megapixels through an image tower: the photos' megapixels x types x models x levels."""
        return self.megapixels * self.types * self.models * self.levels

    @property
    def forwards(self) -> int:
        """Images through an image tower: photos x types x models x levels."""
        return self.photos * self.types * self.models * self.levels

    def seconds(self, forward_s_per_mp: float, degrade_s_per_mp: float) -> float:
        """Estimated seconds at the given unit costs (each model degrades its series: levels 1..5 per type)."""
        forwards = self.megapixels * self.types * self.models * self.levels
        degradations = self.megapixels * self.types * self.models * (self.levels - 1)
        return forwards * forward_s_per_mp + degradations * degrade_s_per_mp

    def check(self, max_photos: int, max_scored_megapixels: float) -> None:
        """A clear ``ValueError`` when the report has more than ``max_photos`` photos or would score more than
        ``max_scored_megapixels`` (:attr:`scored_megapixels`: what its time grows with)."""
        if self.photos > max_photos:
            raise ValueError(f"{self.photos} photos given; at most {max_photos} per report")
        if self.scored_megapixels > max_scored_megapixels:
            raise ValueError(f"{self.photos} photos ({self.megapixels:.2f} MP as scored) x {self.types} types x "
                             f"{self.models} models x {self.levels} levels = {self.scored_megapixels:.1f} MP to "
                             f"score, more than the limit of {max_scored_megapixels:g} MP: choose fewer photos, "
                             "types or models")


def report_types(types: Sequence[str] = ()) -> tuple[str, ...]:
    """The types a report covers: ``types`` checked (known, no repeats), or every monotone type when empty."""
    if not types:
        return degradation_names(monotone_only=True)
    unknown = [name for name in types if name not in DEGRADATIONS]
    if unknown:
        raise ValueError(f"unknown distortion types {unknown}; known: {', '.join(DEGRADATIONS)}")
    if len(set(types)) < len(types):
        raise ValueError(f"distortion types repeated in {list(types)}")
    return tuple(types)


def photo_megapixels(photo: Photo, max_side: int | None = None) -> float:
    """Megapixels ``photo`` is scored at; a file's header only is read (:data:`UNKNOWN_MEGAPIXELS` if unusable)."""
    try:
        if isinstance(photo, (str, Path)):
            with Image.open(photo) as opened:
                size = opened.size
        else:
            size = photo.size if isinstance(photo, PreparedImage) else prepare(photo).size
        width, height = scaled_size(size, max_side)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, QualiCLIPError):
        return UNKNOWN_MEGAPIXELS
    return width * height / 1e6


def report_work(photos: Sequence[Photo], types: Sequence[str], models: int, max_side: int | None = None) -> ReportWork:
    """What :func:`robustness_report` of these inputs computes (``types`` empty: all of them)."""
    return ReportWork(len(photos), len(report_types(types)), models,
                      sum(photo_megapixels(photo, max_side) for photo in photos))


def photo_names(photos: Sequence[Photo]) -> list[str]:
    """A distinct name per photo: a file's name, else ``photo N``; a repeated name gets `` (2)``, `` (3)``..."""
    names: list[str] = []
    for index, photo in enumerate(photos):
        base = Path(photo).name if isinstance(photo, (str, Path)) else f"photo {index + 1}"
        name, copy = base, 1
        while name in names:
            copy += 1
            name = f"{base} ({copy})"
        names.append(name)
    return names


def type_rows(model: str, records: Sequence[LevelScore]) -> list[TypeRobustness]:
    """One model's :class:`TypeRobustness` rows: ``eval-synthetic``'s summary plus the monotone fraction."""
    monotone = {kind: [falls_monotonically([r.score for r in sorted(series, key=lambda r: r.level)])
                       for series in per_image.values()]
                for kind, per_image in series_by_type(records).items()}
    fractions = {kind: float(np.mean(flags)) for kind, flags in monotone.items()}
    fractions["overall"] = float(np.mean(list(fractions.values())))
    return [TypeRobustness(model, s.distortion, s.spearman, fractions[s.distortion], s.pairwise_accuracy, s.images)
            for s in summarize(records)]


def robustness_report(photos: Sequence[Photo], models: Mapping[str, Scorer], types: Sequence[str] = (),
                      seed: int = 0, *, max_side: int | None = None,
                      on_progress: Progress | None = None) -> RobustnessReport:
    """Degrade every photo at levels 0..5 of every type, score each with every model, and summarise.

    ``types`` empty: every monotone type (24). ``max_side`` caps the photos' longer side before
    degrading (as ``eval-synthetic --max-side``). ``on_progress(fraction, text)`` is called before
    the first series and after each one. An unusable photo raises its error
    before any scoring (:class:`~qualiclip.errors.QualiCLIPError`).
    """
    if not photos:
        raise ValueError("no photos given")
    if not models:
        raise ValueError("no models given")
    kinds = report_types(types)
    images = {name: prepare(photo, max_side) for name, photo in zip(photo_names(photos), photos)}
    total, done = len(images) * len(kinds) * len(models), [0]

    def series_scored(model: str, records: Sequence[LevelScore]) -> None:
        done[0] += 1
        if on_progress is not None:
            on_progress(done[0] / total, f"{model}: {records[0].distortion} of {records[0].image} "
                                         f"({done[0]} of {total} series)")

    if on_progress is not None:
        on_progress(0.0, f"scoring {total} series of {len(ALL_LEVELS)} levels")
    records = score_models(models, images, kinds, seed, on_series=series_scored)
    return RobustnessReport(records, [row for name, table in records.items() for row in type_rows(name, table)],
                            {name: level_spreads(table) for name, table in records.items()})

