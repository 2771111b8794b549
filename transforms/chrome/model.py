"""The learned line model and the plain-text stripper built on it.

Every non-empty line of a page gets a label: ``body``, ``title``, ``byline``, ``date`` or ``chrome``. Two stages
of gradient-boosted trees (LightGBM):

1. each line from its own features and its neighbours' (:mod:`transforms.chrome.features`);
2. a smoothing pass: each line again, from the first stage's label probabilities of the lines around it (the
   article is one run; a subheading sits between paragraphs, a lone sentence in the footer does not).

The model is trained by ``scripts/train_text_model.py`` on the corpora in ``../shared/corpora`` and shipped as
one JSON file; ``flows/`` reads it once and passes the :class:`LineModel` in (nothing here opens a file).

The user's controls still decide first: a line the lexicon (``seeds/chrome_phrases.csv``) names is removed with
its rule, and a line the site repeats in many documents with ``site_repeat``; every other removed line keeps the
model's label and probability as its reason (``model:chrome@0.9``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from transforms.chrome.features import (
    FEATURE_NAMES, SHAPE_NAMES, FunctionWords, LineCache, no_function_words, page_features, page_lines, page_shapes,
)
from transforms.chrome.fields import date_from_line, names_from_byline, title_from_line
from transforms.chrome.rules import ChromeLexicon, StrippedText, learnable_line
from transforms.chrome.segments import segment_text
from transforms.records import RemovedLines

LABELS = ("body", "title", "byline", "date", "chrome")
# The least probability at which a removed line is read as the title, byline or date: the best for each field on
# the corpora's out-of-fold predictions (scripts/eval_text_model.py --cv-only; 0.3/0.5/0.5 before: title 40.8% ->
# 42.1%, an author 8.6% -> 19.8%, the date 23.2% -> 34.1% of the pages).
TITLE_THRESHOLD, BYLINE_THRESHOLD, DATE_THRESHOLD = 0.15, 0.1, 0.1
BODY, TITLE, BYLINE, DATE, CHROME = range(len(LABELS))
# Offsets whose first-stage probabilities the smoothing stage sees, and half-widths of the windows it averages.
SMOOTH_OFFSETS = (-4, -3, -2, -1, 1, 2, 3, 4)
SMOOTH_WINDOWS = (3, 10, 30)
_OWN_COLUMNS = [SHAPE_NAMES.index(name) for name in ("log_words", "ends_sentence", "sentence_like", "lexicon_rule")]
SMOOTH_NAMES: tuple[str, ...] = (
    tuple(f"p_{label}" for label in LABELS)
    + tuple(f"p_{label}@{offset:+d}" for offset in SMOOTH_OFFSETS for label in LABELS)
    + tuple(f"p_body~{width}" for width in SMOOTH_WINDOWS)
    + ("p_body_max_before", "p_body_max_after", "body_mass_before", "body_mass_after", "log_words", "ends_sentence",
       "sentence_like", "lexicon_rule", "position")
)


def smoothing_features(probabilities: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The smoothing stage's columns (:data:`SMOOTH_NAMES`) from first-stage probabilities (lines x labels).

    >>> probs = np.array([[0.1, 0, 0, 0, 0.9], [0.9, 0, 0, 0, 0.1]], dtype=np.float32)
    >>> smoothing_features(probs, np.zeros((2, len(FEATURE_NAMES)), np.float32)).shape == (2, len(SMOOTH_NAMES))
    True
    """
    n = len(probabilities)
    pad = max(abs(offset) for offset in SMOOTH_OFFSETS)
    padded = np.full((n + 2 * pad, len(LABELS)), -1.0, dtype=np.float32)
    padded[pad:pad + n] = probabilities
    shifted = [padded[pad + offset:pad + offset + n] for offset in SMOOTH_OFFSETS]
    body = probabilities[:, BODY].astype(np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(body)])
    index = np.arange(n)
    windows = []
    for width in SMOOTH_WINDOWS:
        low, high = np.clip(index - width, 0, n), np.clip(index + width + 1, 0, n)
        windows.append((cumulative[high] - cumulative[low]) / (high - low))
    # the strongest body line within 30 lines above and below: is this line inside the article's run?
    padded_body = np.concatenate([np.zeros(30), body, np.zeros(30)])
    window_max = np.lib.stride_tricks.sliding_window_view(padded_body, 30).max(axis=1)
    max_before, max_after = window_max[:n], window_max[31:31 + n]
    words = np.expm1(features[:, 1]).astype(np.float64)
    mass = body * words
    total = max(mass.sum(), 1.0)
    mass_before = (np.cumsum(mass) - mass) / total
    mass_after = 1.0 - mass_before - mass / total
    position = index / max(n - 1, 1)
    return np.hstack([
        probabilities, *shifted,
        np.column_stack([*windows, max_before, max_after, mass_before, mass_after]).astype(np.float32),
        features[:, _OWN_COLUMNS], position[:, None].astype(np.float32),
    ]).astype(np.float32)


if TYPE_CHECKING:
    import lightgbm


@dataclass
class LineModel:
    """The two trained stages, the body threshold chosen by cross-validation, and the model's version."""

    version: str
    line_stage: lightgbm.Booster
    smooth_stage: lightgbm.Booster
    body_threshold: float = 0.5
    title_threshold: float = TITLE_THRESHOLD
    byline_threshold: float = BYLINE_THRESHOLD
    date_threshold: float = DATE_THRESHOLD
    # the function words of a language (flows/models.py reads them from wordfreq)
    function_words: FunctionWords = field(default=no_function_words, repr=False)

    @classmethod
    def from_json(cls, text: str, function_words: FunctionWords = no_function_words) -> "LineModel":
        """The model from the JSON text ``scripts/train_text_model.py`` writes; a clear error if it does not fit."""
        # imported here: lightgbm (and the pandas it pulls in) costs about a second, and only the
        # --text-stripper model runs need it
        import lightgbm

        data = json.loads(text)
        if tuple(data["features"]) != FEATURE_NAMES or tuple(data["smooth_features"]) != SMOOTH_NAMES:
            raise ValueError(f"line model {data.get('version')!r} was trained on other features than this code "
                             "computes: rebuild it with scripts/train_text_model.py")
        return cls(version=data["version"], line_stage=lightgbm.Booster(model_str=data["line_stage"]),
                   smooth_stage=lightgbm.Booster(model_str=data["smooth_stage"]), function_words=function_words,
                   **{key: data[key] for key in ("body_threshold", "title_threshold", "byline_threshold",
                                                 "date_threshold") if key in data})

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Label probabilities (lines x :data:`LABELS`) after both stages."""
        first = self.line_stage.predict(features, num_threads=1)
        return self.smooth_stage.predict(smoothing_features(first.astype(np.float32), features), num_threads=1)


def strip_with_model(text: str, *, model: LineModel, lexicon: ChromeLexicon | None,
                     site_chrome: frozenset[str] = frozenset(), language: str | None = None,
                     cache: LineCache | None = None) -> StrippedText:
    """Remove chrome from plain text with the line model; fill title, authors and date from its labels.

    ``language`` is the page's language (ISO 639-1) for its function words; ``cache`` shares the lexicon's verdict
    on line texts across the texts of a batch. A text without line breaks is split into sentences first.
    """
    text = segment_text(text)
    lines, above, below, indents = page_lines(text)
    n = len(lines)
    if not n:
        return StrippedText(body="", chrome=RemovedLines(), input_lines=0)
    keys, rules, tails = (cache if cache is not None else LineCache()).describe(lines, lexicon)
    shapes = page_shapes(lines, function=model.function_words(language), rules=rules, tails=tails)
    features = page_features(lines, above, below, indents, shapes, keys)
    probabilities = model.probabilities(features)
    body = (probabilities[:, BODY] >= model.body_threshold).tolist()
    reasons: list[str | None] = list(rules)
    for i, line in enumerate(lines):
        if reasons[i]:
            continue
        if site_chrome and keys[i] in site_chrome and learnable_line(line):
            reasons[i] = "site_repeat"
        elif not body[i]:
            label = int(np.argmax(probabilities[i, 1:])) + 1
            reasons[i] = f"model:{LABELS[label]}@{probabilities[i, label]:.1f}"
    return _assemble(lines, above, reasons, probabilities, model, language)


def _assemble(lines: list[str], above: list[int], reasons: list[str | None], probabilities: np.ndarray,
              model: LineModel, language: str | None) -> StrippedText:
    kept = [i for i, reason in enumerate(reasons) if reason is None]
    body = "\n".join(("\n" if j and above[i] else "") + lines[i] for j, i in enumerate(kept))
    first_body = kept[0] if kept else len(lines)
    candidates = [i for i in range(len(lines)) if reasons[i] is not None]
    title, authors, published = fields_from_labels(
        lines, probabilities, candidates, first_body, function=model.function_words(language), language=language,
        title_threshold=model.title_threshold, byline_threshold=model.byline_threshold,
        date_threshold=model.date_threshold)
    removed = RemovedLines.of([lines[i] for i in candidates], [reasons[i] for i in candidates])
    return StrippedText(body=body.strip(), chrome=removed, title=title, authors=tuple(authors),
                        captions=tuple(lines[i] for i in candidates if reasons[i].startswith("caption")),
                        published=published, input_lines=len(lines))


def fields_from_labels(lines: list[str], probabilities: np.ndarray, candidates: list[int], first_body: int, *,
                       function: frozenset[str], language: str | None, title_threshold: float = TITLE_THRESHOLD,
                       byline_threshold: float = BYLINE_THRESHOLD, date_threshold: float = DATE_THRESHOLD,
                       ) -> tuple[str | None, list[str], str | None]:
    """(title, authors, date) from the removed lines (``candidates``) the model labels title, byline and date.

    Each is read from one line, the likeliest (above the article's start for the title) among those whose label
    probability reaches its threshold and from which a value can be read: the rare labels get low
    probabilities, and a wrong name in the authors costs more than a missing one.

    >>> probs = np.array([[0, .8, 0, 0, .2], [0, 0, .6, 0, .4], [0, 0, 0, .3, .7], [1, 0, 0, 0, 0]], dtype=float)
    >>> lines = ["Bridge reopens | Daily Example", "By Jane Roe", "May 3, 2024", "The bridge reopened."]
    >>> fields_from_labels(lines, probs, [0, 1, 2], 3, function=frozenset(), language="en")
    ('Bridge reopens', ['Jane Roe'], '2024-05-03')
    """
    title = None
    if candidates:
        best = max(candidates, key=lambda i: probabilities[i, TITLE] + (0.2 if i < first_body else 0.0))
        if probabilities[best, TITLE] >= title_threshold:
            title = title_from_line(lines[best])
    authors: list[str] = []
    for i in sorted((i for i in candidates if probabilities[i, BYLINE] >= byline_threshold),
                    key=lambda i: -probabilities[i, BYLINE]):
        authors = names_from_byline(lines[i], function=function)
        if authors:
            break
    published = None
    for i in sorted((i for i in candidates if probabilities[i, DATE] >= date_threshold),
                    key=lambda i: -probabilities[i, DATE]):
        published = date_from_line(lines[i], language)
        if published:
            break
    return title, authors, published
