"""Plain-text chrome stripping: find the article among the site furniture, line by line, and say why.

The text of a web page copied as plain text is a column of lines: menus, teasers, share buttons, the
headline, a byline, the article paragraphs, then related stories, comments and the footer. Without a DOM
the cues are the lines themselves and their neighbours, so the stripper works in four steps:

1. every line gets features (length in words, terminal punctuation, stop-word share, title case) and, when
   the shipped lexicon or the site's learned chrome recognises it, a rule;
2. a content score per line (positive for prose, tables and numbered lists, negative for short link-like lines
   and known chrome) and the maximum-sum run of lines is the article's core (the Body Text Extraction idea, on
   lines not tags);
3. a tail marker ("Read next", "Related articles", "Comments") late in the core ends it;
4. inside the core, known chrome and runs of link-like lines go; lone short lines between paragraphs stay,
   because they are the article's subheadings.

Headline, bylines, captions and a leading date are collected into their fields as they are removed.

Speed: a page has a few hundred lines and the flow strips every page, so the lexicon never runs line by line.
Everything that depends on a line's text alone (key, counts, lexicon rule, score) is worked out once per
distinct text and kept in a dict; :func:`strip_chrome_many` shares it across a batch, where menus, footers and
share calls recur. The new texts are joined once; line keys are folded in one byte-level pass; whole-line
patterns are one alternation per match kind run over all of them (patterns that start with literal words are
tried only on the lines a trie of those words finds); ``contains`` patterns are found by their literal heads in
one Aho-Corasick pass, and are kept inside their line, so that a line's rule never depends on its neighbours.
What depends on the page (a caption above a credit line, the site's learned chrome, a dateline) is added after.
"""
from __future__ import annotations

import re
import re._constants as _sre
import re._parser
import unicodedata
from bisect import bisect_left, bisect_right
from itertools import accumulate, compress, repeat
from operator import add, and_, eq, gt, is_, is_not, itemgetter, not_, sub
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from transforms.records import RemovedLines

import ahocorasick_rs

LEXICON_FILES: tuple[str, ...] = ("chrome_phrases.csv", "tail_markers.csv", "chrome_stopwords.csv")

# A line key must occur in at least this many documents of a site before it counts as that site's chrome:
# two could be one article syndicated twice, three is a template.
SITE_CHROME_MIN_DOCS = 3
# Only lines this short (in key words) are learned as site chrome; article paragraphs are longer.
SITE_CHROME_MAX_WORDS = 12
# A tail marker ends the article only when the prose after it weighs less than this share of the prose before.
TAIL_AFTER_SHARE = 1.0
# This many tail markers within this many lines end the article at the first of them, whatever prose follows.
TAIL_MARKER_RUN = 3
TAIL_MARKER_SPAN = 20
# What a tail marker costs in the core's score: a block of related links after it must be followed by this many
# words of prose more than its own cost before the core runs on past it.
TAIL_MARKER_COST = 25.0
# The prose line just below the headline is where the article most often starts: it gets this bonus, so a long
# footer paragraph cannot outweigh a short article. The headline is looked for this many lines above it.
LEAD_BONUS = 40.0
LEAD_WINDOW = 4
# Prose lines: at least this many words, or a sentence of at least this many.
LONG_LINE_WORDS = 15
SENTENCE_WORDS = 7
# strip_chrome_many (and each worker) keeps at most about this many distinct lines (a few hundred bytes each) before
# starting afresh. Chrome lines recur and are cached again at once; what fills the cache is the long tail of one-off
# lines. At 200,000 lines a worker grew to about 280 MiB over a 200,000-document run; at 50,000, about 190 MiB. A
# fresh start costs each distinct line one more look (in the 200,000-document bench, about 1% of the work).
LINE_CACHE_MAX = 50_000
# Whole-line patterns are tried on lines up to this long; longer lines are prose or a page copy.
WHOLE_LINE_MAX_CHARS = 240
# A single line this long that contains two of the page's paragraphs is a flattened copy of the article.
COPY_MIN_WORDS = 150
# Readers' comments are only looked for after this many words of article prose.
COMMENT_MIN_PROSE = 40
# A line this short (in words) with a date in it and no sentence end is a dateline.
DATELINE_MAX_WORDS = 14
# A run of at least this many numeric rows is a table; each row then counts this much per word.
TABLE_MIN_ROWS = 3
TABLE_ROW_SCORE = 0.5
# Lines numbered one after another ("1) ...", "2. ...") are a list in the article when at least this many follow
# each other; each item then counts this much per word.
LIST_MIN_ITEMS = 3
LIST_ITEM_SCORE = 0.5
LIST_ITEM_GAP = 2
# Headline Case is looked for among a line's first this many words.
HEADLINE_PREFIX_WORDS = 14
# ... or as a run of this many capitalised words before the first lower-case one.
HEADLINE_RUN_WORDS = 7
# Titles are looked for among this many non-empty lines above the article's first line.
TITLE_WINDOW = 12
MIN_TITLE_WORDS = 3  # a repeated first line shorter than this is a label ("Home", "Top stories"), not a headline
_TITLE_SEPARATOR = re.compile(r"\s+[|–—-]\s+|\s+::\s+")  # "Headline | Site", "Headline - Site"

_PUNCT_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"\w+", re.UNICODE)
# Scripts written without spaces: count characters, two to a word, so a Japanese paragraph is not "one word".
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_NAME = re.compile(r"[A-ZÀ-ÖØ-ÞĀ-ſ][\w.'’-]*(?:\s+(?:[A-ZÀ-ÖØ-ÞĀ-ſ][\w.'’-]*|de|van|von|der|da|al|bin|el|la|di)){1,4}")
# An embedded post's signature ("— Name (@handle) November 19, 2019") or a URL: article content, not a dateline.
_EMBED_OR_URL = re.compile(r"^[—–-]|\(@\w+\)|://")
_NEVER = re.compile(r"(?!)")
_CLOSERS = "\"'”’»)]"
_TERMINALS = frozenset(".!?…:;。！？")  # a sentence end, or a colon that leads into a list or quote
_SENTENCE_ENDS = frozenset(".!?…。！？")
_PUNCT = re.compile(r"[^\w\s]")
# Digits the byte-level fold of line keys leaves: those of other scripts.
_OTHER_DIGIT = re.compile(r"[^\x00-\x7f\D]")
# Non-ASCII punctuation and spaces common in news text: line_key makes each a space (none is a word character,
# none changes under lower-casing or NFC, none combines with a neighbour).
_COMMON_PUNCT = tuple(char for char in "’“”—–‘…•·«»©®™\xa0\u2009\u202f"
                      if not re.fullmatch(r"\w", char) and char.lower() == char)
# The probe of a line the lexicon already gave a rule (see _learn_lines): never a line key, so never site chrome.
_CLOSED = "\0"
_COMMON_PUNCT_UTF8 = tuple(char.encode("utf-8") for char in _COMMON_PUNCT)
_BLANK_RUN = re.compile(r"\n{3,}")
_SEPARATORS = ("\n", "\n\n")  # between two kept lines: no blank line in the input between them, or some
_ENUMERATED = re.compile(r"(\d{1,3})[.)]\s+\S")
# line_key on ASCII, as a byte table: punctuation, controls and "_" to a space, digits to 0 (the newline stays).
_ASCII_KEY_FOLD = bytes(
    b if b >= 128 or chr(b) == "\n" else ord("0") if chr(b).isdigit() else
    b if re.fullmatch(r"[^\W_]", chr(b)) else ord(" ") for b in range(256))  # bytes >= 128: UTF-8, untouched
_ASCII_BYTES = bytes(range(128))
_CATEGORY_CLASSES = {_sre.CATEGORY_DIGIT: r"\d", _sre.CATEGORY_WORD: r"\w", _sre.CATEGORY_SPACE: r"\s"}
_CLOCK = re.compile(r"\b\d{1,2}[:.]\d\d\b\s*(?:[ap]\.?m\.?|uhr|h)?", re.I)
_AGO = re.compile(r"\b\d+\s*\w+\s+ago\b", re.I)
_COMMENT_WORDS = re.compile(r"\b(comments?|repl(y|ies)|responses?|discussion|conversation|says|said|wrote|comentários?|comentarios?|commentaires?|kommentare?|commenti|комментари\w*)\b")
# Lines that open an item of a feed (comment, teaser card) when they recur below the article.
_FEED_RULES = frozenset({"dateline", "relative_time", "byline", "comment_header"})
# Function words that only Headline Case capitalises mid-line; two of them early in a line mark a headline.
_CAPITAL_FUNCTION_WORDS = frozenset("Of In To For With At On After From And Is Are As Into Over About Than Be".split())
# ... as a word of a line split at spaces, with the punctuation that may cling to it.
_CAPITAL_FUNCTION_FORMS = frozenset(word + a + b for word in _CAPITAL_FUNCTION_WORDS for a in ("", *",.:;!?")
                                    for b in ("", *",.:;!?"))
# Rules whose lines end the article like a tail marker does: an author's bio or box comes after the text.
_TAIL_RULES = frozenset({"author_bio", "author_box"})
# A wire dateline ("NEW DELHI:") inside a line, after other words: a teaser's headline glued to its summary.
# Searched for from its capitals (the engine skips to upper-case letters); the word before it is checked apart.
_INNER_DATELINE = re.compile(r"[A-Z][A-Z.]+(?:\s[A-Z][A-Z.]+){0,2}:\s+(?=[A-Z“\"])")
_DATELINE_LEFT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789’'\"”)?!:")
_MONTH_NAMES = {
    "en": "january february march april may june july august september october november december",
    "en_abbr": "jan feb mar apr may jun jul aug sep oct nov dec",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "januar februar märz april mai juni juli august september oktober november dezember",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
}
_MONTHS = {name: number for names in _MONTH_NAMES.values() for number, name in enumerate(names.split(), start=1)}
_MONTHS["sept"] = 9
_MONTH_WORDS = frozenset(_MONTHS)
_MONTH = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS = (
    re.compile(r"\b(?P<y>(?:19|20)\d\d)[-/.](?P<m>\d\d?)[-/.](?P<d>\d\d?)\b"),
    # (The look-ahead for a month's first letter is implied: it only lets most words fail sooner.)
    re.compile(r"\b(?=[" + "".join(sorted({name[0] for name in _MONTHS})) + "])" + _MONTH
               + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)\b", re.I),
    re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th|\.|º)?\s+(?:of\s+|de\s+)?" + _MONTH + r",?\s+(?:de\s+)?(?P<y>(?:19|20)\d\d)\b", re.I),
    # Day first or month first: read as day first only when the first number cannot be a month.
    re.compile(r"\b(?P<a>\d\d?)[/.](?P<b>\d\d?)[/.](?P<y>(?:19|20)\d\d)\b"),
)
# A date (and its label) at the very start of a line, glued to the first sentence: " date 2025-02-27 Turkey ..."
_LEADING_DATE = re.compile(
    r"^\s*(?:(?:date|published|posted|updated|on)\s*:?\s*)?(?P<date>(?:19|20)\d\d-\d\d-\d\d)(?:[T ]\d\d:\d\d(?::\d\d)?\S*)?\s+(?=\S)",
    re.I,
)
_SPECIAL_RULES = ("caption", "byline", "dateline", "author_box")
_FIELD_RULES = frozenset({"byline", "author_box", "dateline"})  # and every rule that starts with "caption"
# A credit line ("Photo: NAME/AGENCY", "Source: ...") sits right under its caption: the line above it is the caption.
# Searched from the newline before a line, over the whole text at once; the look-ahead for the labels' first letters
# rules out most line starts in one test.
_CREDIT_BELOW = re.compile(
    r"\n(?=[CFIPS])(?:Credit|Credits|Photo|Photograph|Image|Picture|Foto|Source|Photo credit|Image credit)[^\S\n]?:[^\S\n]*"
    r"[^.!?\n]{2,80}(?=\n)")
# Characters that end a literal run in a pattern, and those that make the character before them optional.
_REGEX_META = frozenset(".^$*+?{}[]\\|()")
_QUANTIFIERS = frozenset("?*{+")
# Rules whose lines are too common a shape to call leftover chrome on their own (a bare number, a clock time, a
# one-word "Watch" or "Live"): the stripper still removes them, but a body check should not fail on them.
_WEAK_RULES = frozenset({"counter", "media_call", "pager", "relative_time", "dateline", "comments", "site_repeat"})


class _LineScan(NamedTuple):
    """The whole-line patterns of one match kind (``rules[N]`` for pattern number N, numbered in table order).

    Patterns with literal heads (see :func:`_heads`) are tried only on lines that start with one: one regex of all
    heads finds those lines. The others form one alternation run over the whole document; each alternative ends
    in an empty group ``r<N>`` so that it still starts with its own first character (the engine skips
    alternatives whose first character cannot match without entering them).
    """

    cased: bool
    heads: re.Pattern[str] | None  # "\n" + any head, over "\n" + joined lines
    # Shortest head -> (head, N, pattern) of every head that starts with it, by N.
    by_head: Mapping[str, tuple[tuple[str, int, re.Pattern[str]], ...]]
    # Patterns that open with a look-ahead for a literal, "(?=.*LITERAL)": tried on the lines that contain one.
    needy: tuple[tuple[tuple[str, ...], int, re.Pattern[str]], ...]
    needy_heads: "_HeadFinder | None"  # every literal of ``needy``, found in one pass
    needy_of: tuple[tuple[tuple[int, re.Pattern[str]], ...], ...]  # literal index -> (N, pattern) that need it
    needy_caseless: bool  # no literal of ``needy`` changes under lower-casing
    headless: re.Pattern[str] | None  # over "\n" + joined lines + "\n": each match is one whole line
    headless_line: re.Pattern[str] | None  # fullmatch on one line, for lines a document match ran across


class _ContainsScan(NamedTuple):
    """``contains`` patterns (both kinds, numbered in table order): literal heads found in the lower-cased text
    by Aho-Corasick, the pattern tried where a head starts; a line-start pattern that opens with a look-ahead for
    literals (``^(?=.*(?:reporter|editor))...``) is tried at the start of the lines that hold one; other patterns
    without a head run over the whole text."""

    heads: _HeadFinder | None
    patterns: tuple[re.Pattern[str], ...]
    cased: tuple[bool, ...]
    rules: tuple[str, ...]
    scanned: tuple[tuple[int, re.Pattern[str], bool], ...]  # (number, pattern, anchored) run with finditer
    cased_headed: tuple[int, ...]  # cased patterns with heads: scanned whole when lower-casing moved offsets
    head_numbers: tuple[tuple[int, ...], ...] = ()  # head index -> the patterns tried where it starts
    needy: frozenset[int] = frozenset()  # patterns tried at the start of the line that holds a head


@dataclass(frozen=True)
class ChromeLexicon:
    """Chrome phrases and patterns, tail markers and stop words, from the seed tables in ``LEXICON_FILES``.

    ``line`` phrases are a dict on the line key. The whole-line patterns of each kind are one alternation run
    over the whole document at once (the engine jumps from line start to line start). ``contains`` patterns
    should start with a literal word (or a group of literal alternatives): their heads are found in one
    Aho-Corasick pass and the pattern is only tried there.
    """

    exact: Mapping[str, str]  # line key -> rule
    line_scans: tuple[_LineScan, ...]  # ignore-case kind first
    rules: tuple[str, ...]  # group r<N> of a line scan -> rule
    contains: tuple[_ContainsScan, ...]
    tail_markers: frozenset[str]  # line keys
    tail_prefixes: frozenset[str] = frozenset()  # markers that also start a longer line ("More on TOPIC")
    stopwords: frozenset[str] = frozenset()
    tail_first_words: frozenset[str] = frozenset()  # first words of tail_prefixes: a cheap test before joining
    rows: tuple[tuple[str, str, str], ...] = ()  # (pattern, match, rule) as given, for residue_regexes
    # The contains heads, then the look-ahead literals of each line scan that are searched in the lower-cased text
    # too, in one automaton: one pass over a page finds them all. ``head_bounds[k]`` ends group k (the contains
    # heads are group 0, line scan N's literals group N + 1; a group's heads in their own finder's order).
    all_heads: "_HeadFinder | None" = None
    head_bounds: tuple[int, ...] = ()

    @classmethod
    def from_rows(
        cls,
        phrases: Iterable[Mapping[str, str]],
        tail_markers: Iterable[Mapping[str, str]] = (),
        stopwords: Iterable[Mapping[str, str]] = (),
    ) -> "ChromeLexicon":
        """Build from CSV rows with ``pattern, match, rule``, ``marker, match`` and ``word`` columns.

        ``match`` is ``line`` (the whole line, compared by :func:`line_key`), ``regex`` / ``regex_cased``
        (a pattern the whole stripped line must match; ``regex`` sees the lower-cased line, so write it in lower
        case) or ``contains`` / ``contains_cased`` (anywhere in the line; ``contains`` also sees lower-cased text).

        >>> lex = ChromeLexicon.from_rows([{"pattern": "advertisement", "match": "line", "rule": "ad"}])
        >>> lex.rule_for("Advertisement")
        'ad'
        """
        exact: dict[str, str] = {}
        whole: dict[str, list[tuple[int, str]]] = {"regex": [], "regex_cased": []}
        rules: list[str] = []
        found: list[tuple[str, bool, str]] = []
        rows: list[tuple[str, str, str]] = []
        for row in phrases:
            match, pattern, rule = row.get("match") or "line", row["pattern"], row["rule"]
            try:
                if match == "line":
                    exact.setdefault(line_key(pattern), rule)
                elif match in whole:
                    re.compile(pattern)
                    if match == "regex" and _has_upper(pattern):
                        raise ValueError(f"regex pattern {pattern!r} sees lower-cased lines: write it in lower case")
                    whole[match].append((len(rules), pattern))
                    rules.append(rule)
                elif match in ("contains", "contains_cased"):
                    re.compile(pattern)
                    found.append((pattern, match == "contains_cased", rule))
                else:
                    raise ValueError(f"unknown match kind {match!r}")
            except re.error as error:
                raise ValueError(f"bad pattern {pattern!r}: {error}") from None
            rows.append((pattern, match, rule))
        markers: dict[str, bool] = {}
        for row in tail_markers:
            match = row.get("match") or "line"
            if match not in ("line", "prefix"):
                raise ValueError(f"unknown match kind {match!r} for tail marker {row['marker']!r}")
            markers[line_key(row["marker"])] = match == "prefix"
        prefixes = frozenset(key for key, prefix in markers.items() if prefix)
        scans = tuple(_line_scan(whole[kind], cased=kind == "regex_cased") for kind in whole if whole[kind])
        contains = (_contains_scan(found),) if found else ()
        heads: list[str] = list(contains[0].heads.heads) if contains and contains[0].heads is not None else []
        bounds = [len(heads)]
        for scan in scans:
            if scan.needy_heads is not None and (not scan.cased or scan.needy_caseless):
                heads.extend(scan.needy_heads.heads)
            bounds.append(len(heads))
        return cls(exact=exact, line_scans=scans, rules=tuple(rules), contains=contains,
                   all_heads=_HeadFinder(heads) if heads else None, head_bounds=tuple(bounds),
                   tail_markers=frozenset(markers), tail_prefixes=prefixes,
                   stopwords=frozenset(row["word"].strip().lower() for row in stopwords),
                   tail_first_words=frozenset(key.split()[0] for key in prefixes if key), rows=tuple(rows))

    @classmethod
    def from_tables(cls, tables: Mapping[str, list[dict[str, str]]]) -> "ChromeLexicon":
        """Build from the seed tables named in ``LEXICON_FILES`` (file name -> rows); the stop words are optional.

        >>> ChromeLexicon.from_tables({"chrome_phrases.csv": [], "tail_markers.csv": [{"marker": "Read next"}]}).tail_markers
        frozenset({'read next'})
        """
        return cls.from_rows(tables["chrome_phrases.csv"], tables["tail_markers.csv"],
                             tables.get("chrome_stopwords.csv", ()))

    def rule_for(self, line: str, key: str | None = None) -> str | None:
        """The rule that marks this line as chrome, or None.

        >>> ChromeLexicon.from_rows([{"pattern": "(?:photo|image):.*", "match": "regex", "rule": "caption"}]).rule_for("Photo: AFP")
        'caption'
        """
        stripped = line.strip()
        if not stripped:
            return None
        view = _Document([stripped])
        return self.exact.get(line_key(stripped) if key is None else key) or self._line_rules(view).get(0) \
            or self._contains_rules(view).get(0)

    def rules_for_lines(self, texts: list[str]) -> list[str | None]:
        """:meth:`rule_for` of many stripped, non-empty lines at once (one scan of them all).

        >>> lex = ChromeLexicon.from_rows([{"pattern": "advertisement", "match": "line", "rule": "ad"},
        ...                                {"pattern": "photo:", "match": "contains", "rule": "caption"}])
        >>> lex.rules_for_lines(["Advertisement", "A long line. Photo: AFP", "Prose."])
        ['ad', 'caption', None]
        """
        if not texts:
            return []
        return self.describe_lines(texts)[1]

    def describe_lines(self, texts: list[str]) -> tuple[list[str], list[str | None], list[bool]]:
        """Each line's key (:func:`line_key`), lexicon rule (:meth:`rule_for`) and tail flag (:meth:`tail_flags`),
        from one scan of all the lines.

        >>> lex = ChromeLexicon.from_rows([{"pattern": "advertisement", "match": "line", "rule": "ad"}],
        ...                               [{"marker": "related articles", "match": "line"}])
        >>> lex.describe_lines(["Advertisement", "Related Articles:", "Prose."])
        (['advertisement', 'related articles', 'prose'], ['ad', None, None], [False, True, False])
        """
        if not texts:
            return [], [], []
        view = _Document(list(texts))
        found = self._contains_rules(view)
        found.update(self._line_rules(view))  # a whole-line rule wins over a contains rule
        keys = _line_keys(view)
        rules = [self.exact.get(key) or found.get(i) for i, key in enumerate(keys)]
        return keys, rules, list(map(self._is_tail_key, keys))

    def _is_tail_key(self, key: str) -> bool:
        if key in self.tail_markers:
            return key.count(" ") < 6
        if key.partition(" ")[0] not in self.tail_first_words:  # (the cheap test first: most lines stop here)
            return False
        words = key.split()
        return len(words) <= 6 and any(" ".join(words[:k]) in self.tail_prefixes for k in range(1, len(words)))

    def tail_flags(self, texts: list[str]) -> list[bool]:
        """Whether each line is a tail marker ("Related articles", "More on TOPIC"): the article ends above it.

        >>> lex = ChromeLexicon.from_rows([], [{"marker": "related articles", "match": "line"},
        ...                                    {"marker": "more on", "match": "prefix"}])
        >>> lex.tail_flags(["Related articles", "More on Ukraine", "More than that, she said."])
        [True, True, False]
        """
        return [self._is_tail_key(line_key(text)) for text in texts]

    def residue_regexes(self) -> list[str]:
        r"""Patterns for chrome that must never remain in a cleaned body, for a check over whole bodies.

        Whole ``line`` phrases and whole-line patterns, anchored ``^...$`` in multi-line mode and kept inside one
        line (``\s`` and character classes never take a newline); weak shapes are left out: bare numbers, clock
        times, one-word labels ("Live", "Watch"), relative times and datelines, which prose and tables also have.

        >>> lex = ChromeLexicon.from_rows([{"pattern": "share this", "match": "line", "rule": "share_call"},
        ...                                {"pattern": r"read more:\s+\w+", "match": "regex", "rule": "more_link"}])
        >>> [bool(re.search(p, "Intro.\nShare This!\nMore.")) for p in lex.residue_regexes()]
        [True, False]
        >>> [bool(re.search(p, "Intro.\nRead more:\nMore.")) for p in lex.residue_regexes()]
        [False, False]
        """
        phrases = sorted({_key_regex(line_key(pattern)) for pattern, match, rule in self.rows
                          if match == "line" and rule not in _WEAK_RULES and _strong_phrase(line_key(pattern))})
        out = [r"(?im)^(?:[^\w\n]|_)*(?:" + "|".join(phrases) + r")(?:[^\w\n]|_)*$"] if phrases else []
        # The stripper tries whole-line patterns on lines up to WHOLE_LINE_MAX_CHARS only.
        short = rf"(?=[^\n]{{0,{WHOLE_LINE_MAX_CHARS}}}$)"
        for kind, flags in (("regex", "(?im)"), ("regex_cased", "(?m)")):
            chosen = [_one_line(pattern) for pattern, match, rule in self.rows if match == kind and rule not in _WEAK_RULES]
            if chosen:
                out.append(flags + "^" + short + "(?:" + "|".join(f"(?:{p})" for p in chosen) + ")$")
        return out

    def _line_rules(self, view: "_Document") -> dict[int, str]:
        """Line index -> rule of the first whole-line pattern that matches it (lines up to WHOLE_LINE_MAX_CHARS)."""
        found: dict[int, str] = {}
        rules, texts = self.rules, view.texts
        for group, scan in enumerate(self.line_scans, start=1):
            padded, starts = (view.joined, view.starts) if scan.cased else (view.lowered, view.lowered_starts)
            # Patterns are tried on a line in place (pos, endpos) where the text searched lines up with the lines
            # (no lower-cased copy of each line); else on the lower-cased lines, split apart.
            lines = None if scan.cased or starts is view.starts else view.lowered_lines
            best: dict[int, int] = {}
            if scan.headless is not None:
                redo: list[int] = []
                for match in scan.headless.finditer(padded):  # a match starts at the newline before its line
                    first = bisect_right(starts, match.start() + 1) - 1
                    if "\n" in padded[match.start() + 1:match.end()]:  # ran across lines ([^|], \s): judge each alone
                        redo.extend(range(first, bisect_right(starts, match.end() - 1)))
                    else:
                        best[first] = int(match.lastgroup[1:])
                for i in redo:
                    match = scan.headless_line.fullmatch(padded, starts[i], starts[i] + len(texts[i])) if lines is None \
                        else scan.headless_line.fullmatch(lines[i])
                    if match:
                        best[i] = int(match.lastgroup[1:])
            if scan.heads is not None:
                for match in scan.heads.finditer(padded):
                    i = bisect_right(starts, match.start() + 1) - 1
                    limit = best.get(i, len(rules))
                    if lines is None:
                        line, at, stop = padded, starts[i], starts[i] + len(texts[i])
                    else:
                        line, at, stop = lines[i], 0, len(lines[i])
                    for head, number, pattern in scan.by_head[match.group()[1:]]:
                        if number >= limit:
                            break
                        if line.startswith(head, at, stop) and pattern.fullmatch(line, at, stop):
                            best[i] = number
                            break
            if scan.needy_heads is not None:
                tried: set[tuple[int, int]] = set()
                # Literals without case ("/", "|") are found in the lower-cased text when it lines up with the
                # original: the automaton then reuses its UTF-8 form (made for the contains pass) at no cost.
                caseless = scan.needy_caseless and view.lowered_starts is view.starts
                if (caseless or not scan.cased) and self.all_heads is not None \
                        and self.head_bounds[group - 1] < self.head_bounds[group]:
                    hits = self._head_hits(view, group)  # found with the contains heads, in the same pass
                else:
                    hits = scan.needy_heads.find(view.lowered if caseless else padded)
                for index, at in hits:
                    i = bisect_right(starts, at) - 1
                    # Longer lines never get a whole-line rule (see below): not worth a try.
                    if len(texts[i]) > WHOLE_LINE_MAX_CHARS:
                        continue
                    for number, pattern in scan.needy_of[index]:
                        if (i, number) not in tried:  # one try per line
                            tried.add((i, number))
                            if best.get(i, len(rules)) > number and (
                                    pattern.fullmatch(padded, starts[i], starts[i] + len(texts[i])) if lines is None
                                    else pattern.fullmatch(lines[i])):
                                best[i] = number
            for i, number in best.items():
                if i not in found and len(texts[i]) <= WHOLE_LINE_MAX_CHARS:
                    found[i] = rules[number]
        return found

    def _head_hits(self, view: "_Document", group: int) -> Iterable[tuple[int, int]]:
        """``(head index in its group, start)`` of the heads of ``all_heads`` group ``group`` in the lower-cased
        text; the automaton runs once per view."""
        hits = view.hits
        if hits is None:
            hits = view.hits = self.all_heads.find_by_head(view.lowered)
        first = self.head_bounds[group - 1] if group else 0
        found = hits[bisect_left(hits, (first,)):bisect_left(hits, (self.head_bounds[group],))]
        if first:
            return zip(map(sub, map(_FIRST, found), repeat(first)), map(_SECOND, found))
        return map(_FIRST_TWO, found)

    def _contains_rules(self, view: "_Document") -> dict[int, str]:
        """Line index -> rule of the first ``contains`` row (in table order) that occurs in the line."""
        found: dict[int, str] = {}
        for scan in self.contains:
            best: dict[int, int] = {}
            lowered, starts0, joined = view.lowered, view.lowered_starts, view.joined
            # Heads are found in the lower-cased text; a cased pattern is then tried at the same place in the
            # original, which only lines up when lower-casing kept every length (else it is scanned below).
            aligned = lowered is joined or len(lowered) == len(joined)
            if scan.heads is not None:
                patterns, cased, head_numbers, needy = scan.patterns, scan.cased, scan.head_numbers, scan.needy
                for index, start in self._head_hits(view, 0) if self.all_heads is not None else scan.heads.find(lowered):
                    line = -1
                    for number in head_numbers[index]:
                        if cased[number] and not aligned:
                            continue
                        if line < 0:
                            line = bisect_right(starts0, start) - 1
                        if best.get(line, 1 << 30) > number and patterns[number].match(
                                joined if cased[number] else lowered, starts0[line] if number in needy else start):
                            best[line] = number
            for number, pattern, anchored in scan.scanned:
                text, starts = (joined, view.starts) if scan.cased[number] else (lowered, starts0)
                for match in pattern.finditer(text):  # an anchored one starts at the newline before its line
                    line = bisect_right(starts, match.start() + anchored) - 1
                    if best.get(line, 1 << 30) > number:
                        best[line] = number
            if not aligned:
                for number in scan.cased_headed:
                    for match in scan.patterns[number].finditer(joined):
                        line = bisect_right(view.starts, match.start()) - 1
                        if best.get(line, 1 << 30) > number:
                            best[line] = number
            for line, number in best.items():
                found[line] = scan.rules[number]
        return found


def _number(entry: tuple[str, int, re.Pattern[str]]) -> int:
    return entry[1]


def _line_scan(patterns: list[tuple[int, str]], *, cased: bool) -> _LineScan:
    """Whole-line patterns of one kind, split into those with literal heads and the rest (see :class:`_LineScan`)."""
    entries: list[tuple[str, int, re.Pattern[str]]] = []
    needy: list[tuple[tuple[str, ...], int, re.Pattern[str]]] = []
    headless: list[str] = []
    for number, pattern in patterns:
        heads, needs = _heads(pattern), _needs(pattern)
        if needs and not heads:
            needy.append((needs, number, re.compile(pattern, re.MULTILINE)))
        elif not heads:
            headless.append(f"(?:{pattern})(?P<r{number}>)")
        else:
            compiled = re.compile(pattern, re.MULTILINE)
            entries.extend((head, number, compiled) for head in heads)
    heads = {head for head, _n, _p in entries}
    needy_of: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
    for needs, number, compiled in needy:
        for literal in needs:
            needy_of.setdefault(literal, []).append((number, compiled))
    # The trie stops at the shortest head a line starts with; every other head of that line starts with it.
    shortest = [head for head in heads if not any(head.startswith(other) for other in heads if other != head)]
    return _LineScan(
        cased=cased,
        heads=re.compile("\n" + _trie_pattern(heads)) if heads else None,
        by_head={head: tuple(sorted((entry for entry in entries if entry[0].startswith(head)), key=_number))
                 for head in shortest},
        needy=tuple(needy),
        needy_heads=_HeadFinder(list(needy_of)) if needy_of else None,
        needy_of=tuple(map(tuple, needy_of.values())),
        needy_caseless=all(literal.lower() == literal == literal.upper() for literal in needy_of),
        headless=re.compile(rf"\n{_first_class(headless)}(?:{'|'.join(headless)})(?=\n)", re.MULTILINE) if headless else None,
        headless_line=re.compile("|".join(headless), re.MULTILINE) if headless else None,
    )


def _first_class(patterns: list[str]) -> str:
    r"""A look-ahead for the characters any of ``patterns`` can start with, or "" when one could start with anything
    (or match nothing). The engine tries an alternation branch by branch at every line start, and a branch that
    opens with a repeat (``\d+``) is entered before it fails; one character-class test rules most lines out at once.

    >>> _first_class([r"\d+\s+min", r"(?:page \d+|\d+ of \d+)", "a?b"]), _first_class([r"\d+", r"(?:page|[x-z])"])
    ('', '(?=[\\dpx-z])')
    """
    atoms: set[str] = set()
    for pattern in patterns:
        found = _firsts(re._parser.parse(pattern))
        if found is None:
            return ""
        atoms |= found
    return "(?=[" + "".join(sorted(atoms)) + "])" if atoms else ""


def _firsts(items) -> set[str] | None:
    """The class atoms a parsed pattern's first character is among, or None when unknown (see _first_class)."""
    for op, av in items:
        if op is _sre.LITERAL:
            return {re.escape(chr(av))}
        if op is _sre.IN:
            out = set()
            for kind, arg in av:
                if kind is _sre.LITERAL:
                    out.add(re.escape(chr(arg)))
                elif kind is _sre.RANGE:
                    out.add(re.escape(chr(arg[0])) + "-" + re.escape(chr(arg[1])))
                elif kind is _sre.CATEGORY and arg in _CATEGORY_CLASSES:
                    out.add(_CATEGORY_CLASSES[arg])
                else:  # a negated class, or a category with no class to write
                    return None
            return out
        if op is _sre.SUBPATTERN:
            if av[1] & re.IGNORECASE:  # (?i:...): the case of its literals does not count
                return None
            return _firsts(av[3])
        if op is _sre.BRANCH:
            out = set()
            for alternative in av[1]:
                found = _firsts(alternative)
                if found is None:
                    return None
                out |= found
            return out
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] >= 1:
            return _firsts(av[2])
        return None  # an anchor, a look-around, an optional item, any character: unknown
    return None  # may match nothing


def _contains_scan(rows: list[tuple[str, bool, str]]) -> _ContainsScan:
    """Index ``contains`` rows by their literal heads (see :func:`_heads`)."""
    by_head: dict[str, list[int]] = {}
    scanned: list[tuple[int, re.Pattern[str], bool]] = []
    needy: set[int] = set()
    for number, (pattern, _cased, _rule) in enumerate(rows):
        heads = _heads(pattern)
        needs = _needs(pattern[1:]) if pattern.startswith("^") and not heads else ()
        if heads or needs:
            for head in heads or needs:
                by_head.setdefault(head.lower(), []).append(number)
            if needs:
                needy.add(number)
        elif pattern.startswith("^") and len(_split_top(pattern) or ()) == 1:
            # A line-start pattern: search for the newline before the line (a literal the engine jumps to).
            scanned.append((number, re.compile("\n(?:" + _one_line(pattern[1:]) + ")", re.MULTILINE), True))
        else:
            scanned.append((number, re.compile(_one_line(pattern), re.MULTILINE), False))
    # Each pattern is kept inside its line (see _one_line): "anywhere in the line", so a line's rule never depends
    # on the line after it and can be remembered by the line's text (see _features).
    return _ContainsScan(_HeadFinder(list(by_head)) if by_head else None,
                         tuple(re.compile(_one_line(pattern), re.MULTILINE) for pattern, _c, _r in rows),
                         tuple(cased for _p, cased, _r in rows), tuple(rule for _p, _c, rule in rows), tuple(scanned),
                         tuple(number for number in sorted({n for ns in by_head.values() for n in ns}) if rows[number][1]),
                         head_numbers=tuple(tuple(numbers) for numbers in by_head.values()), needy=frozenset(needy))


class _HeadFinder:
    """Where literal heads start in a text, by Aho-Corasick (ahocorasick_rs: a Rust automaton with SIMD
    prefilters). Pickled as its heads (worker processes get the lexicon that way; the Rust automaton does not
    pickle) and rebuilt on arrival."""

    __slots__ = ("heads", "_automaton")

    def __init__(self, heads: Sequence[str]) -> None:
        self.heads = tuple(heads)
        self._automaton = ahocorasick_rs.AhoCorasick(list(self.heads))

    def __reduce__(self) -> tuple:
        return _HeadFinder, (self.heads,)

    def find(self, text: str) -> Iterable[tuple[int, int]]:
        """``(head index, start)`` of every occurrence of a head in ``text``, overlapping ones too.

        >>> sorted(_HeadFinder(["ab", "b"]).find("xab"))
        [(0, 1), (1, 2)]
        """
        return map(_FIRST_TWO, self._automaton.find_matches_as_indexes(text, overlapping=True))

    def find_by_head(self, text: str) -> list[tuple[int, int, int]]:
        """``(head index, start, end)`` of every occurrence, ordered by head index (then start).

        >>> _HeadFinder(["b", "ab"]).find_by_head("xab")
        [(0, 2, 3), (1, 1, 3)]
        """
        found = self._automaton.find_matches_as_indexes(text, overlapping=True)
        found.sort()
        return found


def _trie_pattern(words: Iterable[str]) -> str:
    r"""A pattern that matches where one of ``words`` starts, as a trie: each alternative opens with its own
    character, so the engine rules out most of them at a glance.

    >>> print(_trie_pattern(["read more", "read", "see all", "share"]))
    (?:read|s(?:ee\ all|hare))
    """
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        if "" in node:  # a whole word ends here: a longer one adds nothing to "starts with"
            return ""
        alternatives = [re.escape(char) + build(child) for char, child in sorted(node.items())]
        return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"

    return build(trie)


def _needs(pattern: str) -> tuple[str, ...]:
    r"""The literals a pattern that opens with ``(?=.*X)`` needs somewhere in the line: the heads of X.

    >>> _needs(r"(?=.*\|)[^|]{1,40}"), _needs(r"(?=.* (?:at|à) ).{1,60}"), _needs(r"(?=\d)")
    (('|',), (' at', ' à'), ())
    """
    if not pattern.startswith("(?=.*"):
        return ()
    end = _group_end(pattern, 0)
    return _heads(pattern[5:end - 1]) if end > 0 else ()


def _has_upper(pattern: str) -> bool:
    r"""True when a pattern has an upper-case letter outside its escapes (``\W``, ``\D`` are fine)."""
    return any(char.isupper() for char in re.sub(r"\\N\{[^}]*\}|\\.", "", pattern))


def _key_regex(key: str) -> str:
    """A line key as a pattern for the line it came from: words apart by anything not a letter, 0 any digit."""
    return r"(?:[^\w\n]|_)+".join(re.escape(word).replace("0", r"\d") for word in key.split())


def _one_line(pattern: str) -> str:
    r"""``pattern`` with every piece that could match a newline (``\s``, ``\W``, ``\D``, a class) kept off it.

    >>> _one_line(r"a\s+[^|]{1,4}\d[\w-]")
    'a(?:(?!\\n)\\s)+(?:(?!\\n)[^|]){1,4}\\d[\\w-]'
    """
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            piece = pattern[i:i + 2]
            out.append(f"(?:(?!\\n){piece})" if piece in ("\\s", "\\W", "\\D") else piece)
            i += 2
        elif char == "[":
            end = i + 1
            if pattern[end:end + 1] == "^":
                end += 1
            if pattern[end:end + 1] == "]":
                end += 1
            while end < len(pattern) and pattern[end] != "]":
                end += 2 if pattern[end] == "\\" else 1
            piece = pattern[i:end + 1]
            # A class that cannot take a newline stays as it is (a wrapped class is slower to run).
            out.append(f"(?:(?!\\n){piece})" if re.match(piece, "\n") else piece)
            i = end + 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _strong_phrase(key: str) -> bool:
    """Phrases long enough to be chrome wherever they stand alone (not "x", "ok", "de", "more", "live")."""
    return len(key.split()) >= 2 or len(key) >= 6


def _structure(pattern: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """``(index, char, depth)`` of each ``(``, ``)`` and ``|`` of ``pattern`` outside escapes and character
    classes, ``depth`` being the group depth after the character; then ``(-1, "", depth)`` with a depth below
    zero when a class is left open (unbalanced)."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "^":
                i += 1
            if pattern[i + 1:i + 2] == "]":  # a "]" first in a class is a literal
                i += 1
        elif char in "()|":
            depth += {"(": 1, ")": -1, "|": 0}[char]
            yield i, char, depth
        i += 1
    yield -1, "", -1 if in_class else depth


def _split_top(pattern: str) -> list[str] | None:
    """``pattern`` split at its top-level ``|``, or None when its brackets do not balance."""
    parts, start = [], 0
    for i, char, depth in _structure(pattern):
        if char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        elif not char:
            return None if depth else parts + [pattern[start:]]
    return None


def _group_end(pattern: str, start: int) -> int:
    """Index just past the group that opens at ``pattern[start]``, or -1."""
    for i, char, depth in _structure(pattern, start):
        if char == ")" and depth == 0:
            return i + 1
    return -1


def _literal_prefix(pattern: str) -> tuple[str, int]:
    r"""The literal characters every match of a one-branch pattern starts with, and how much of it they take.

    >>> _literal_prefix(r"cookies?(?:x)"), _literal_prefix(r"\(c\)\s"), _literal_prefix(r"\d+ min")
    (('cookie', 6), ('(c)', 5), ('', 0))
    """
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1].isalnum():  # \d, \s, \b, \1: not a literal
                break
            char, step = pattern[i + 1], 2
        elif char in _REGEX_META:
            break
        else:
            step = 1
        if pattern[i + step:i + step + 1] in _QUANTIFIERS and pattern[i + step:i + step + 1]:
            break
        out.append(char)
        i += step
    return "".join(out), i


def _expand(pattern: str) -> tuple[str, ...]:
    """Literal strings one of which starts every match of a one-branch pattern: its literal prefix, continued
    through a group of alternatives right after it; () when a match can start with anything."""
    literal, used = _literal_prefix(pattern)
    rest = pattern[used:]
    if rest.startswith("(?:") or rest.startswith("(") and not rest.startswith("(?"):
        end = _group_end(rest, 0)
        quantifier = rest[end:end + 1] if end > 0 else "*"
        if quantifier in ("?", "") or quantifier not in _QUANTIFIERS:
            branches = _split_top(rest[3 if rest.startswith("(?:") else 1:end - 1]) or []
            if quantifier == "?":  # an optional group: the match goes on in one of its branches or after it
                after = rest[end + 1:]
                branches = [branch + after for branch in branches] + [after]
            heads = []
            for branch in branches:
                more = _expand(branch)
                if not more and not literal:
                    return ()
                heads.extend(literal + head for head in more or ("",))
            return tuple(dict.fromkeys(heads))
    return (literal,) if literal else ()


def _heads(pattern: str) -> tuple[str, ...]:
    r"""Literal strings one of which starts every match of ``pattern``; () when that cannot be told simply.

    A leading ``^``, ``\b`` or look-around is skipped (the pattern is tried where the head starts, so it still
    applies); a group of alternatives gives one head per alternative.

    >>> _heads(r"^(?:©|\(c\)\s|copyright\s)"), _heads(r"(?<!\S)(?:Photo|Credit)s?:"), _heads(r"a|b.*")
    (('©', '(c)', 'copyright'), ('Photo', 'Credit'), ())
    >>> _heads(r" (?:at|à) "), _heads(r"(?:read|see) (?:more|all)"), _heads(r"(?:x )?y"), _heads(r"ab(?:c)?e")
    ((' at', ' à'), ('read', 'see'), ('x y', 'y'), ('abce', 'abe'))
    """
    rest = pattern
    while True:
        if rest.startswith("^"):
            rest = rest[1:]
        elif rest.startswith("\\b"):
            rest = rest[2:]
        elif rest.startswith(("(?=", "(?!", "(?<=", "(?<!")):
            end = _group_end(rest, 0)
            if end < 0:
                return ()
            rest = rest[end:]
        else:
            break
    top = _split_top(rest)
    return _expand(rest) if top is not None and len(top) == 1 else ()


def _starts(lines: list[str]) -> list[int]:
    """Where each line starts in ``"\\n" + "\\n".join(lines)``: 1 + the lengths before it + one newline each.

    >>> _starts(["ab", "", "cde"])
    [1, 4, 5]
    """
    return list(map(add, accumulate(map(len, lines[:-1]), initial=1), range(len(lines))))


class _Document:
    """The stripped, non-empty lines of one text joined once with a newline on each side (so every line, the first
    too, follows a newline: whole-line scans search for it), lower-cased once, with where each line starts."""

    __slots__ = ("texts", "joined", "lowered", "starts", "lowered_starts", "_lowered_lines", "hits", "lowered_utf8")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.hits: list[tuple[int, int, int]] | None = None  # of the lexicon's all_heads (see _head_hits)
        self.joined = "\n".join(["", *texts, ""])
        self.lowered_utf8: bytes | None = None  # the UTF-8 form of ``lowered``, when it was made from it
        if self.joined.isascii():
            self.lowered = self.joined.lower()
        else:
            # Lower-casing a page with curly quotes and dashes goes character by character; when none of its other
            # characters has a case, lower-casing its ASCII letters in UTF-8 is the same, and several times faster.
            encoded = self.joined.encode("utf-8")
            others = encoded.translate(None, _ASCII_BYTES).decode("utf-8")
            if others.lower() == others:
                self.lowered_utf8 = encoded.lower()
                self.lowered = self.lowered_utf8.decode("utf-8")
            else:
                self.lowered = self.joined.lower()
        self.starts = _starts(texts)
        if len(self.lowered) == len(self.joined):
            self.lowered_starts = self.starts
            self._lowered_lines = None
        else:  # a few characters change length when lower-cased ("İ"): index the lowered lines separately
            self._lowered_lines = self.lowered.split("\n")[1:-1]
            self.lowered_starts = _starts(self._lowered_lines)

    @property
    def lowered_lines(self) -> list[str]:
        if self._lowered_lines is None:
            self._lowered_lines = self.lowered.split("\n")[1:-1]
        return self._lowered_lines


@dataclass(frozen=True)
class StrippedText:
    body: str
    chrome: RemovedLines
    title: str | None = None
    authors: tuple[str, ...] = ()
    captions: tuple[str, ...] = ()
    published: str | None = None  # ISO date found in the text
    input_lines: int = 0


class _Line(NamedTuple):
    """One non-empty line and its features (a named tuple: thousands are built per second)."""

    text: str
    key: str
    words: int
    sentence: bool  # ends like a sentence (or a lead-in colon)
    stop_share: float  # share of stop words, worked out only where a step reads it (see _learn_lines)
    title_case: bool | None  # None: not worked out yet (see _listy)
    numeric: bool  # a table row: numbers make up much of it
    teaser: bool  # starts in Headline Case ("Fails To Rally ... In ..."): a teaser's headline glued to its summary
    rule: str | None
    tail: bool = False  # a tail marker: what follows is related links, comments or an author box


# Field getters for C-level maps over lines (no Python loop per line).
_TEXT, _KEY, _NUMERIC, _RULE, _FIRST = itemgetter(0), itemgetter(1), itemgetter(6), itemgetter(8), itemgetter(0)
_FIRST_TWO = itemgetter(0, 1)
_TAIL = itemgetter(9)
_SECOND = itemgetter(1)


def line_key(line: str) -> str:
    """CCNet-style key for counting a line across documents: lower case, digits to 0, no punctuation.

    >>> line_key("Read Next: 10 stories!")
    'read next 00 stories'
    """
    folded = _DIGIT.sub("0", unicodedata.normalize("NFC", line).lower())
    return _PUNCT_OR_SPACE.sub(" ", folded).strip()


def learnable_line(line: str) -> bool:
    """True for lines short and unsentence-like enough to be learned as a site's chrome.

    >>> learnable_line("Share this:"), learnable_line("He declined to comment.")
    (True, False)
    """
    stripped = line.strip()
    if not stripped or _ends_sentence(stripped):
        return False
    return len(_WORD.findall(stripped)) <= SITE_CHROME_MAX_WORDS


def count_line_keys(texts: Iterable[str], *, cache: dict[str, str] | None = None) -> Counter[str]:
    """In how many of ``texts`` each chrome-like line key occurs (once per document).

    ``cache`` (line text -> its key, "" when the line is not learnable) lets consecutive calls work out each
    distinct line once: the lines worth counting are the ones a site repeats. Lines longer than
    ``WHOLE_LINE_MAX_CHARS`` are prose, new on every page: they are worked out each time, not kept.

    >>> count_line_keys(["Share this\\nA long sentence here.", "Share this"])
    Counter({'share this': 2})
    >>> cache = {}
    >>> count_line_keys(["Share this\\nA long sentence here.", "Share this\\nRead 2 more"], cache=cache)
    Counter({'share this': 2, 'read 0 more': 1})
    >>> cache["A long sentence here."], cache["Read 2 more"]
    ('', 'read 0 more')
    """
    counts: Counter[str] = Counter()
    cache = {} if cache is None else cache
    for text in texts:
        lines = text.splitlines()
        keys = set()
        for line in dict.fromkeys([line for line in lines if line not in cache]):
            key = line_key(line) if learnable_line(line) else ""
            if len(line) <= WHOLE_LINE_MAX_CHARS:
                cache[line] = key
            else:
                keys.add(key)
        keys.update(map(cache.get, lines))  # None for the long lines, counted above
        keys.difference_update(("", None))
        counts.update(keys)
    return counts


def site_chrome_keys(counts: Mapping[str, int], *, min_docs: int = SITE_CHROME_MIN_DOCS) -> frozenset[str]:
    """Line keys seen in at least ``min_docs`` documents of one site: that site's chrome.

    >>> sorted(site_chrome_keys({"share this": 5, "one off": 1}))
    ['share this']
    """
    return frozenset(key for key, n in counts.items() if n >= min_docs and key and
                     len(key.split()) <= SITE_CHROME_MAX_WORDS)


def strip_chrome_many(texts: Iterable[str], *, lexicon: ChromeLexicon,
                      site_chrome: frozenset[str] | Sequence[frozenset[str]] = frozenset(),
                      extracted: bool = False) -> list[StrippedText]:
    """:func:`strip_chrome` over a batch, sharing what is known about each distinct line text across it (menus,
    footers and share calls recur within a site and across sites). ``site_chrome`` is one set for every text or
    one per text. The output is the same as stripping each text alone.

    >>> lex = ChromeLexicon.from_rows([{"pattern": "advertisement", "match": "line", "rule": "ad"}])
    >>> [out.body for out in strip_chrome_many(["Advertisement\\nA", "B\\nAdvertisement"], lexicon=lex, extracted=True)]
    ['A', 'B']
    """
    cache: dict[str, tuple] = {}
    chromes = repeat(site_chrome) if isinstance(site_chrome, (set, frozenset)) else site_chrome
    out = []
    for text, chrome in zip(texts, chromes) if chromes is not site_chrome else zip(texts, chromes, strict=True):
        if len(cache) > LINE_CACHE_MAX:  # a long batch: start afresh rather than hold every line it had
            cache.clear()
        out.append(strip_chrome(text, lexicon=lexicon, site_chrome=chrome, extracted=extracted, line_cache=cache))
    return out


def strip_chrome(text: str, *, lexicon: ChromeLexicon, site_chrome: frozenset[str] = frozenset(),
                 extracted: bool = False, line_cache: dict[str, tuple] | None = None) -> StrippedText:
    """Remove chrome lines from plain text, keeping article lines whole and in order.

    ``site_chrome`` holds line keys seen in several documents of the same site. ``extracted`` says the text is
    already an extractor's article body (trafilatura on HTML): then only the lexicon and the site's learned
    chrome remove lines, because the article's extent is already known and a short body must not be cut.
    ``line_cache`` (private to one lexicon) keeps what each distinct line text gave, for the next text: see
    :func:`strip_chrome_many`.

    >>> lex = ChromeLexicon.from_rows([{"pattern": "advertisement", "match": "line", "rule": "ad"}])
    >>> para = "This is a sentence of the article that runs long enough to count as prose here."
    >>> out = strip_chrome(f"Home\\nNews\\n{para}\\n\\nAdvertisement\\n\\n{para}", lexicon=lex)
    >>> out.body == f"{para}\\n\\n{para}"
    True
    >>> [(r.line, r.rule) for r in out.chrome]
    [('Home', 'outside_article'), ('News', 'outside_article'), ('Advertisement', 'ad')]
    """
    stripped = list(map(str.strip, text.splitlines()))
    positions = list(compress(range(len(stripped)), stripped))
    texts = list(filter(None, stripped))
    n = len(texts)
    if not n:
        return StrippedText(body="", chrome=(), input_lines=0)
    published = None
    lead = _LEADING_DATE.match(texts[0])
    if lead and len(texts[0]) - lead.end() > 20:
        published = lead["date"]
        texts[0] = texts[0][lead.end():]
    lines, prose, scores = _features(texts, lexicon, site_chrome, line_cache)
    listed = _score_tables(lines, scores) | _score_enumerations(lines, scores, texts)
    lead = _article_lead(lines, prose)
    if lead is not None:
        scores[lead] += LEAD_BONUS
    title_text = None  # the title when it is not a whole line
    if extracted:
        start, end = 0, n
        verdicts = list(map(_RULE, lines))
        title = None
    else:
        start, end = _core_span(scores)
        end = _cut_tail(lines, scores, start, end, lexicon)
        end = _cut_comments(lines, scores, start, end)
        while end > start and scores[end - 1] <= 0:
            end -= 1
        start, end = _extend_edges(lines, start, end)
        verdicts = _judge(lines, prose, start, end, listed, lexicon.stopwords)
        title = _repeated_headline(lines, end)
        if title is None:
            title, title_text = _find_title(lines, start, verdicts, lexicon.stopwords)
    if title is not None:
        # every copy of the headline above the article
        for i in compress(range(start), map(lines[title].key.__eq__, map(_KEY, lines[:start]))):
            verdicts[i] = "title"
    flags = list(map(is_not, verdicts, repeat(None)))
    removed = RemovedLines.of(compress(texts, flags), compress(verdicts, flags))  # most lines of a page
    captions: list[str] = []
    authors: list[str] = []
    filling = {verdict for verdict in set(verdicts) if verdict is not None and (
        verdict in _FIELD_RULES or verdict.startswith("caption"))}
    for i in [i for i, verdict in enumerate(verdicts) if verdict in filling] if filling else ():
        verdict = verdicts[i]  # a removed line that fills a field
        line = lines[i]
        if verdict.startswith("caption") and start - TITLE_WINDOW <= i < end:
            captions.append(line.text)
        elif verdict == "byline" and i < end:
            authors.extend(_names(line.text))
        elif verdict == "author_box" and i + 1 < n and _is_name(lines[i + 1].text):
            authors.append(lines[i + 1].text)
        elif verdict == "dateline" and published is None and i < end:
            published = _iso_date(line.text)
    # The kept lines in order (the first without its leading date), a blank line between two that had one or
    # more between them in the input (removed lines leave no gap of their own): between two kept lines, the count
    # of blank lines above (input position minus index) went up.
    kept = [i for i in compress(range(n), map(is_, verdicts, repeat(None))) if texts[i] != "\0"]
    body = ""
    if kept:
        blanks = list(map(sub, map(positions.__getitem__, kept), kept))
        gaps = map(_SEPARATORS.__getitem__, map(gt, blanks[1:], blanks))
        body = texts[kept[0]] + "".join(map(add, gaps, map(texts.__getitem__, kept[1:])))
    return StrippedText(
        body=body.strip(),
        chrome=removed,
        title=title_text or (lines[title].text if title is not None else None),
        authors=tuple(dict.fromkeys(authors)),
        captions=tuple(captions),
        published=published,
        input_lines=n,
    )


def _features(texts: list[str], lexicon: ChromeLexicon, site_chrome: frozenset[str],
              cache: dict | None = None) -> tuple[list[_Line], list[bool], list[float]]:
    """Every line's features, whether it is prose and its content score (see :func:`_score`).

    What depends on a line's text alone (its key, counts, lexicon rule, score) is worked out once per distinct
    text and kept in ``cache`` (menus and footers repeat within a page, a site and a batch); the lexicon's
    patterns run once over the new texts joined together. Then each line gets what depends on the page: a
    caption above a credit line, the site's learned chrome, a dateline.
    """
    if not cache:
        cache = {} if cache is None else cache
        new = list(dict.fromkeys(texts))
    else:
        new = [text for text in dict.fromkeys(texts) if text not in cache]
    if new:
        _learn_lines(new, lexicon, cache)
    # Columns of the cached entries (C-level transposition, no loop over lines in Python).
    lines, prose, scores, probes, dates, longs = map(list, zip(*map(cache.__getitem__, texts)))
    given: dict[int, str] = {}  # line -> the rule the page gives it; later steps win: caption > site > dateline
    if True in dates:
        given.update(dict.fromkeys(compress(range(len(texts)), dates), "dateline"))
    if site_chrome:
        given.update(dict.fromkeys(compress(range(len(texts)), map(site_chrome.__contains__, probes)), "site_repeat"))
    joined = "\n".join(["", *texts, ""])
    if _CREDIT_BELOW.search(joined):
        starts = _starts(texts)
        for match in _CREDIT_BELOW.finditer(joined):
            above = bisect_right(starts, match.start() + 1) - 2
            if above >= 0 and probes[above] is not _CLOSED:
                given[above] = "caption"
    for i, rule in given.items():  # the same for every page of a site: kept by (text, rule)
        found = cache.get((texts[i], rule))
        if found is None:
            found = cache[texts[i], rule] = _line_with_rule(lines[i], rule)
        lines[i], prose[i], scores[i] = found
    if True in longs:
        for i in _page_copies(lines):
            lines[i] = lines[i]._replace(rule="page_copy")
            prose[i], scores[i] = False, min(_score(lines[i], False), -TAIL_MARKER_COST) if lines[i].tail else \
                _score(lines[i], False)
    return lines, prose, scores


def _line_with_rule(line: _Line, rule: str) -> tuple[_Line, bool, float]:
    """A line the page gives a rule to (caption, site chrome, dateline): no teaser, not prose, scored as chrome."""
    words, tail = line[2], line[9]
    score = -4.0 if words <= 4 else 0.0 - words  # -max(4.0, words), as a float
    return tuple.__new__(_Line, (*line[:7], False, rule, tail)), False, \
        min(score, -TAIL_MARKER_COST) if tail else score  # teaser off, the rule on


def _learn_lines(new: list[str], lexicon: ChromeLexicon, cache: dict[str, tuple]) -> None:
    """Fill ``cache`` for distinct line texts: text -> (_Line, prose, score, probe, dateline, long): the line with
    its lexicon rule; ``probe`` is its key when it has none (the page may still give one: site chrome is looked up
    by it), else ``_CLOSED``; ``dateline`` when the page gives it no other rule; ``long`` when it could be a page
    copy (see :func:`_page_copies`)."""
    view = _Document(new)
    others: list[int] = []
    keys = _line_keys(view, others)
    found = lexicon._contains_rules(view)
    found.update(lexicon._line_rules(view))  # a whole-line rule wins over a contains rule
    exact_get, stopwords = lexicon.exact.get, lexicon.stopwords
    tail_markers, tail_prefixes, tail_first = lexicon.tail_markers, lexicon.tail_prefixes, lexicon.tail_first_words
    closers, terminals, cjk_findall, tail_rules = _CLOSERS, _TERMINALS, _CJK.findall, _TAIL_RULES
    long_words, sentence_words, capital_forms = LONG_LINE_WORDS, SENTENCE_WORDS, _CAPITAL_FUNCTION_FORMS
    make = tuple.__new__  # a _Line without the Python-level __new__: this runs for every new line
    # Columns computed by C-level maps; the loop below reads them with zip.
    rules = list(map(exact_get, keys))
    for i, rule in found.items():
        if not rules[i]:
            rules[i] = rule
    plain = [True] * len(new)  # no character of a script written without spaces (see _line_keys)
    for i in others:
        plain[i] = False
    for text, key, spaces, simple, rule in zip(new, keys, map(str.count, keys, repeat(" ")), plain, rules):
        count = spaces + 1 if key else 0
        words = count if simple else count + len(cjk_findall(text)) // 2
        last = text[-1]
        sentence = last in terminals if last not in closers else text.rstrip(closers)[-1:] in terminals
        rule = rule or None
        dateline = rule is None and count <= DATELINE_MAX_WORDS and "0000" in key and not _ends_sentence(text) \
            and _has_date(text, key) and not _EMBED_OR_URL.search(text)  # a date needs a year: "0000" in the key
        tail = rule in tail_rules or count <= 6 and (key in tail_markers or count > 1 and key.partition(" ")[0] in
                                                     tail_first and any(" ".join(key.split()[:k]) in tail_prefixes
                                                                        for k in range(1, count)))
        if words <= 2 or rule:
            # A one- or two-word line is never prose, a sentence worth a point, a table row or a headline, and
            # nothing reads its title case or stop words (see _is_prose, _score, _menu_like, _extend_edges); nor
            # does any step read the shape of a line the lexicon removes (its rule stays whatever the page adds).
            score = (-4.0 if words <= 4 else 0.0 - words) if rule else -3.0 - 0.3 * words  # _score, inline
            cache[text] = (make(_Line, (text, key, words, sentence, 0.0, False, False, False, rule, tail)), False,
                           min(score, -TAIL_MARKER_COST) if tail else score, _CLOSED if rule else key, dateline, False)
            continue
        # Title case, stop words and Headline Case cost the most; compute them only where a later step reads them:
        # title case for sentences of 3 words or more (shorter lines with no sentence end: see _listy), stop words
        # for title-case lines with no sentence end and long lines that neither a sentence end nor commas make prose.
        title_case = teaser = numeric = False
        stops = 0.0
        if count == 1:
            title_case = len(text) > 3 and text[0].isupper()
        elif count > 1:
            if count >= long_words:
                spaced = text.split(None, HEADLINE_PREFIX_WORDS + 5)
            elif sentence or words >= long_words:
                spaced = text.split()
                capitals = [word[0].isupper() for word in spaced if len(word) > 3 and word[0].isalpha()]
                title_case = bool(capitals) and sum(capitals) >= 0.7 * len(capitals)
            else:
                title_case = None
                if count >= sentence_words:
                    spaced = text.split()
            if count >= sentence_words:  # _headline_prefix, its cheap tests first (most prose lines fail all three)
                head = spaced[1:HEADLINE_PREFIX_WORDS]
                if not capital_forms.isdisjoint(head) and sum(map(capital_forms.__contains__, head)) >= 2:
                    teaser = True
                elif ":" in text and _inner_dateline(text):
                    teaser = True
                elif len(spaced) >= HEADLINE_RUN_WORDS + 5:  # _capitalised, inline
                    core = spaced[HEADLINE_RUN_WORDS - 1].lstrip("‘'\"“([¿¡")
                    if core and (core[0].isupper() or core[0].isdigit() or core[0] in "$€£&"):
                        teaser = _capital_run(spaced)
            if sentence:
                pass
            elif title_case and words >= 5 or count >= long_words and not teaser and text.count(",") < 2:
                stops = sum(map(stopwords.__contains__, key.split())) / count
            if 3 <= count < long_words and "0" in key:
                numeric = list(map(str.strip, key.split(), repeat("0"))).count("") >= 0.4 * count  # all-digit words
        line = make(_Line, (text, key, words, sentence, stops, title_case, numeric, teaser, None, tail))
        # _is_prose and _score, inline.
        if teaser:
            is_prose, score = False, -3.0 - 0.1 * words
        else:
            if words >= long_words:
                is_prose = sentence or text.count(",") >= 2 or stops >= 0.2
            else:
                is_prose = words >= sentence_words and sentence and not title_case
            score = words + 0.0 if is_prose else 1.0 if sentence and not title_case else \
                0.0 if numeric else -3.0 - 0.3 * words
        cache[text] = (line, is_prose, min(score, -TAIL_MARKER_COST) if tail else score, key, dateline,
                       words >= COPY_MIN_WORDS)


def _ends_sentence(text: str) -> bool:
    return text.rstrip(_CLOSERS)[-1:] in _SENTENCE_ENDS


def _line_keys(view: _Document, others: list[int] | None = None) -> list[str]:
    """:func:`line_key` of every line: ASCII punctuation, digits and spaces folded in one byte-level pass; the
    lines with other characters then go through two regex passes together (one call each, not one per line).
    Their indices are appended to ``others``: no other line has a character of a script written without spaces."""
    encoded = view.lowered_utf8 if view.lowered_utf8 is not None else view.lowered.encode("utf-8")
    folded = encoded.translate(_ASCII_KEY_FOLD).decode("utf-8")
    if not folded.isascii():
        # Curly quotes and dashes make most lines of English prose non-ASCII: fold them here, so that only
        # lines with letters of other scripts (or rarer punctuation) take the regex passes below.
        for char in _COMMON_PUNCT:
            if char in folded:
                folded = folded.replace(char, " ")
    keys = folded.split("\n")[1:-1]
    if others is None:
        others = []
    for i, key in enumerate(keys):
        if not key.isascii():
            others.append(i)
        elif "  " in key:
            keys[i] = " ".join(key.split())
        elif key[:1] == " " or key[-1:] == " ":
            keys[i] = key.strip()
    if others:
        joined = "\n".join([keys[i] for i in others])
        folded = _OTHER_DIGIT.sub("0", _PUNCT.sub(" ", joined)).split("\n")
        texts = view.texts
        for i, key in zip(others, folded):
            # line_key works on the NFC form; the few lines not in it are keyed one by one.
            keys[i] = " ".join(key.split()) if unicodedata.is_normalized("NFC", texts[i]) else line_key(texts[i])
        if not _CJK.search(joined):  # (lower-casing and folding keep those characters)
            del others[:]  # no line has a character of a script written without spaces
    return keys


def _headline_prefix(text: str, words: list[str]) -> bool:
    """True when a long line starts in Headline Case: a teaser's headline glued to its summary.

    >>> line = "Ford Recalls F-150s; Loose Cable Can Cause Stalling Or Fires Ford is recalling over 168,000 trucks"
    >>> _headline_prefix(line, line.split())
    True
    >>> line = "Turkish President Recep Tayyip Erdogan discussed the idea with Lavrov and Zelensky this month"
    >>> _headline_prefix(line, line.split())
    False
    >>> _headline_prefix("Markets fell sharply on the news NEW DELHI: The index", [])
    True
    """
    if sum(map(_CAPITAL_FUNCTION_FORMS.__contains__, words[1:HEADLINE_PREFIX_WORDS])) >= 2:
        return True
    if ":" in text and _inner_dateline(text):
        return True
    if len(words) < HEADLINE_RUN_WORDS + 5 or not _capitalised(words[HEADLINE_RUN_WORDS - 1]):
        return False  # the run needs its first HEADLINE_RUN_WORDS words capitalised and five more after them
    return _capital_run(words)


def _inner_dateline(text: str) -> bool:
    """A wire dateline after other words: "... headline NEW YORK: summary ..."."""
    for match in _INNER_DATELINE.finditer(text):
        before = text[:match.start()]
        trimmed = before.rstrip()
        if len(trimmed) >= 2 and len(trimmed) < len(before) and trimmed[-1] in _DATELINE_LEFT:
            return True
    return False


def _capital_run(words: list[str]) -> bool:
    """The first HEADLINE_RUN_WORDS words or more capitalised, and five more words after them."""
    run = 0
    for word in words[:HEADLINE_PREFIX_WORDS]:
        core = word.lstrip("‘'\"“([¿¡")
        if not core or not (core[0].isupper() or core[0].isdigit() or core[0] in "$€£&"):
            break
        run += 1
        if word.endswith(","):  # a list of names ("New Jersey Sen. Cory Booker, Hawaii Rep. ..."), not a headline
            return False
    return run >= HEADLINE_RUN_WORDS and len(words) >= run + 5


def _capitalised(word: str) -> bool:
    core = word.lstrip("‘'\"“([¿¡")
    return bool(core) and (core[0].isupper() or core[0].isdigit() or core[0] in "$€£&")


def _is_prose(line: _Line) -> bool:
    if line.rule or line.teaser:
        return False
    if line.words >= LONG_LINE_WORDS:
        # A long line with no sentence end is prose when it has function words or is a comma-separated list item.
        return line.sentence or line.stop_share >= 0.2 or line.text.count(",") >= 2
    return line.words >= SENTENCE_WORDS and line.sentence and not line.title_case


def _score(line: _Line, prose: bool) -> float:
    """Content score: prose counts its words, link-like lines cost, known chrome costs its size."""
    if line.rule:
        return -max(4.0, line.words * 1.0)
    if prose:
        return float(line.words)
    if line.teaser:
        return -3.0 - 0.1 * line.words
    if line.sentence and line.words >= 3 and not line.title_case:
        return 1.0
    if line.numeric:
        return 0.0
    return -3.0 - 0.3 * line.words


def _article_lead(lines: list[_Line], prose: list[bool]) -> int | None:
    """The first prose line just below the headline (the line that repeats the page's title line), if any."""
    page_title = lines[0].key
    # Lines whose key starts the page's title line, found by a C-level map (most lines do not).
    for i in compress(range(1, len(lines)), map(page_title.startswith, map(_KEY, lines[1:]))):
        if lines[i].words >= 4 and not prose[i]:
            for j in range(i + 1, min(i + 1 + LEAD_WINDOW, len(lines))):
                if prose[j]:
                    return j
    return None


def _score_tables(lines: list[_Line], scores: list[float]) -> set[int]:
    """A run of TABLE_MIN_ROWS or more numeric rows is a table (standings, results, prices): content, not a menu."""
    rows = [i for i in compress(range(len(lines)), map(_NUMERIC, lines)) if lines[i].rule is None]
    listed: set[int] = set()
    first = 0
    for k in range(1, len(rows) + 1):
        if k == len(rows) or rows[k] != rows[k - 1] + 1:  # a run of consecutive rows ends at k - 1
            if k - first >= TABLE_MIN_ROWS:
                for j in rows[first:k]:
                    scores[j] = TABLE_ROW_SCORE * lines[j].words
                    listed.add(j)
            first = k
    return listed


def _score_enumerations(lines: list[_Line], scores: list[float], texts: list[str] | None = None) -> set[int]:
    """Items numbered 1), 2), 3) ... one after another (a line or two apart at most: a link or a price under each)
    are an article's list (a ranking, steps, a gift guide): content, however short or unsentence-like each is.
    ``texts`` are the lines' texts, when the caller has them as a list."""
    if texts is None:
        texts = list(map(_TEXT, lines))
    items = [(i, int(found[1])) for i in compress(range(len(lines)), map(str.isdecimal, map(_FIRST, texts)))
             if lines[i].rule is None for found in (_ENUMERATED.match(lines[i].text),) if found]
    run: list[int] = []
    listed: set[int] = set()
    for k, (i, number) in enumerate(items + [(-1, -1)]):
        if run and i - run[-1] <= LIST_ITEM_GAP + 1 and number == items[k - 1][1] + 1:
            run.append(i)
            continue
        if len(run) >= LIST_MIN_ITEMS:
            for j in range(run[0], run[-1] + 1):
                scores[j] = max(scores[j], LIST_ITEM_SCORE * lines[j].words if j in run else 0.0)
            listed.update(run)
        run = [i]
    return listed


def _core_span(scores: list[float]) -> tuple[int, int]:
    """The run of lines with the largest score sum, as ``[start, end)``; Kadane's algorithm."""
    best, best_span = float("-inf"), (0, 0)
    run, run_start = 0.0, 0
    for i, score in enumerate(scores):
        if run <= 0:
            run, run_start = 0.0, i
        run += score
        if run > best:
            best, best_span = run, (run_start, i + 1)
    return best_span if best > 0 else (0, 0)


def _cut_tail(lines: list[_Line], scores: list[float], start: int, end: int, lexicon: ChromeLexicon) -> int:
    """End the core at the first tail marker after which little prose follows, or after which more markers come
    (related lists, trending, comments: the page's furniture, however much teaser prose it holds)."""
    markers = list(compress(range(start, end), map(_TAIL, lines[start:end])))
    if not markers:  # (most pages: nothing below needs the sums)
        return end
    total = sum(s for s in scores[start:end] if s > 0)
    before, seen = 0.0, 0
    upcoming = markers[0]
    for i in range(start, markers[-1] + 1):  # past the last marker nothing can end the core
        if scores[i] > 0:
            before += scores[i]
        if i == upcoming:
            seen += 1
            upcoming = markers[seen] if seen < len(markers) else -1
            dense = sum(1 for j in markers[seen - 1:] if j - i <= TAIL_MARKER_SPAN) >= TAIL_MARKER_RUN
            if before and (total - before < TAIL_AFTER_SHARE * before or dense):
                return i
    return end


def _page_copies(lines: list[_Line]) -> list[int]:
    """Very long lines that repeat several of the page's paragraphs (a flattened second copy of the article)."""
    paragraphs = [line.text for line in lines if line.words >= SENTENCE_WORDS and line.words < COPY_MIN_WORDS]
    return [i for i, line in enumerate(lines) if line.words >= COPY_MIN_WORDS and line.rule is None
            and sum(1 for text in paragraphs if text in line.text) >= 2]


def _is_stamp(line: _Line) -> bool:
    """A comment's time stamp: a short non-sentence line with a date (or "N days ago") and a clock time."""
    return line.words <= 14 and "0" in line.key and bool(_CLOCK.search(line.text)) and not _ends_sentence(line.text) and (
        _iso_date(line.text) is not None or bool(_AGO.search(line.text)))


def _cut_comments(lines: list[_Line], scores: list[float], start: int, end: int) -> int:
    """End the core where a feed begins: readers' comments or teaser cards, each opened by a time stamp, byline or
    dateline and followed by prose, repeated after the article began."""
    prose_words = 0
    first, stamps = None, 0
    quiet: list[int] = []  # the other lines up to the first stamp: comment words there lower the bar
    feed_rules = _FEED_RULES
    for i in range(start, end):
        line = lines[i]
        # (_is_stamp's own first tests, inline: most lines are long or have no digit)
        stamp = line.rule in feed_rules or line.words <= 14 and "0" in line.key and _is_stamp(line)
        if scores[i] > 0 and not stamp:
            if first is None:
                prose_words += line.words
            continue
        if first is None:
            quiet.append(i)
        if prose_words >= COMMENT_MIN_PROSE and stamp and any(scores[j] > 0 for j in range(i + 1, min(i + 4, end))):
            stamps += 1
            if first is None:
                first = i
    # Comment words only decide when there are exactly two stamps: looked for then, not on every line.
    if first is None or stamps < 2 or stamps == 2 and not any(
            _COMMENT_WORDS.search(lines[i].key) for i in quiet):
        return end
    # The card's headline or the commenter's name sits on the lines above the stamp.
    while first - 1 > start and scores[first - 1] <= 0 and first - 1 >= start:
        first -= 1
    return first


def _extend_edges(lines: list[_Line], start: int, end: int) -> tuple[int, int]:
    """Let the core take in short sentences that close the article (they score near zero)."""
    while end < len(lines) and lines[end].rule is None and lines[end].sentence and 3 <= lines[end].words \
            and not lines[end].title_case :
        end += 1
    return start, end


def _judge(lines: list[_Line], prose: list[bool], start: int, end: int, listed: set[int] = frozenset(),
           stopwords: frozenset[str] = frozenset()) -> list[str | None]:
    """The rule that removes each line, or None to keep it; ``listed`` lines (table rows, numbered items) are the
    article's own lists, never a link list."""
    rules = list(map(_RULE, lines))
    verdicts: list[str | None] = [rule or "outside_article" for rule in rules]
    verdicts[start:end] = rules[start:end]
    for i in compress(range(start + 1, end - 1), map(eq, repeat("site_repeat"), verdicts[start + 1:end - 1])):
        if prose[i - 1] and prose[i + 1]:
            # A learned line between two paragraphs is a subheading the site's articles share (or one article
            # syndicated several times), not furniture: keep it.
            verdicts[i] = None
    # Inside the core, a run of three or more short lines that are neither prose nor sentences is a link list.
    # (Lines still kept and not prose are picked by C-level maps; the rest of the test runs on those alone.)
    run: list[int] = []
    for j in compress(range(start, end), map(and_, map(is_, verdicts[start:end], repeat(None)),
                                             map(not_, prose[start:end]))):
        line = lines[j]
        if j not in listed and not line.sentence and (line.words <= 4 or _listy(line, stopwords)):  # _menu_like
            if run and run[-1] != j - 1:
                if len(run) >= 3:
                    for k in run:
                        verdicts[k] = "link_list"
                run = []
            run.append(j)
        elif run:
            if len(run) >= 3:
                for k in run:
                    verdicts[k] = "link_list"
            run = []
    if len(run) >= 3:
        for k in run:
            verdicts[k] = "link_list"
    return verdicts


def _menu_like(line: _Line, stopwords: frozenset[str] = frozenset()) -> bool:
    """A link-like line: no sentence end, and very short or a title-case run with few function words."""
    return not line.sentence and (line.words <= 4 or _listy(line, stopwords))


def _listy(line: _Line, stopwords: frozenset[str]) -> bool:
    """A title-case run with few function words; title case and stop words of a short line with no sentence end
    are worked out here, when first asked (``title_case`` None), not for every line (see _learn_lines).

    >>> line = _Line("World News of the Day", "world news of the day", 5, False, 0.0, None, False, False, None)
    >>> _listy(line, frozenset()), _listy(line, frozenset({"of", "the"})), _listy(line._replace(title_case=False), frozenset())
    (True, False, False)
    """
    if line.title_case is not None:
        return line.title_case and line.stop_share < 0.2
    if line.words < 5:
        return False  # too short to be worked out (see _learn_lines)
    capitals = [word[0].isupper() for word in line.text.split() if len(word) > 3 and word[0].isalpha()]
    if not capitals or sum(capitals) < 0.7 * len(capitals):
        return False
    key_words = line.key.split()
    return sum(map(stopwords.__contains__, key_words)) / len(key_words) < 0.2


def _repeated_headline(lines: list[_Line], end: int) -> int | None:
    """Index of a line, before ``end``, that repeats the page's first line (or its longest part between separators).

    A scraped page often opens with its ``<title>``: the headline, maybe followed by the site's name
    ("Headline | Site"). When the headline also stands on a line of its own further down (the article's
    own heading), that line is the title, whatever the lines just above the article look like. Measured by
    ``scripts/score_titles.py`` (text title equal to the HTML path's): 116 -> 135 of 181 bench pages.

    >>> para = "The central bank raised its rates again on Tuesday, the third rise this year, citing prices."
    >>> page = f"Rates rise again | Daily Post\\nMenu\\nCopy link\\nRates rise again\\n{para}\\n{para}"
    >>> strip_chrome(page, lexicon=ChromeLexicon.from_rows([])).title
    'Rates rise again'
    >>> menu = "\\n".join(f"Section number {n} here" for n in "abcdefghijklmnop")  # more than TITLE_WINDOW
    >>> strip_chrome(f"Rates rise again | Daily Post\\nRates rise again\\n{menu}\\n{para}\\n{para}",
    ...              lexicon=ChromeLexicon.from_rows([])).title
    'Rates rise again'
    """
    if len(lines) < 2:
        return None
    first = lines[0].text
    wanted = {line_key(first), line_key(_headline_part(first))}
    wanted = {key for key in wanted if len(key.split()) >= MIN_TITLE_WORDS}
    for i in range(1, min(end, len(lines))):
        if lines[i].key in wanted:
            return i
    return None


def _headline_part(title: str) -> str:
    """The headline of a page title: its longest part between separators.

    >>> _headline_part("Rates rise again | Daily Post"), _headline_part("Rates rise again")
    ('Rates rise again', 'Rates rise again')
    """
    return max(_TITLE_SEPARATOR.split(title), key=len)


def _find_title(lines: list[_Line], start: int, verdicts: list[str | None],
                stopwords: frozenset[str] = frozenset()) -> tuple[int | None, str | None]:
    """Index of the headline: a short heading-like line just above the article, preferring repeated ones and
    ones that reuse the words of the page's first line (a scrape often opens with the page's ``<title>``);
    and the title's text when it is only part of that line.

    When no line near the article echoes a first line that reads like a page title ("Headline | Site", or a
    headline of five words or more), that line's headline is the title: the lines just above an article are
    often widgets ("Copy Link URL Copied!"), credits and bylines. Measured by ``scripts/score_titles.py``:
    135 -> 146 of 181 bench pages equal to the HTML path's title; 27 titles changed, 24 from a chrome line, a
    printed URL or another story's headline to the page's, 3 from one chrome line to another (or to the site's
    name).

    >>> lexicon = ChromeLexicon.from_rows([], stopwords=[{"word": w} for w in ("for", "its", "the", "this")])
    >>> para = "The central bank raised its rates again on Tuesday, the third rise this year, citing prices."
    >>> widget = "Copy Link URL Copied!"  # twice above the article: repeated, but no echo of the page's title
    >>> strip_chrome(f"Rates rise for a third time this year - Daily Post\\n{widget}\\nMenu\\n{widget}\\n{para}\\n{para}",
    ...              lexicon=lexicon).title
    'Rates rise for a third time this year'
    >>> strip_chrome(f"Bank raises rates again - Daily Post\\nMenu\\nBank lifts rates for third time\\nCopy Link URL Copied!"
    ...              f"\\n{para}\\n{para}", lexicon=lexicon).title
    'Bank lifts rates for third time'
    >>> strip_chrome(f"Bank staff to be laid off this week\\nMenu\\nT R D NATIONAL /\\n{para}\\n{para}", lexicon=lexicon).title
    'Bank staff to be laid off this week'
    >>> strip_chrome(f"Rates rise again - Daily Post\\nhttps://post.example/rates-rise-again-0423\\nShare this story now"
    ...              f"\\n{para}\\n{para}", lexicon=lexicon).title  # the page's address echoes the title: no headline
    'Rates rise again'
    >>> strip_chrome(f"Menu\\nRates rise again\\n{para}\\n{para}", lexicon=lexicon).title  # no page title line
    'Rates rise again'
    """
    if start >= len(lines) or start == 0 and not lines:
        return None, None
    first_key = lines[0].key
    page_title = _headline_part(lines[0].text)
    first_words = set(line_key(page_title).split()) - stopwords
    above = Counter(map(_KEY, lines[:start]))
    best, best_score, best_echo = None, 0.0, 0.0
    seen = 0
    for i in range(start - 1, -1, -1):
        line = lines[i]
        if verdicts[i] not in (None, "outside_article") or not 3 <= line.words <= 30:
            continue
        if _ends_statement(line.text) or "://" in line.text:
            continue  # a sentence, or the page's address printed above the article
        seen += 1
        if seen > TITLE_WINDOW:
            break
        echo = 0.0  # how much of the page's first line the line repeats
        if i and line.key:
            if first_key.startswith(line.key):
                echo = 2.0
            else:  # the page's <title> words again: the headline reworded ("exec says on Disney+ glitches")
                words = [word for word in line.key.split() if word not in stopwords]
                shared = sum(word in first_words for word in words)
                if shared >= 2:
                    echo = 2.0 * shared / len(words)
        score = 1.0 / seen + echo + (2.0 if above[line.key] > 1 else 0.0)
        if score > best_score:
            best, best_score, best_echo = i, score, echo
    if best and not best_echo and _looks_like_page_title(lines[0], verdicts[0], page_title):
        return 0, page_title  # nothing near the article echoes the page's title line: its headline is the title
    return best, None


def _looks_like_page_title(line: _Line, verdict: str | None, headline: str) -> bool:
    """True when a page's first line reads like its ``<title>``: "Headline | Site" (``headline`` the longest
    part), or a headline of five words or more that ends in no full stop."""
    if verdict not in (None, "outside_article") or not 3 <= line.words <= 30 or len(headline.split()) < MIN_TITLE_WORDS:
        return False
    return headline != line.text or line.words >= 5 and not _ends_statement(line.text)


def _ends_statement(text: str) -> bool:
    """True for a line that ends as a sentence does, but not as a headline may ("Is violence a crime?").

    >>> _ends_statement("He declined to comment."), _ends_statement("Is football violence a crime?")
    (True, False)
    """
    return _ends_sentence(text) and not text.endswith(("?", "!"))


def _names(byline: str) -> list[str]:
    """Person names from a byline: ``By A B and C D`` -> ``['A B', 'C D']``."""
    text = re.sub(r"^\s*(by|written by|posted by|author:?|authors:?|von|par|por|di|autor:?)\s+", "", byline, flags=re.I)
    text = re.split(r"\s*[|,]\s*(?=(?:updated|published|posted|\d))|\s+[-–—|]\s+|\s+on\s+\w+\s+\d", text)[0]
    parts = re.split(r"\s*(?:,|\band\b|&|\bund\b|\bet\b|\by\b|\be\b)\s*", text)
    return [part.strip() for part in parts if _is_name(part.strip())]


def _is_name(text: str) -> bool:
    return 2 <= len(text.split()) <= 5 and len(text) <= 50 and bool(_NAME.fullmatch(text)) and not any(
        c.isdigit() for c in text)


def _iso_date(text: str) -> str | None:
    """The first calendar date in ``text`` as ISO, or None (also for 03/04/2019, which could be either).

    >>> _iso_date("Published 7:07 PM EST Nov 19, 2019"), _iso_date("23 Nov 2017"), _iso_date("13.11.2019, 23:06")
    ('2019-11-19', '2017-11-23', '2019-11-13')
    >>> _iso_date("22 de outubro de 2010"), _iso_date("11/20/2019 01:14 PM"), _iso_date("soon")
    ('2010-10-22', '2019-11-20', None)
    """
    for pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        groups = match.groupdict()
        if groups.get("a"):
            first, second = int(groups["a"]), int(groups["b"])
            if first > 12 >= second:
                day, month = first, second
            elif second > 12 >= first:
                day, month = second, first
            else:
                return None
        else:
            month, day = month_and_day(groups)
        found = iso_day(int(groups["y"]), month, day)
        if found:
            return found
    return None


def month_and_day(groups: dict) -> tuple[int, int]:
    """Month and day of a date match whose pattern names them: ``m`` (a number) or ``mon`` (a name), and ``d``.

    >>> month_and_day({"mon": "Nov", "d": "19"}), month_and_day({"m": "03", "d": "7"})
    ((11, 19), (3, 7))
    """
    return (int(groups["m"]) if groups.get("m") else _MONTHS[groups["mon"].lower()]), int(groups["d"])


def iso_day(year: int, month: int, day: int) -> str | None:
    """``YYYY-MM-DD``, or None when ``month`` and ``day`` cannot be a calendar date's.

    >>> iso_day(2019, 11, 19), iso_day(2019, 13, 1)
    ('2019-11-19', None)
    """
    return f"{year:04d}-{month:02d}-{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 else None


def _has_date(text: str, key: str | None = None) -> bool:
    """True when ``text`` holds a calendar date; ``key`` (its line key) lets a line with no month name skip the
    month-name patterns, the slow ones.

    >>> _has_date("Posted Nov. 19, 2019"), _has_date("Call 555 2019 now"), _has_date("2019-11-19")
    (True, False, True)
    """
    if key is None:
        key = line_key(text)
    # The numeric dates put one of "-/." between two digits: "0 0" in the key (digits fold to 0, punctuation to a
    # space), which most lines with a year lack ("© 2024 ...", "Updated 2 hours ago").
    if "0 0" in key and (_DATE_PATTERNS[0].search(text) or _DATE_PATTERNS[3].search(text)):
        return True
    if _MONTH_WORDS.isdisjoint(key.split()):
        return False  # a month name in a date stands between spaces or punctuation: it is a word of the key
    return bool(_DATE_PATTERNS[1].search(text) or _DATE_PATTERNS[2].search(text))
