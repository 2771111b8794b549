"""Features of a page's lines for the line model, the same in any language and from any renderer.

Three kinds, as columns of one float32 matrix (one row per non-empty line; :data:`FEATURE_NAMES` names them):

- the line's own shape (:func:`page_shapes`): length in words and characters, punctuation and sentence ends,
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

import functools
import itertools
import math
import re
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
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_CLOCK = re.compile(r"\b\d{1,2}[:.h]\d\d\b")
_NUMERIC_DATE = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\d{4}年|\d{1,2}月\d{1,2}日")
# (no pattern below crosses a line: the page's lines are searched joined by newlines, so none may match one; an
# e-mail address, @handle or #tag is found from the characters around "@" and "#", see page_shapes)
_URL = re.compile(r"https?://|www\.|\.(?:com|org|net)\b")
_BULLET = re.compile(r"^(?:[-*•·–—>▪►◦]|\d{1,3}[.)])[^\S\n]", re.M)
_MARKDOWN = re.compile(r"^#+[^\S\n]|\]\(|^\*\*|!\[", re.M)
_COPYRIGHT = re.compile(r"©|\([cC]\)")
_TERMINAL = ".!?…。！？"
_CLOSERS = "\"'”’»)]」』）"
_QUOTES = "\"“”„«»「」"
_SEPARATORS = "|•·»›/"
_CJK_TERMINAL = "。！？"
_MARKDOWN_CHARS = np.array([ord(char) for char in "#*]!"], dtype=np.uint32)

# Character classes, one bit each, looked up per code point (a table over the Basic Multilingual Plane, built on
# first use; the rarer characters above it are classified one by one).
(_WORDCHAR, _ALPHA, _UPPER, _LOWER, _DIGIT, _SPACE, _CJK_CHAR, _TERM, _CLOSER, _QUOTE, _SEPARATOR, _BRACKET,
 _COMMA, _CJK_TERM) = (1 << bit for bit in range(14))


def _char_class(char: str) -> int:
    flags = 0
    if _WORD.match(char):
        flags |= _WORDCHAR
    if char.isalpha():
        flags |= _ALPHA
    if char.isupper():
        flags |= _UPPER
    if char.islower():
        flags |= _LOWER
    if char.isdigit():
        flags |= _DIGIT
    if char.isspace():
        flags |= _SPACE
    if _CJK.match(char):
        flags |= _CJK_CHAR
    for chars, flag in ((_TERMINAL, _TERM), (_CLOSERS, _CLOSER), (_QUOTES, _QUOTE), (_SEPARATORS, _SEPARATOR),
                        ("([", _BRACKET), (",", _COMMA), (_CJK_TERMINAL, _CJK_TERM)):
        if char in chars:
            flags |= flag
    return flags


@functools.cache
def _class_table() -> np.ndarray:
    return np.fromiter(map(_char_class, map(chr, range(0x10000))), dtype=np.uint16, count=0x10000)


def _classes(codes: np.ndarray) -> np.ndarray:
    table = _class_table()
    astral = codes > 0xFFFF
    if not astral.any():
        return table[codes]
    flags = table[np.minimum(codes, 0xFFFF)]
    for code in np.unique(codes[astral]).tolist():
        flags[codes == code] = _char_class(chr(code))
    return flags

_CAPTION_RULE = "caption"
_BYLINE_RULES = frozenset({"byline", "byline_label", "author_box"})
_TIME_RULES = frozenset({"dateline", "relative_time", "read_time"})


def no_function_words(language: str | None) -> frozenset[str]:
    """A :data:`FunctionWords` that knows no language (the function-word share is then 0 on every line)."""
    return frozenset()


def page_shapes(lines: Sequence[str], *, function: frozenset[str] = frozenset(),
                rules: Sequence[str | None] | None = None, tails: Sequence[bool] | None = None) -> np.ndarray:
    """The shape columns (:data:`SHAPE_NAMES`) of a page's stripped, non-empty lines, one row per line.

    The page is read as one array of characters (numpy over all its lines at once, not a Python loop per line:
    see scripts/bench_chrome.py); ``rules`` and ``tails`` are the lexicon's rule and tail-marker flag of each line.

    >>> rows = page_shapes(["The bridge reopens on Monday, officials said.", "Home | News"],
    ...                    function=frozenset({"the", "on", "said"}))
    >>> shape = dict(zip(SHAPE_NAMES, rows[0].tolist()))
    >>> shape["ends_sentence"], bool(shape["function_share"] > 0.2), shape["has_url"], shape["has_date"]
    (1.0, True, 0.0, 0.0)
    >>> float(rows[1, SHAPE_NAMES.index("separators")]), float(rows[1, SHAPE_NAMES.index("capital_share")])
    (1.0, 1.0)
    """
    n = len(lines)
    rules = rules if rules is not None else [None] * n
    tails = tails if tails is not None else [False] * n
    page = _PageCharacters(lines)
    words = _PageWords(page)
    cjk = page.per_line(page.has(_CJK_CHAR))
    units = np.maximum(page.per_line(words.start) + cjk // 2, 1)  # a Chinese or Japanese "word" is about two characters
    chars = page.lengths.astype(np.float64)
    last, ends_sentence, inner = _sentence_ends(page)
    capital, caps = words.capital_shares()
    lowered = list(map(str.lower, _WORD.findall(page.text)))
    function_share = _function_share(page, words, lowered, function, units, cjk)
    digits = page.per_line(page.has(_DIGIT))
    numbered = digits > 0  # (the digit patterns are searched in the lines with digits only)
    month = np.fromiter(map(_MONTH_WORDS.__contains__, lowered), dtype=bool, count=len(lowered))
    has_date = numbered & (_lines_matching(_NUMERIC_DATE, lines, numbered)
                           | (np.bincount(words.line[month], minlength=n) > 0))
    marked = page.per_line(np.isin(page.codes, _MARKDOWN_CHARS)) > 0
    first = page.flags[page.starts]
    rule_list = list(rules)
    columns = (
        np.log1p(chars), np.log1p(units), chars / units, ends_sentence, page.codes[last] == ord(":"),
        ((page.flags[last] & _WORDCHAR) != 0) & (page.codes[last] != ord("_")),  # a letter or digit
        page.per_line(~words.char & ~page.space) / chars, page.per_line(inner) / units,
        page.per_line(page.has(_COMMA)) / units,
        (first & _UPPER) != 0, (first & _LOWER) != 0, capital, caps, digits / chars,
        _lines_matching(_YEAR, lines, numbered), _lines_matching(_CLOCK, lines, numbered), has_date,
        _has_url(page, words, lines), _lines_matching(_BULLET, lines), page.per_line(page.has(_SEPARATOR)),
        function_share,
        np.fromiter((rule is not None for rule in rule_list), dtype=bool, count=n),
        np.fromiter((rule in _BYLINE_RULES for rule in rule_list), dtype=bool, count=n),
        np.fromiter((rule is not None and rule.startswith(_CAPTION_RULE) for rule in rule_list), dtype=bool, count=n),
        np.fromiter((rule in _TIME_RULES for rule in rule_list), dtype=bool, count=n),
        np.fromiter(tails, dtype=bool, count=n),
        _lines_matching(_MARKDOWN, lines, marked), page.per_line(page.has(_QUOTE)) > 0, cjk / chars,
        _lines_matching(_COPYRIGHT, lines), page.per_line(page.has(_BRACKET)),
        ends_sentence & (units >= 6) & (capital < 0.6),
    )
    return np.column_stack(columns).astype(np.float32)


class _PageCharacters:
    """A page's lines as one array of characters (code points and class flags), with each character's line."""

    def __init__(self, lines: Sequence[str]):
        self.n = n = len(lines)
        self.text = "\n".join(lines)
        self.codes = np.frombuffer(self.text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        self.flags = _classes(self.codes)
        self.lengths = np.fromiter(map(len, lines), dtype=np.int64, count=n)
        self.ends = np.cumsum(self.lengths + 1) - 1  # where each line's newline is (one past the page for the last)
        self.starts = self.ends - self.lengths
        self.line_of = np.repeat(np.arange(n), self.lengths + 1)[:len(self.codes)]  # each character's line (its newline too)
        self.newline = np.zeros(len(self.codes), dtype=bool)
        self.newline[self.ends[:-1]] = True
        self.space = self.has(_SPACE)

    def per_line(self, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(self.line_of[mask], weights=None if weights is None else weights[mask], minlength=self.n)

    def has(self, flag: int) -> np.ndarray:
        return (self.flags & flag) != 0


class _PageWords:
    """The page's words (runs of word characters): where each starts, its line, its letters' case."""

    def __init__(self, page: _PageCharacters):
        self.page = page
        self.char = page.has(_WORDCHAR)
        self.start = self.char & ~np.r_[False, self.char[:-1]]
        self.id = np.cumsum(self.start) - 1
        self.line = page.line_of[self.start]

    def capital_shares(self) -> tuple[np.ndarray, np.ndarray]:
        """Per line, the share of the words starting with a letter that are capitalised, and that are all capitals."""
        page, count = self.page, len(self.line)
        length = np.bincount(self.id[self.char], minlength=count)
        upper = np.bincount(self.id[self.char & page.has(_UPPER)], minlength=count)
        lower = np.bincount(self.id[self.char & page.has(_LOWER)], minlength=count)
        alpha_word = (page.flags[self.start] & _ALPHA) != 0
        capital_word = alpha_word & ((page.flags[self.start] & _UPPER) != 0)
        caps_word = alpha_word & (length > 1) & (upper > 0) & (lower == 0)
        alpha_words = np.bincount(self.line[alpha_word], minlength=page.n)
        return (np.bincount(self.line[capital_word], minlength=page.n) / np.maximum(alpha_words, 1),
                np.bincount(self.line[caps_word], minlength=page.n) / np.maximum(alpha_words, 1))


def _sentence_ends(page: _PageCharacters) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each line's last character before any closing quotes or brackets ('He said "no."' ends a sentence),
    whether that ends a sentence, and the characters ending a sentence inside a line (". " before more text,
    or a CJK full stop right before more)."""
    codes, ends = page.codes, page.ends
    open_index = np.maximum.accumulate(np.where(page.has(_CLOSER), -1, np.arange(len(codes))))[ends - 1]
    last = np.where(open_index >= page.starts, open_index, ends - 1)
    ends_sentence = (page.flags[last] & _TERM) != 0
    inline_space = page.space & ~page.newline
    inner = ((page.has(_TERM) & (codes != ord("…")) & np.r_[inline_space[1:], False])
             | (page.has(_CJK_TERM) & np.r_[~page.space[1:], False]))
    return last, ends_sentence, inner


def _function_share(page: _PageCharacters, words: _PageWords, lowered: list[str], function: frozenset[str],
                    units: np.ndarray, cjk: np.ndarray) -> np.ndarray:
    """Per line, the share of its words that are function words (of its characters, in a script without spaces)."""
    if not function:
        return np.zeros(page.n)
    functional = np.fromiter(map(function.__contains__, lowered), dtype=bool, count=len(lowered))
    share = np.bincount(words.line[functional], minlength=page.n) / units
    if cjk.any():  # in a script without spaces the function "words" are characters
        in_function = np.fromiter(map(function.__contains__, page.text), dtype=bool, count=len(page.text))
        share = np.where(cjk > 0, page.per_line(in_function) / np.maximum(cjk, 1), share)
    return share


def _has_url(page: _PageCharacters, words: _PageWords, lines: Sequence[str]) -> np.ndarray:
    """Lines with a web address, an e-mail address (a word character on both sides of "@"), or an @handle or
    #tag after a space."""
    codes, word = page.codes, words.char
    at, tag = codes == ord("@"), (codes == ord("@")) | (codes == ord("#"))
    next_word, previous = np.r_[word[1:], False], np.r_[True, page.space[:-1] | page.newline[:-1]]
    previous_word = np.r_[False, word[:-1]]
    return (_lines_matching(_URL, lines)
            | (page.per_line((at & previous_word & next_word) | (tag & previous & next_word)) > 0))


def _lines_matching(pattern: re.Pattern, lines: Sequence[str], candidates: np.ndarray | None = None) -> np.ndarray:
    """Which lines a pattern matches in, of all lines or of the ``candidates`` (the others are left False).

    The lines are searched joined by newlines, in one call.

    >>> _lines_matching(_YEAR, ["In 2019.", "No year", "1999 and 2000"]).tolist()
    [True, False, True]
    """
    n = len(lines)
    hits = np.zeros(n, dtype=bool)
    chosen = np.arange(n) if candidates is None else np.flatnonzero(candidates)
    if not len(chosen):
        return hits
    texts = [lines[i] for i in chosen.tolist()]
    ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1) - 1
    found = [match.end() - 1 for match in pattern.finditer("\n".join(texts))]  # its last character is on its line
    if found:
        hits[chosen[np.searchsorted(ends, found)]] = True
    return hits


class LineCache:
    """The lexicon's verdict on line texts already seen (key, rule, tail flag), shared by the pages of a batch
    (menus recur). Cleared when it grows past ``limit`` entries so a long batch does not hold every line it had.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._lines: dict[str, tuple[str, str | None, bool]] = {}

    def describe(self, texts: Sequence[str], lexicon: ChromeLexicon | None
                 ) -> tuple[list[str], list[str | None], list[bool]]:
        """(keys, lexicon rules, tail flags) of the texts, worked out for those not seen before."""
        if lexicon is None:
            return [line_key(text) for text in texts], [None] * len(texts), [False] * len(texts)
        if len(self._lines) > self.limit:
            self._lines.clear()
        found = self._lines
        new = [text for text in dict.fromkeys(texts) if text not in found]
        if new:
            found.update(zip(new, zip(*lexicon.describe_lines(new))))
        keys, rules, tails = zip(*map(found.__getitem__, texts))
        return list(keys), list(rules), list(tails)


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
                  shapes: np.ndarray, keys: Sequence[str]) -> np.ndarray:
    """The full feature matrix (:data:`FEATURE_NAMES`) of a page's lines from their shapes (:func:`page_shapes`)
    and keys (:func:`~transforms.chrome.rules.line_key`).

    >>> lines, above, below, indents = page_lines("Home\\nThe bridge reopens on Monday, officials said.\\nShare")
    >>> shapes = page_shapes(lines, function=frozenset({"the", "on"}))
    >>> page_features(lines, above, below, indents, shapes, [line_key(line) for line in lines]).shape
    (3, 111)
    """
    n = len(lines)
    shape = np.asarray(shapes, dtype=np.float32).reshape(n, len(SHAPE_NAMES))
    words = np.expm1(shape[:, 1])
    total = max(float(words.sum()), 1.0)
    index = np.arange(n, dtype=np.float32)
    # each line's first occurrence on the page (an id per distinct key), how often the page has it
    first_seen: dict[str, int] = {}
    key_id = np.fromiter(map(first_seen.setdefault, keys, itertools.count()), dtype=np.int64, count=n)
    first = (key_id == np.arange(n)).astype(np.float32)
    repeats = np.bincount(key_id, minlength=n)[key_id] - 1
    # The longest run of sentence-like lines: the article's likely core; its share of the page's words.
    sentence = shape[:, SHAPE_NAMES.index("sentence_like")] > 0
    run_id = np.cumsum(sentence & ~np.r_[False, sentence[:-1]])
    run_words = np.where(sentence, np.bincount(run_id, weights=np.where(sentence, words, 0.0))[run_id] / total, 0.0)
    page = np.column_stack([
        index / max(n - 1, 1), np.log1p(index), np.log1p(n - 1 - index), np.full(n, math.log1p(n)),
        np.minimum(np.asarray(above, dtype=np.float32), 3), np.minimum(np.asarray(below, dtype=np.float32), 3),
        np.log1p(np.asarray(indents, dtype=np.float32)), words / total, (np.cumsum(words) - words) / total,
        np.log1p(repeats), first, words / max(float(words.max()), 1.0), run_words,
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
