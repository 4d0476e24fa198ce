"""The handlers the tabs (:mod:`qualiclip.studio.tabs`) wire to events: plain values in, plain values out.

:class:`Callbacks` holds the :class:`~qualiclip.studio.model_slots.Studio` (the models) they run on. Each
method takes what the UI components hold (an image file path or array, strings, numbers, file
paths) and returns what the output components show. Unusable input raises ``gr.Error``; what else
an event needs (unexpected errors made plain, quiet outputs, the GPU call) is added where it is wired,
by :mod:`qualiclip.studio.endpoints`. The handlers that run whenever the image changes
(:meth:`Callbacks.analyse_upload`: score, heatmaps, robustness preview) return empty outputs for no
image, so removing the image clears them instead of showing an error; within one upload they share
one :class:`~qualiclip.studio.analysis.Analysis` (one hash, one decode, one trunk pass).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Sequence

import gradio as gr
import numpy as np
import pandas as pd

from qualiclip.degradations import ALL_LEVELS, DEGRADATIONS
from qualiclip.evaluation.robustness_report import report_types, report_work, robustness_report
from qualiclip.formula import NEGATIVE, POSITIVE, prompt_row
from qualiclip.imaging import ImageInput, to_uint8_rgb
from qualiclip.prompts import PromptPair
from qualiclip.training.live_demo import train_steps

from . import batch, custom_prompts, exports, live_training, photo_report, robustness, two_photos
from .analysis import Analysis, AnalysisCache, analyse
from .example_results import ExampleResults
from .explanations import ALL_PAIRS, COMPARE_METHOD, Maps, caption, compute_maps, gallery_items
from .inputs import load_input
from .model_slots import ModelSlot, Studio
from .public_errors import UNEXPECTED, RecentErrors, user_errors
from .formatting import (
    NO_SCORE_HTML,
    Column,
    error_html,
    for_display,
    gauge_html,
    pair_column_specs,
    pair_columns,
    pair_frame,
    quality_label,
    scale_notice,
)

#: The tabs' labels (each tab module's ``LABEL``).
SCORE_TAB, ROBUSTNESS_TAB, TWO_PHOTOS_TAB, BATCH_TAB = "Score", "Robustness", "Two photos", "Batch"
#: Tabs with inputs of their own: the main image's drop zone and examples are hidden while they are shown.
OWN_INPUT_TABS = (TWO_PHOTOS_TAB, BATCH_TAB)
#: What the Robustness preview shows without an image: no slider, no gauges, no result.
NO_PREVIEW = (None, "", "", None)
#: The images of a before/after slider (``gr.ImageSlider``): (before, after).
SliderPair = tuple[np.ndarray, np.ndarray]


def check_degradation(name: str) -> None:
    """Refuse a distortion type the registry does not have (API callers can send anything)."""
    if name not in DEGRADATIONS:
        raise gr.Error(f"Unknown distortion type {name!r}.", title="Invalid choice")


def compare_table_columns(pairs: Sequence[PromptPair]) -> list[Column]:
    """The Compare tab table's columns, in order, with their widths on the page."""
    return [Column("model", "200px"), Column("status", "100px"), Column("score", "70px"), Column("label", "90px"),
            Column("details", "200px"), *pair_column_specs(pairs)]


def compare_columns(pairs: Sequence[PromptPair]) -> list[str]:
    """The Compare tab table's column names, in order."""
    return [column.name for column in compare_table_columns(pairs)]


def learn_columns(pair: PromptPair) -> list[Column]:
    """The Learn tab table's columns for one pair: level, both prompts' similarities, P(positive), score."""
    positive, negative = pair
    return [Column(name) for name in ("level", f"sim({positive})", f"sim({negative})", f"P({positive})", "score")]


def unavailable_line(slots: Sequence[ModelSlot], lead: str) -> str:
    """One short line naming the unavailable models, each distinct reason said once ('' if none)."""
    by_reason: dict[str, list[str]] = {}
    for slot in slots:
        if slot.model is None:
            by_reason.setdefault(slot.reason or "", []).append(slot.title)
    parts = [f"{', '.join(titles)}: {reason.rstrip('.')}" for reason, titles in by_reason.items()]
    return f"{lead} {'; '.join(parts)}." if parts else ""


class Callbacks:
    """Every event handler of the app, bound to one :class:`Studio`."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.model = studio.primary
        self.analyses = AnalysisCache(self.model)
        #: What the quiet endpoints refused, by upload (see :meth:`input_error`).
        self.refusals = RecentErrors()
        #: The example photos' upload results, when computed ahead (:mod:`.example_results`).
        self.examples = ExampleResults()

    def _analysis(self, image: ImageInput | None) -> Analysis:
        """The primary model's analysis of ``image``: decoded, trunk run and scored once per content."""
        return load_input(image, self.analyses.get)

    def _slots(self, progress: gr.Progress) -> tuple[ModelSlot, ...]:
        """The Compare tab's slots, all resolved: models only they need load now, with a visible status."""
        for slot in self.studio.slots:
            if not slot.resolved:
                progress(None, desc=f"Loading {slot.title} (first use; its weights may download)")
                slot.resolve()
        return self.studio.slots

    def score_image(self, image: ImageInput | None) -> tuple[str, pd.DataFrame | None, dict[str, Any] | None]:
        """Score an image's perceptual quality with the app's QualiCLIP model: 0 (worst) to 1 (best), no reference
        image needed.

        Args:
            image: the image (JPEG, PNG or WebP; an http(s) URL or a data: URL).

        Returns:
            the score as HTML (the gauge under the main image),
            P(positive prompt) per antonym pair (the Score tab's chart; columns pair and probability),
            the result: score (0..1, full precision), label (its quality band), pair_probabilities (P(positive) per antonym pair, 4 decimals), scored_size and original_size ([width, height] px), notice (whether it was downscaled to be scored), model (its name).
        """
        if image is None:
            return NO_SCORE_HTML, None, None
        return self._score_outputs(self._analysis(image))

    def _score_outputs(self, analysis: Analysis) -> tuple[str, pd.DataFrame, dict[str, Any]]:
        """:meth:`score_image`'s outputs from the upload's analysis."""
        model = self.model
        prepared, (_, pairs, _) = analysis.image, analysis.scores
        score, probabilities, notice = analysis.score, pairs[0].tolist(), scale_notice(prepared)
        result = {
            "score": score,
            "label": quality_label(score),
            "pair_probabilities": pair_columns(model.prompt_pairs, probabilities),
            "scored_size": list(prepared.size),
            "original_size": list(prepared.original_size),
            "notice": notice,
            "model": model.name,
        }
        return gauge_html(score, notice), pair_frame(model.prompt_pairs, probabilities), result

    def score_custom_pairs(self, image: ImageInput | None, text: str | None
                           ) -> tuple[str, pd.DataFrame, dict[str, Any]]:
        """Score an image with antonym prompt pairs of your own (e.g. "Sharp photo. / Blurry photo."): the mean over
        your pairs of P(positive prompt), 0 to 1. Scored with the model's text tower from the image's analysis
        (no second image forward); a model whose text tower cannot do it says why.

        Args:
            image: the image (JPEG, PNG or WebP; an http(s) URL or a data: URL).
            text: one pair per line, "positive / negative", at most 16 lines.

        Returns:
            their mean as HTML (a gauge),
            P(positive prompt) per pair of yours (chart data; columns pair and probability),
            the result: score (the mean), label (its quality band), pairs (each positive, negative and probability), model.
        """
        if (reason := custom_prompts.refusal(self.studio)) is not None:
            raise gr.Error(reason, title="Not available for this model")
        try:
            pairs = custom_prompts.parse_pairs(text or "")
        except ValueError as err:
            raise gr.Error(str(err), title="Invalid prompt pairs") from err
        score, probabilities = custom_prompts.score_pairs(self.model, self._analysis(image), pairs)
        result = {
            "score": round(score, 4),
            "label": quality_label(score),
            "pairs": [{"positive": positive, "negative": negative, "probability": round(p, 4)}
                      for (positive, negative), p in zip(pairs, probabilities)],
            "model": self.model.name,
        }
        caption = f"mean P(positive) over your {len(pairs)} pair(s), {self.model.name}"
        return gauge_html(score, caption), pair_frame(pairs, probabilities), result

    def explain_image(self, image: ImageInput | None, method: str, pair: int, opacity: float
                      ) -> tuple[np.ndarray | None, np.ndarray | None, str, str, Maps | None]:
        """Score tab heatmaps: :meth:`heatmaps`' outputs, then the maps (kept in the session to re-blend them)."""
        if image is None:
            return None, None, "", "", None
        return self._explain_outputs(self._analysis(image), method, pair, opacity)

    def heatmaps(self, image: ImageInput | None, method: str, pair: int, opacity: float
                 ) -> tuple[np.ndarray | None, np.ndarray | None, str, str]:
        """What pulls an image's score up and down: two heatmaps over the image, "towards good" and "towards bad".

        Args:
            image: the image (JPEG, PNG or WebP; an http(s) URL or a data: URL).
            method: gradcam, gradcam++ (Grad-CAM of the score) or attention (gradient-free local scores).
            pair: -1 for the score (all antonym pairs), else one pair's index (0..6): the map of that pair alone.
            opacity: how strongly the maps cover the image, 0 (the image alone) to 1.

        Returns:
            the "towards good" overlay (image),
            the "towards bad" overlay (image),
            the caption of the "towards good" map (Markdown; "no evidence for this prompt" when the map is empty),
            the caption of the "towards bad" map (the same).
        """
        return self.explain_image(image, method, pair, opacity)[:4]

    def _explain_outputs(self, analysis: Analysis, method: str, pair: int, opacity: float
                         ) -> tuple[np.ndarray, np.ndarray, str, str, Maps]:
        """:meth:`explain_image`'s outputs from the upload's analysis."""
        with user_errors():
            try:
                maps = compute_maps(self.model, analysis, method, pair)
            except ValueError as err:  # unknown method or pair index: a wrong choice, not a crash
                raise gr.Error(str(err), title="Invalid choice") from err
        good, bad = maps.overlays(opacity)
        return good, bad, caption(maps.positive, "good"), caption(maps.negative, "bad"), maps

    @staticmethod
    def reblend(maps: Maps | None, opacity: float) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Opacity slider: the same maps blended again, no model call."""
        return maps.overlays(opacity) if maps is not None else (None, None)

    def robustness_preview(self, image: ImageInput | None, degradation: str, level: int
                           ) -> tuple[SliderPair | None, str, str, dict[str, Any] | None]:
        """Degrade an image with one distortion type at one level and score it next to the original.

        Args:
            image: the image (JPEG, PNG or WebP; an http(s) URL or a data: URL).
            degradation: the distortion type's id, e.g. gaussian_blur, motion_blur, jpeg, white_noise, pixelate.
            level: its strength, 0 (the original) to 5 (the strongest).

        Returns:
            the original and the degraded image (the before/after slider),
            the original's score as HTML (a gauge),
            the degraded image's score as HTML (a gauge; its caption names the level's parameter),
            the result: type (its id), type_label, level, level_text (the level's parameter), original and degraded (each score and label), drop (original score minus degraded score), model.
        """
        check_degradation(degradation)
        if image is None:
            return NO_PREVIEW
        return self._preview_outputs(self._analysis(image), degradation, level)

    def _preview_outputs(self, analysis: Analysis, degradation: str, level: int
                         ) -> tuple[SliderPair, str, str, dict[str, Any]]:
        """:meth:`robustness_preview`'s outputs from the upload's analysis: the original's score comes from
        it; the image is degraded once and scored in one forward pass (none at level 0)."""
        level = int(level)
        degraded, original_score, degraded_score = robustness.preview(self.model, analysis, degradation, level)
        type_label, level_text = robustness.type_label(degradation), robustness.level_text(degradation, level)
        result = {"type": degradation, "type_label": type_label, "level": level, "level_text": level_text,
                  "original": {"score": original_score, "label": quality_label(original_score)},
                  "degraded": {"score": degraded_score, "label": quality_label(degraded_score)},
                  "drop": original_score - degraded_score, "model": self.model.name}
        pair = (for_display(to_uint8_rgb(analysis.image.array())), for_display(to_uint8_rgb(degraded)))
        return (pair, gauge_html(original_score, "original"), gauge_html(degraded_score, f"{type_label}, {level_text}"),
                result)

    def analyse_upload(self, image: ImageInput | None, method: str, pair: int, opacity: float, degradation: str,
                       level: int, shown_tab: str) -> tuple:
        """Everything an upload shows, from one analysis in one call (one GPU call on ZeroGPU): the
        :meth:`score_image` outputs, the :meth:`explain_image` outputs, then the :meth:`robustness_preview`
        outputs if the Robustness tab is the one shown, else no change to them."""
        preview_shown, unchanged = shown_tab == ROBUSTNESS_TAB, (gr.skip(),) * len(NO_PREVIEW)
        if (kept := self.examples.get(image, (method, pair, opacity, degradation, level, shown_tab))) is not None:
            return kept
        if image is None:
            return (*self.score_image(None), *self.explain_image(None, method, pair, opacity),
                    *(self.robustness_preview(None, degradation, level) if preview_shown else unchanged))
        if preview_shown:
            check_degradation(degradation)
        analysis = self._analysis(image)
        preview = self._preview_outputs(analysis, degradation, level) if preview_shown else unchanged
        return (*self._score_outputs(analysis), *self._explain_outputs(analysis, method, pair, opacity), *preview)

    def _error_card(self, *images: ImageInput | None) -> str:
        """Why the first unusable image of ``images`` was refused (naming it, saying what to do), as HTML.

        The images are only decoded and checked again (no model pass), which is what refuses them.
        """
        for image in images:
            try:
                load_input(image, self.model.prepare)
            except gr.Error as err:
                return error_html(err.message)
        return error_html(UNEXPECTED)

    def input_error(self, image: ImageInput | None) -> tuple[str, str]:
        """After a new image failed to score: the reason in place of the Score and Robustness gauges, as the
        upload's quiet endpoint noted it (:attr:`refusals`), else from decoding the image again."""
        message = self.refusals.pop(image)
        card = error_html(message) if message is not None else self._error_card(image)
        return card, card

    def two_photos_error(self, first: ImageInput | None, second: ImageInput | None) -> str:
        """After the two photos failed: the reason in place of the verdict."""
        return self._error_card(*(image for image in (first, second) if image is not None))

    @staticmethod
    def selected_tab(selection: gr.SelectData) -> str:
        """The label of the tab the user just opened."""
        return str(selection.value)

    @staticmethod
    def main_image_shown(selection: gr.SelectData) -> dict[str, Any]:
        """Hide the main image column on a tab that has inputs of its own (:data:`OWN_INPUT_TABS`)."""
        return gr.update(visible=str(selection.value) not in OWN_INPUT_TABS)

    def sweep_image(self, image: ImageInput | None, degradation: str, every_type: bool,
                    progress: gr.Progress = gr.Progress()) -> tuple[Any, pd.DataFrame, str, str, str]:
        """Score an image at every level (0..5) of one distortion type, or of every type, with every available
        model: does each score fall as the distortion grows? Each type is degraded once; one batched forward
        per type and model (level 0 once per model). Models only the Compare tab needs load on first use.

        Args:
            image: the image (JPEG, PNG or WebP; an http(s) URL or a data: URL).
            degradation: the distortion type's id (ignored with every_type), e.g. gaussian_blur, jpeg.
            every_type: true to sweep every distortion type (about 25 times longer).

        Returns:
            the plot of score against level (one panel per distortion group),
            the table: one row per type and model with type, model, spearman (of level and score), monotone (whether the score falls), L0..L5 (the scores),
            a summary in words (the series that do not fall, the unavailable models),
            the table as CSV (a file),
            the plot as PNG (a file).
        """
        analysis = self._analysis(image)
        if not every_type:
            check_degradation(degradation)
        names = list(DEGRADATIONS) if every_type else [degradation]
        slots = self._slots(progress)
        models = {slot.model.name: slot.model for slot in slots if slot.model is not None}
        table = robustness.sweep(models, analysis.image.array(), names,
                                 lambda index, name: progress((index, len(names)),
                                                              desc=f"Scoring {robustness.type_label(name)}",
                                                              unit="types"))
        rising = [row.type if len(models) == 1 else f"{row.type} ({row.model})"
                  for row in table.loc[~table["monotone"]].itertuples()]
        summary = (f"The score falls monotonically with the level for all {len(table)} series." if not rising else
                   f"**Not monotone** (the score rises somewhere as the level grows): {', '.join(rising)}.")
        if any(not DEGRADATIONS[name].monotone for name in names):
            summary += " Types marked '(original table)' are not ordered by severity by design."
        if missing := unavailable_line(slots, "Not in this sweep:"):
            summary += f"\n\n{missing}"
        figure = robustness.sweep_figure(table)
        folder = exports.request_folder()
        return (figure, table, summary, str(exports.write_csv(table, "qualiclip_sweep.csv", folder)),
                str(exports.write_png(figure, "qualiclip_sweep.png", folder)))

    def batch_score(self, files: Sequence[str] | None, progress: gr.Progress = gr.Progress()
                    ) -> tuple[pd.DataFrame, str]:
        """Score many image files at once (at most 200 files and 1,000 megapixels in all); a file that cannot be
        scored gets a row saying why.

        Args:
            files: the image files (JPEG, PNG or WebP; http(s) URLs or data: URLs).

        Returns:
            the table: one row per file with thumbnail, file, score, label (its quality band), error and P(positive) per antonym pair,
            the table as CSV (a file).
        """
        if not files:
            raise gr.Error("Add one or more image files first.", title="No files")
        if len(files) > batch.MAX_BATCH_FILES:
            raise gr.Error(f"{len(files)} files given; at most {batch.MAX_BATCH_FILES} per batch.",
                           title="Too many files")
        paths = [Path(f) for f in files]
        if (pixels := batch.total_pixels(paths)) > batch.MAX_BATCH_PIXELS:
            raise gr.Error(f"These files hold {pixels / 1e6:,.0f} megapixels; at most "
                           f"{batch.MAX_BATCH_PIXELS / 1e6:,.0f} per batch.", title="Too many pixels")
        progress((0, len(paths)), desc="Scoring", unit="files")
        table = batch.score_table(self.model, paths,
                                  lambda done: progress((done, len(paths)), desc="Scoring", unit="files"))
        return table, str(batch.write_csv(table))

    def compare_models(self, image: ImageInput | None, progress: gr.Progress = gr.Progress()
                       ) -> tuple[pd.DataFrame, list[tuple[np.ndarray, str]], str, str]:
        """Score an image with every model this app knows (official QualiCLIP, CLIP-IQA, the bundled offline
        model, QualiCLIP+), with each model's heatmaps. Models only this tab needs load on first use; each
        runs its image tower once, and its maps (Grad-CAM of its score) start from there.

        Args:
            image: the image (JPEG, PNG or WebP; an http(s) URL or a data: URL).

        Returns:
            the table: one row per model with model, status (loaded or unavailable), score, label, details and P(positive) per antonym pair,
            each loaded model's "towards good" and "towards bad" maps (a gallery),
            one line naming the unavailable models and why,
            the table as CSV (a file).
        """
        analysis = self._analysis(image)  # an unusable image fails before any model loads
        rows, gallery = [], []
        for slot in self._slots(progress):
            row: dict[str, Any] = {"model": slot.title, "status": "loaded" if slot.model else "unavailable"}
            if slot.model is None:
                rows.append({**row, "score": None, "label": "", "details": "see the line below the table"})
                continue
            own = analysis if slot.model is self.model else load_input(image, functools.partial(analyse, slot.model))
            scores, pairs, _ = own.scores
            rows.append({**row, "score": round(float(scores[0]), 4), "label": quality_label(float(scores[0])),
                         "details": f"weights: {Path(slot.model.weights_origin).name}",
                         **pair_columns(slot.model.prompt_pairs, pairs[0].tolist())})
            progress(None, desc=f"Heatmaps of {slot.title}")
            gallery += gallery_items(slot.model.name, compute_maps(slot.model, own, COMPARE_METHOD, ALL_PAIRS))
        table = pd.DataFrame(rows, columns=compare_columns(self.model.prompt_pairs))
        return (table, gallery, unavailable_line(self.studio.slots, "Unavailable here:"),
                str(exports.write_csv(table, "qualiclip_compare.csv")))

    def compare_two_photos(self, first: ImageInput | None, second: ImageInput | None
                           ) -> tuple[str, str, str, list[tuple[np.ndarray, str]], SliderPair | None,
                                      dict[str, Any] | None]:
        """Which of two photos looks better to the model: both scores, the difference in words, and what pulls
        each score up or down. Each photo is analysed once (and cached like any upload).

        Args:
            first: photo A (JPEG, PNG or WebP; an http(s) URL or a data: URL).
            second: photo B (the same).

        Returns:
            photo A's score as HTML (a gauge),
            photo B's score as HTML (a gauge),
            the verdict in words (Markdown; with one photo only, a line asking for the other),
            both photos' "towards good" and "towards bad" maps (Grad-CAM of each score; a gallery),
            A and B (the before/after slider),
            the result: photo_a and photo_b (each score and label), difference (A's score minus B's), better (Photo A, Photo B, or null when both score the same to 3 decimals), verdict, model.
        """
        images = (first, second)
        analyses = [None if image is None else self._analysis(image) for image in images]
        gauges = [gauge_html(a.score, name) if a else "" for name, a in zip(two_photos.NAMES, analyses)]
        if None in analyses:
            missing = [name for name, a in zip(two_photos.NAMES, analyses) if a is None]
            hint = "" if len(missing) == 2 else f"Add {missing[0]} to compare the two."
            return gauges[0], gauges[1], hint, [], None, None
        compared = two_photos.compare_two(self.model, *analyses)
        pair = tuple(for_display(to_uint8_rgb(analysis.image.array())) for analysis in analyses)
        return (gauges[0], gauges[1], compared.verdict, compared.maps, pair,
                {**two_photos.result(*compared.scores), "model": self.model.name})

    def learn_similarities(self, image: ImageInput | None, degradation: str, pair: int
                           ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """How the score is made, level by level: an image's cosine similarity with one antonym pair's positive and
        negative prompt at every level (0..5) of one distortion type, with P(positive) and the score.

        Args:
            image: the image (JPEG, PNG or WebP; an http(s) URL or a data: URL).
            degradation: the distortion type's id, e.g. gaussian_blur, jpeg.
            pair: the antonym pair's index (0..6).

        Returns:
            the plot's data (level, prompt, cosine similarity),
            the table: per level, the similarity with each prompt, P(positive) and the score.
        """
        check_degradation(degradation)
        model = self.model
        if not 0 <= int(pair) < len(model.prompt_pairs):
            raise gr.Error(f"Pair must be 0..{len(model.prompt_pairs) - 1}.", title="Invalid choice")
        pair = int(pair)
        scores, probabilities, sims = robustness.score_levels(model, self._analysis(image).image.array(), degradation)
        values = (list(ALL_LEVELS), sims[:, prompt_row(pair, POSITIVE)], sims[:, prompt_row(pair, NEGATIVE)],
                  probabilities[:, pair], scores)
        names = [column.name for column in learn_columns(model.prompt_pairs[pair])]
        table = pd.DataFrame(dict(zip(names, values))).astype(float).round(4).astype({"level": int})
        lines = table.melt(id_vars="level", value_vars=list(table.columns[1:3]), var_name="prompt",
                           value_name="cosine similarity").astype({"level": str})  # whole levels on the axis
        return lines, table

    def robustness_report(self, files: Sequence[str] | None, types: Sequence[str] | None = None, seed: float = 0,
                          progress: gr.Progress = gr.Progress()) -> tuple[Any, pd.DataFrame, str, str, str]:
        """A robustness report over your photos: each photo degraded at levels 0..5 of every chosen distortion
        type and scored by every available model. Per model and type: the mean Spearman of level and score over
        the photos, the fraction of photos whose score falls monotonically and the pairwise ranking accuracy;
        the numbers of ``qualiclip eval-synthetic`` on the same photos (in this order), types and seed.

        Args:
            files: the photos (image files: http(s) or data: URLs), at most 20; their order fixes the random draws.
            types: distortion type ids (e.g. gaussian_blur, jpeg); empty for every one of the 24 monotone types.
            seed: the seed of the random distortion parameters (an integer).

        Returns:
            the figure: mean score against level, +-1 sd band over the photos, one panel per type,
            the table: one row per model and type (then the model's overall row) with model, distortion, spearman, monotone fraction, pairwise accuracy, photos,
            a summary in words (per model: the overall figures and the least reliable types; unavailable models),
            the report as CSV (a file; per-level means and sds too),
            the figure as PNG (a file).
        """
        if not files:
            raise gr.Error("Add one or more photos first.", title="No photos")
        paths = [Path(f) for f in files]
        try:
            kinds = report_types(list(types or ()))
        except ValueError as err:
            raise gr.Error(str(err), title="Invalid choice") from err
        slots = self._slots(progress)
        models = {slot.model.name: slot.model for slot in slots if slot.model is not None}
        try:
            report_work(paths, kinds, len(models), self.model.max_side).check(photo_report.MAX_PHOTOS,
                                                                              photo_report.MAX_SCORED_MEGAPIXELS)
        except ValueError as err:
            raise gr.Error(f"{err}.", title="Report too large") from err
        with user_errors(*paths):
            report = robustness_report(paths, models, kinds, int(seed), max_side=self.model.max_side,
                                       on_progress=lambda done, text: progress(done, desc=text))
        titles = {slot.model.name: slot.title for slot in slots if slot.model is not None}
        summary = photo_report.summary(report, titles)
        if missing := unavailable_line(slots, "Not in this report:"):
            summary += f"\n\n{missing}"
        figure, folder = report.figure(), exports.request_folder()
        return (figure, photo_report.report_table(report, titles), summary,
                str(report.write_csv(folder / "qualiclip_robustness_report.csv")),
                str(exports.write_png(figure, "qualiclip_robustness_report.png", folder)))

    def training_step(self, image: ImageInput | None, steps: float = live_training.DEFAULT_STEPS,
                      progress: gr.Progress = gr.Progress()
                      ) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame, pd.DataFrame, str, dict[str, Any]]:
        """Watch QualiCLIP learn on your photo: a few training steps of the paper on a throw-away copy of the
        model (the served model never changes). Two overlapping crops of the photo are degraded at levels 1..5
        by one drawn distortion; the copy's image encoder takes the steps on QualiCLIP's three losses.

        Args:
            image: the photo (JPEG, PNG or WebP; an http(s) URL or a data: URL).
            steps: the number of optimisation steps, 0 to 20.

        Returns:
            the crops as one picture: crop A on top, crop B below, levels 1..5 left to right,
            the losses (consistency, positive ranking, negative ranking, weighted total) before and after the steps,
            each crop's mean similarity with the positive and with the negative prompts per level, before and after,
            every loss at every step (step 0: before the first update),
            a summary in words (the distortion, the total loss before and after),
            the losses as a dict {"before": {...}, "after": {...}}, each with consistency, positive, negative and total.
        """
        steps = int(steps)  # within 0..APP_MAX_STEPS: the slider refuses other values
        prepared = self._analysis(image).image
        progress((0, steps), desc="Training", unit="steps")
        demo = train_steps(self.model, prepared, steps, on_step=lambda step, _: progress((step, steps),
                                                                                         desc="Training", unit="steps"))
        return (demo.crops.grid(), live_training.losses_table(demo), live_training.similarity_table(demo),
                live_training.history_frame(demo), live_training.summary(demo, steps), demo.losses)
