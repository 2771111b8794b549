"""Features of a page's lines for the line model, the same in any language and from any renderer.

Three kinds, as columns of one float32 matrix (one row per non-empty line; :data:`FEATURE_NAMES` names them):

- the line's own shape (:func:`line_shape`): length in words and characters, punctuation and sentence ends,
  capitals, digits, URL / e-mail / date / time shapes, the share of the page language's function words, and what
  the user's lexicon (``seeds/``) says of it. These depend on the text alone, so they are worked out once per
  distinct line and kept in a cache a batch can share;
- its place in the page: position, blank lines around it, its share of the page's words, how often the page
  repeats it;
- the same shape of the lines around it, and sums over windows of lines (the article is one run of prose).

Function words are the most frequent words of the page's language (``flows/models.py`` reads them from wordfreq's
lists and passes them in as a callable), so no language is written into the code.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from transforms.chrome.rules import _CJK, _MONTH_WORDS, ChromeLexicon, line_key

# How many of a language's most frequent words count as its function words.
FUNCTION_WORDS = 120
# language (ISO 639-1, or None) -> its function words
FunctionWords = Callable[[str | None], frozenset[str]]
# Lines of context on each side whose shape the model sees.
CONTEXT = 3
# Half-widths of the windows summed around a line.
WINDOWS = (2, 6, 15)

SHAPE_NAMES = (
    "log_chars", "log_words", "mean_word_chars", "ends_sentence", "ends_colon", "ends_alnum", "punct_share",
    "inner_sentence_ends", "commas_per_word", "starts_upper", "starts_lower", "capital_share", "caps_share",
    "digit_share", "has_year", "has_clock", "has_date", "has_url", "bullet", "separators", "function_share",
    "lexicon_rule", "lexicon_byline", "lexicon_caption", "lexicon_time", "tail_marker", "markdown", "quotes",
    "cjk_share", "copyright", "brackets", "sentence_like",
)
# Shape columns repeated for each neighbour (the ones that tell prose, menus and labels apart).
CONTEXT_COLUMNS = ("log_words", "ends_sentence", "punct_share", "function_share", "lexicon_rule", "has_url",
                   "has_date", "capital_share", "sentence_like")
PAGE_NAMES = ("position", "log_index", "log_from_end", "log_lines", "blank_before", "blank_after", "indent",
              "word_share", "words_above_share", "log_page_repeats", "first_copy", "words_to_max",
              "longest_run_share")
_CONTEXT_INDEX = [SHAPE_NAMES.index(name) for name in CONTEXT_COLUMNS]
_WINDOW_COLUMNS = ("log_words", "sentence_like", "lexicon_rule", "has_url")
_WINDOW_INDEX = [SHAPE_NAMES.index(name) for name in _WINDOW_COLUMNS]
FEATURE_NAMES: tuple[str, ...] = (
    SHAPE_NAMES + PAGE_NAMES
    + tuple(f"{name}@{offset:+d}" for offset in range(-CONTEXT, CONTEXT + 1) if offset for name in CONTEXT_COLUMNS)
    + tuple(f"{name}~{width}" for width in WINDOWS for name in _WINDOW_COLUMNS)
)

_WORD = re.compile(r"\w+")
_TERMINAL = frozenset(".!?…。！？")
_CLOSERS = "\"'”’»)]」』）"
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_CLOCK = re.compile(r"\b\d{1,2}[:.h]\d\d\b")
_NUMERIC_DATE = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\d{4}年|\d{1,2}月\d{1,2}日")
_URL = re.compile(r"https?://|www\.|\S+@\S+\.\w|\.(?:com|org|net)\b|(?:^|\s)[@#]\w")
_BULLET = re.compile(r"^(?:[-*•·–—>▪►◦]|\d{1,3}[.)])\s")
_SEPARATORS = re.compile(r"[|•·»›/]")
_MARKDOWN = re.compile(r"^#+\s|\]\(|^\*\*|!\[")
_QUOTES = frozenset("\"“”„«»「」")
_PUNCT = re.compile(r"[^\w\s]")
_INNER_END = re.compile(r"[.!?。！？]\s+\S|[。！？]\S")
_CAPTION_RULE = "caption"
_BYLINE_RULES = frozenset({"byline", "byline_label", "author_box"})
_TIME_RULES = frozenset({"dateline", "relative_time", "read_time"})


def no_function_words(language: str | None) -> frozenset[str]:
    """A :data:`FunctionWords` that knows no language (the function-word share is then 0 on every line)."""
    return frozenset()


def line_shape(text: str, *, function: frozenset[str], rule: str | None = None, tail: bool = False) -> tuple:
    """The shape columns (:data:`SHAPE_NAMES`) of one stripped, non-empty line.

    ``rule`` is the lexicon's rule for the line and ``tail`` whether it is a tail marker ("Related articles").

    >>> shape = dict(zip(SHAPE_NAMES, line_shape("The bridge reopens on Monday, officials said.",
    ...                                          function=frozenset({"the", "on", "said"}))))
    >>> shape["ends_sentence"], shape["function_share"] > 0.2, shape["has_url"]
    (1.0, True, 0.0)
    """
    chars = len(text)
    words = _WORD.findall(text)
    ascii_only = text.isascii()
    cjk = 0 if ascii_only else len(_CJK.findall(text))
    units = len(words) + cjk // 2 if cjk else len(words)  # a Chinese or Japanese "word" is about two characters
    units = max(units, 1)
    last = text.rstrip(_CLOSERS)[-1:] or text[-1]
    ends_sentence = last in _TERMINAL
    lowered = list(map(str.lower, words))
    if cjk:
        function_share = sum(1 for char in text if char in function) / max(cjk, 1)
    else:
        function_share = sum(map(function.__contains__, lowered)) / units if function else 0.0
    alpha = [word for word in words if word[0].isalpha()]
    capital = sum(1 for word in alpha if word[0].isupper()) / len(alpha) if alpha else 0.0
    caps = sum(1 for word in alpha if len(word) > 1 and word.isupper()) / len(alpha) if alpha else 0.0
    digits = sum(map(str.isdigit, text))
    # (the digit patterns are tried only where there are digits, the URL shapes only where their marks are)
    has_date = digits > 0 and (bool(_NUMERIC_DATE.search(text)) or not _MONTH_WORDS.isdisjoint(lowered))
    has_year = digits > 0 and bool(_YEAR.search(text))
    has_clock = digits > 0 and bool(_CLOCK.search(text))
    has_url = ("." in text or "@" in text or "#" in text or ":" in text) and bool(_URL.search(text))
    first = text[0]
    sentence_like = float(ends_sentence and units >= 6 and capital < 0.6)
    return (
        math.log1p(chars), math.log1p(units), chars / units, float(ends_sentence), float(last == ":"),
        float(last.isalnum()), len(_PUNCT.findall(text)) / chars, len(_INNER_END.findall(text)) / units,
        text.count(",") / units, float(first.isupper()), float(first.islower()), capital, caps, digits / chars,
        float(has_year), float(has_clock), float(has_date), float(has_url), float(bool(_BULLET.match(text))), float(len(_SEPARATORS.findall(text))),
        function_share, float(rule is not None), float(rule in _BYLINE_RULES),
        float(rule is not None and rule.startswith(_CAPTION_RULE)), float(rule in _TIME_RULES), float(tail),
        float(bool(_MARKDOWN.search(text))), float(not (ascii_only and '"' not in text) and not _QUOTES.isdisjoint(text)),
        cjk / chars, float("©" in text or "(" in text and "(c)" in text.lower()), float(text.count("(") + text.count("[")), sentence_like,
    )


class ShapeCache:
    """Shapes of line texts already seen, per language, shared by the pages of a batch (menus recur).

    Cleared when it grows past ``limit`` entries so a long batch does not hold every line it had.
    """

    def __init__(self, function_words: FunctionWords = no_function_words, limit: int = 50_000) -> None:
        self.function_words = function_words
        self.limit = limit
        self._shapes: dict[tuple[str | None, str], tuple] = {}

    def shapes(self, texts: Sequence[str], *, language: str | None, lexicon: ChromeLexicon | None) -> list[tuple]:
        """The shape of each text, worked out for the texts not seen before."""
        return [shape for shape, _key, _rule in self.lookup(texts, language=language, lexicon=lexicon)]

    def lookup(self, texts: Sequence[str], *, language: str | None,
               lexicon: ChromeLexicon | None) -> list[tuple[tuple, str, str | None]]:
        """(shape, line key, lexicon rule) of each text."""
        if len(self._shapes) > self.limit:
            self._shapes.clear()
        found = self._shapes
        new = list(dict.fromkeys(text for text in texts if (language, text) not in found))
        if new:
            rules = lexicon.rules_for_lines(new) if lexicon is not None else [None] * len(new)
            tails = lexicon.tail_flags(new) if lexicon is not None else [False] * len(new)
            function = self.function_words(language)
            for text, rule, tail in zip(new, rules, tails):
                found[(language, text)] = (line_shape(text, function=function, rule=rule, tail=tail),
                                           line_key(text), rule)
        return [found[(language, text)] for text in texts]


def page_lines(text: str) -> tuple[list[str], list[int], list[int], list[int]]:
    """The non-empty lines of ``text`` (stripped), with the blank lines above and below each and its indent.

    >>> page_lines("A\\n\\n\\n  B\\nC")
    (['A', 'B', 'C'], [0, 2, 0], [2, 0, 0], [0, 2, 0])
    """
    lines, above, indents = [], [], []
    blanks = 0
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped:
            blanks += 1
            continue
        lines.append(stripped)
        above.append(blanks)
        indents.append(len(raw) - len(raw.lstrip()))
        blanks = 0
    below = above[1:] + [blanks]
    return lines, above, below, indents


def page_features(lines: Sequence[str], above: Sequence[int], below: Sequence[int], indents: Sequence[int],
                  shapes: Sequence[tuple], keys: Sequence[str] | None = None) -> np.ndarray:
    """The full feature matrix (:data:`FEATURE_NAMES`) of a page's lines from their shapes.

    >>> lines, above, below, indents = page_lines("Home\\nThe bridge reopens on Monday, officials said.\\nShare")
    >>> shapes = [line_shape(line, function=frozenset({"the", "on"})) for line in lines]
    >>> page_features(lines, above, below, indents, shapes).shape == (3, len(FEATURE_NAMES))
    True
    """
    n = len(lines)
    shape = np.asarray(shapes, dtype=np.float32).reshape(n, len(SHAPE_NAMES))
    words = np.expm1(shape[:, 1])
    total = max(float(words.sum()), 1.0)
    index = np.arange(n, dtype=np.float32)
    keys = keys if keys is not None else [line_key(line) for line in lines]
    counts = Counter(keys)
    seen: set[str] = set()
    first = np.zeros(n, dtype=np.float32)
    for i, key in enumerate(keys):
        if key not in seen:
            seen.add(key)
            first[i] = 1.0
    # The longest run of sentence-like lines: the article's likely core; its share of the page's words.
    sentence = shape[:, SHAPE_NAMES.index("sentence_like")] > 0
    run_words = np.zeros(n, dtype=np.float32)
    start = 0
    while start < n:
        end = start
        while end < n and sentence[end]:
            end += 1
        if end > start:
            run_words[start:end] = words[start:end].sum() / total
            start = end
        else:
            start += 1
    page = np.column_stack([
        index / max(n - 1, 1), np.log1p(index), np.log1p(n - 1 - index), np.full(n, math.log1p(n)),
        np.minimum(np.asarray(above, dtype=np.float32), 3), np.minimum(np.asarray(below, dtype=np.float32), 3),
        np.log1p(np.asarray(indents, dtype=np.float32)), words / total, (np.cumsum(words) - words) / total,
        np.log1p(np.asarray([counts[key] - 1 for key in keys], dtype=np.float32)), first,
        words / max(float(words.max()), 1.0), run_words,
    ]).astype(np.float32)
    context = shape[:, _CONTEXT_INDEX]
    padded = np.full((n + 2 * CONTEXT, len(_CONTEXT_INDEX)), -1.0, dtype=np.float32)  # -1: no line there
    padded[CONTEXT:CONTEXT + n] = context
    around = [padded[CONTEXT + offset:CONTEXT + offset + n] for offset in range(-CONTEXT, CONTEXT + 1) if offset]
    windowed = shape[:, _WINDOW_INDEX]
    cumulative = np.vstack([np.zeros((1, windowed.shape[1]), dtype=np.float64), np.cumsum(windowed, axis=0)])
    sums = []
    for width in WINDOWS:
        low = np.clip(np.arange(n) - width, 0, n)
        high = np.clip(np.arange(n) + width + 1, 0, n)
        sums.append(((cumulative[high] - cumulative[low]) / (high - low)[:, None]).astype(np.float32))
    return np.hstack([shape, page, *around, *sums])
