"""Plain-text chrome stripping: find the article among the site furniture, line by line, and say why.

The text of a web page copied as plain text is a column of lines: menus, teasers, share buttons, the
headline, a byline, the article paragraphs, then related stories, comments and the footer. Without a DOM
the cues are the lines themselves and their neighbours, so the stripper works in four steps:

1. every line gets features (length in words, terminal punctuation, stop-word share, title case) and, when
   the shipped lexicon or the site's learned chrome recognises it, a rule;
2. a content score per line (positive for prose, negative for short link-like lines and known chrome) and
   the maximum-sum run of lines is the article's core (the Body Text Extraction idea, on lines not tags);
3. a tail marker ("Read next", "Related articles", "Comments") late in the core ends it;
4. inside the core, known chrome and runs of link-like lines go; lone short lines between paragraphs stay,
   because they are the article's subheadings.

Headline, bylines, captions and a leading date are collected into their fields as they are removed.
"""
from __future__ import annotations

import re
import string
import unicodedata
from bisect import bisect_right
from itertools import accumulate
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from transforms.records import RemovedLine

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
# Whole-line patterns are tried on lines up to this long; longer lines are prose or a page copy.
WHOLE_LINE_MAX_CHARS = 240
# A single line this long that contains two of the page's paragraphs is a flattened copy of the article.
COPY_MIN_WORDS = 150
# Readers' comments are only looked for after this many words of article prose.
COMMENT_MIN_PROSE = 40
# A line this short (in words) with a date in it and no sentence end is a dateline.
DATELINE_MAX_WORDS = 14
# Headline Case is looked for among a line's first this many words.
HEADLINE_PREFIX_WORDS = 14
# ... or as a run of this many capitalised words before the first lower-case one.
HEADLINE_RUN_WORDS = 7
# Titles are looked for among this many non-empty lines above the article's first line.
TITLE_WINDOW = 12

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
_CLOCK = re.compile(r"\b\d{1,2}[:.]\d\d\b\s*(?:[ap]\.?m\.?|uhr|h)?", re.I)
_AGO = re.compile(r"\b\d+\s*\w+\s+ago\b", re.I)
_COMMENT_WORDS = re.compile(r"\b(comments?|repl(y|ies)|responses?|discussion|conversation|says|said|wrote|comentários?|comentarios?|commentaires?|kommentare?|commenti|комментари\w*)\b")
# Lines that open an item of a feed (comment, teaser card) when they recur below the article.
_FEED_RULES = frozenset({"dateline", "relative_time", "byline", "comment_header"})
# Function words that only Headline Case capitalises mid-line; two of them early in a line mark a headline.
_CAPITAL_FUNCTION_WORDS = frozenset("Of In To For With At On After From And Is Are As Into Over About Than Be".split())
# Rules whose lines end the article like a tail marker does: an author's bio or box comes after the text.
_TAIL_RULES = frozenset({"author_bio", "author_box"})
# A wire dateline ("NEW DELHI:") inside a line, after other words: a teaser's headline glued to its summary.
_INNER_DATELINE = re.compile(r"[a-z0-9’'\"”)?!:]\s+[A-Z][A-Z.]+(?:\s[A-Z][A-Z.]+){0,2}:\s+[A-Z“\"]")
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
_MONTH = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS = (
    re.compile(r"\b(?P<y>(?:19|20)\d\d)[-/.](?P<m>\d\d?)[-/.](?P<d>\d\d?)\b"),
    re.compile(r"\b" + _MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)\b", re.I),
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


@dataclass(frozen=True)
class ChromeLexicon:
    """Chrome phrases and patterns, tail markers and stop words, from the seed tables in ``LEXICON_FILES``.

    Whole-line patterns are compiled into one alternation tried on short lines; ``contains`` patterns run once
    over a whole (lower-cased) document, so write them to start with a literal word: the regex engine then
    skips to that word instead of trying every position.
    """

    exact: Mapping[str, str]  # line key -> rule
    # Per kind (ignoring case, cased): first character -> alternation of the whole-line patterns that can start
    # with it, key "" -> all of them; group ``r<N>`` names rules[N].
    whole: tuple[Mapping[str, re.Pattern[str]], ...]
    rules: tuple[str, ...]
    anywhere: tuple[tuple[re.Pattern[str], bool, str], ...]  # (pattern, cased, rule), in table order
    tail_markers: frozenset[str]  # line keys
    tail_prefixes: frozenset[str] = frozenset()  # markers that also start a longer line ("More on TOPIC")
    stopwords: frozenset[str] = frozenset()

    @classmethod
    def from_rows(
        cls,
        phrases: Iterable[Mapping[str, str]],
        tail_markers: Iterable[Mapping[str, str]] = (),
        stopwords: Iterable[Mapping[str, str]] = (),
    ) -> "ChromeLexicon":
        """Build from CSV rows with ``pattern, match, rule``, ``marker, match`` and ``word`` columns.

        ``match`` is ``line`` (the whole line, compared by :func:`line_key`), ``regex`` / ``regex_cased``
        (a pattern the whole stripped line must match) or ``contains`` / ``contains_cased`` (anywhere in the
        line; ``contains`` patterns see lower-cased text and should be written in lower case).

        >>> lex = ChromeLexicon.from_rows([{"pattern": "advertisement", "match": "line", "rule": "ad"}])
        >>> lex.rule_for("Advertisement")
        'ad'
        """
        exact: dict[str, str] = {}
        whole: dict[str, list[str]] = {"regex": [], "regex_cased": []}
        rules: list[str] = []
        anywhere: list[tuple[re.Pattern[str], bool, str]] = []
        for row in phrases:
            match, pattern, rule = row.get("match") or "line", row["pattern"], row["rule"]
            try:
                if match == "line":
                    exact.setdefault(line_key(pattern), rule)
                elif match in whole:
                    re.compile(pattern)
                    whole[match].append(f"(?P<r{len(rules)}>{pattern})")
                    rules.append(rule)
                elif match in ("contains", "contains_cased"):
                    anywhere.append((re.compile(pattern, re.MULTILINE), match == "contains_cased", rule))
                else:
                    raise ValueError(f"unknown match kind {match!r}")
            except re.error as error:
                raise ValueError(f"bad pattern {pattern!r}: {error}") from None
        markers: dict[str, bool] = {}
        for row in tail_markers:
            match = row.get("match") or "line"
            if match not in ("line", "prefix"):
                raise ValueError(f"unknown match kind {match!r} for tail marker {row['marker']!r}")
            markers[line_key(row["marker"])] = match == "prefix"
        compiled = tuple(_dispatch(whole[kind], cased=kind.endswith("_cased")) for kind in whole if whole[kind])
        return cls(exact=exact, whole=compiled, rules=tuple(rules), anywhere=tuple(anywhere),
                   tail_markers=frozenset(markers),
                   tail_prefixes=frozenset(key for key, prefix in markers.items() if prefix),
                   stopwords=frozenset(row["word"].strip().lower() for row in stopwords))

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
        return self._line_rule(stripped, line_key(stripped) if key is None else key) or next(
            iter(self._anywhere_rules([stripped]).values()), None)

    def _line_rule(self, stripped: str, key: str) -> str | None:
        rule = self.exact.get(key)
        if rule or len(stripped) > WHOLE_LINE_MAX_CHARS:
            return rule
        first = stripped[0]
        for buckets in self.whole:
            pattern = buckets.get(first if first.isascii() else "", buckets[""])
            found = pattern.fullmatch(stripped)
            if found:
                return self.rules[int(found.lastgroup[1:])]
        return None

    def _anywhere_rules(self, lines: list[str]) -> dict[int, str]:
        """Line index -> rule of the first ``contains`` pattern that occurs in it; one pass per pattern."""
        if not self.anywhere:
            return {}
        joined = "\n".join(lines)
        lowered = joined.lower()
        starts = list(accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
        if len(lowered) == len(joined):
            texts, offsets = {False: lowered, True: joined}, {False: starts, True: starts}
        else:  # a few characters change length when lower-cased ("İ"): index the lowered lines separately
            low = [line.lower() for line in lines]
            texts = {False: "\n".join(low), True: joined}
            offsets = {False: list(accumulate((len(line) + 1 for line in low[:-1]), initial=0)), True: starts}
        found: dict[int, str] = {}
        for pattern, cased, rule in self.anywhere:
            for match in pattern.finditer(texts[cased]):
                found.setdefault(bisect_right(offsets[cased], match.start()) - 1, rule)
        return found


def _dispatch(patterns: list[str], *, cased: bool) -> dict[str, re.Pattern[str]]:
    """Alternations of ``patterns`` per ASCII first character, so a line tries only the patterns that can match it."""
    flags = 0 if cased else re.IGNORECASE
    firsts = [_first_chars(pattern, ignorecase=not cased) for pattern in patterns]
    chars = set().union(*(first for first in firsts if first is not None))
    buckets = {"": re.compile("|".join(patterns), flags)}
    for char in sorted(c for c in chars if c.isascii()):
        chosen = [p for p, first in zip(patterns, firsts) if first is None or char in first]
        buckets[char] = re.compile("|".join(chosen), flags) if chosen else _NEVER
    # An ASCII first character no pattern can start with still has to try the patterns that can start anywhere.
    anywhere = [p for p, first in zip(patterns, firsts) if first is None]
    buckets["*"] = re.compile("|".join(anywhere), flags) if anywhere else _NEVER
    return _FirstCharIndex(buckets)


class _FirstCharIndex(dict):
    def __missing__(self, char: str) -> re.Pattern[str]:
        return self["*"] if char else self[""]

    def get(self, char, default=None):  # noqa: D102 - dict.get does not call __missing__
        return self[char]


def _first_chars(pattern: str, *, ignorecase: bool) -> frozenset[str] | None:
    """The ASCII characters a match of ``pattern`` can start with, or None when that cannot be told.

    Reads the parsed pattern (``re._parser``, internal); anything it does not know means None, which only
    costs speed.

    >>> sorted(_first_chars(r"(read|see) more", ignorecase=True))
    ['R', 'S', 'r', 's']
    >>> _first_chars(r".{1,60} said:", ignorecase=False) is None
    True
    """
    try:
        from re import _constants as C, _parser as parser
        tree = parser.parse(pattern)
    except Exception:  # noqa: BLE001 - an unknown regex internals version only disables the index
        return None
    digits, letters = frozenset("0123456789"), frozenset(string.ascii_letters)

    def chars(code: int) -> set[str]:
        char = chr(code)
        return {char.lower(), char.upper()} if ignorecase else {char}

    def first(items) -> set[str] | None:
        out: set[str] = set()
        for op, arg in items:
            if op is C.AT:
                continue
            if op is C.LITERAL:
                return out | chars(arg)
            if op is C.IN:
                for kind, value in arg:
                    if kind is C.LITERAL:
                        out |= chars(value)
                    elif kind is C.RANGE:
                        for code in range(value[0], min(value[1], 127) + 1):
                            out |= chars(code)
                    elif kind is C.CATEGORY and value is C.CATEGORY_DIGIT:
                        out |= digits
                    elif kind is C.CATEGORY and value is C.CATEGORY_WORD:
                        out |= digits | letters | {"_"}
                    else:
                        return None
                return out
            if op is C.SUBPATTERN:
                inner = first(arg[-1])
                return None if inner is None else out | inner
            if op is C.BRANCH:
                for branch in arg[1]:
                    inner = first(branch)
                    if inner is None:
                        return None
                    out |= inner
                return out
            if op in (C.MAX_REPEAT, C.MIN_REPEAT):
                low, _high, sub = arg
                inner = first(sub)
                if inner is None:
                    return None
                out |= inner
                if low > 0:
                    return out
                continue
            if op is C.CATEGORY or op is C.ANY or op is C.NOT_LITERAL:
                return None
            return None
        return None  # the pattern can match an empty prefix: no dispatch

    found = first(tree)
    return None if found is None else frozenset(found)


@dataclass(frozen=True)
class StrippedText:
    body: str
    chrome: tuple[RemovedLine, ...]
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
    stop_share: float
    title_case: bool
    numeric: bool  # a table row: numbers make up much of it
    teaser: bool  # starts in Headline Case ("Fails To Rally ... In ..."): a teaser's headline glued to its summary
    rule: str | None
    tail: bool = False  # a tail marker: what follows is related links, comments or an author box


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


def count_line_keys(texts: Iterable[str]) -> Counter[str]:
    """In how many of ``texts`` each chrome-like line key occurs (once per document).

    >>> count_line_keys(["Share this\\nA long sentence here.", "Share this"])
    Counter({'share this': 2})
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({line_key(line) for line in text.splitlines() if learnable_line(line)} - {""})
    return counts


def site_chrome_keys(counts: Mapping[str, int], *, min_docs: int = SITE_CHROME_MIN_DOCS) -> frozenset[str]:
    """Line keys seen in at least ``min_docs`` documents of one site: that site's chrome.

    >>> sorted(site_chrome_keys({"share this": 5, "one off": 1}))
    ['share this']
    """
    return frozenset(key for key, n in counts.items() if n >= min_docs and key and
                     len(key.split()) <= SITE_CHROME_MAX_WORDS)


def strip_chrome(text: str, *, lexicon: ChromeLexicon, site_chrome: frozenset[str] = frozenset(),
                 extracted: bool = False) -> StrippedText:
    """Remove chrome lines from plain text, keeping article lines whole and in order.

    ``site_chrome`` holds line keys seen in several documents of the same site. ``extracted`` says the text is
    already an extractor's article body (trafilatura on HTML): then only the lexicon and the site's learned
    chrome remove lines, because the article's extent is already known and a short body must not be cut.

    >>> lex = ChromeLexicon.from_rows([{"pattern": "advertisement", "match": "line", "rule": "ad"}])
    >>> para = "This is a sentence of the article that runs long enough to count as prose here."
    >>> out = strip_chrome(f"Home\\nNews\\n{para}\\n\\nAdvertisement\\n\\n{para}", lexicon=lex)
    >>> out.body == f"{para}\\n\\n{para}"
    True
    >>> [(r.line, r.rule) for r in out.chrome]
    [('Home', 'outside_article'), ('News', 'outside_article'), ('Advertisement', 'ad')]
    """
    raw_lines = text.splitlines()
    positions = [i for i, raw in enumerate(raw_lines) if raw.strip()]
    texts = [raw_lines[i].strip() for i in positions]
    anywhere = lexicon._anywhere_rules(texts)
    keys = _line_keys(texts)
    lines = [_features(line, key, lexicon, site_chrome, anywhere.get(k)) for k, (line, key) in enumerate(zip(texts, keys))]
    n = len(lines)
    if not n:
        return StrippedText(body="", chrome=(), input_lines=0)
    published, first_text = None, lines[0].text
    lead = _LEADING_DATE.match(first_text)
    if lead and len(first_text) - lead.end() > 20:
        published = lead["date"]
        rest = first_text[lead.end():]
        lines[0] = _features(rest, line_key(rest), lexicon, site_chrome, anywhere.get(0))
    lines = _mark_copies(lines)
    scores = [_score(line) for line in lines]
    for i, line in enumerate(lines):
        if line.tail:
            scores[i] = min(scores[i], -TAIL_MARKER_COST)
    lead = _article_lead(lines)
    if lead is not None:
        scores[lead] += LEAD_BONUS
    if extracted:
        start, end = 0, n
        verdicts = [line.rule for line in lines]
        title = None
    else:
        start, end = _core_span(scores)
        end = _cut_tail(lines, scores, start, end, lexicon)
        end = _cut_comments(lines, scores, start, end)
        while end > start and scores[end - 1] <= 0:
            end -= 1
        start, end = _extend_edges(lines, start, end)
        verdicts = _judge(lines, start, end)
        title = _find_title(lines, start, verdicts)
    if title is not None:
        for i in range(start):  # every copy of the headline above the article
            if lines[i].key == lines[title].key:
                verdicts[i] = "title"
    removed: list[RemovedLine] = []
    captions: list[str] = []
    authors: list[str] = []
    keep = [True] * n
    for i, (line, verdict) in enumerate(zip(lines, verdicts)):
        if verdict is None:
            continue
        keep[i] = False
        removed.append(RemovedLine(line.text, verdict))
        if verdict.startswith("caption") and start - TITLE_WINDOW <= i < end:
            captions.append(line.text)
        elif verdict == "byline" and i < end:
            authors.extend(_names(line.text))
        elif verdict == "author_box" and i + 1 < n and _is_name(lines[i + 1].text):
            authors.append(lines[i + 1].text)
        elif verdict == "dateline" and published is None and i < end:
            published = _iso_date(line.text)
    body_lines = [""] * len(raw_lines)
    for k, i in enumerate(positions):
        body_lines[i] = lines[k].text if keep[k] else "\0"
    body_lines = [line for line in body_lines if line != "\0"]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(body_lines)).strip()
    return StrippedText(
        body=body,
        chrome=tuple(removed),
        title=lines[title].text if title is not None else None,
        authors=tuple(dict.fromkeys(authors)),
        captions=tuple(captions),
        published=published,
        input_lines=n,
    )


def _features(text: str, key: str, lexicon: ChromeLexicon, site_chrome: frozenset[str], found: str | None) -> _Line:
    # Counts come from the key (lower case, digits as 0, punctuation gone): its words are the line's \w+ tokens.
    tokens = key.split()
    count = len(tokens)
    words = count if text.isascii() else count + len(_CJK.findall(text)) // 2
    title_case = teaser = False
    if count >= SENTENCE_WORDS or count > 1:
        spaced = text.split()
        if count < LONG_LINE_WORDS:  # title case only matters for lines too short to be prose by length
            capitals = [word[0].isupper() for word in spaced if len(word) > 3 and word[0].isalpha()]
            title_case = bool(capitals) and sum(capitals) >= 0.7 * len(capitals)
        if count >= SENTENCE_WORDS:
            teaser = _headline_prefix(text, spaced)
    elif len(text) > 3 and text[0].isupper():
        title_case = True
    sentence = text.rstrip(_CLOSERS)[-1:] in _TERMINALS
    # Function words only decide long lines without a sentence end and title-case short ones (see _is_prose).
    stops = sum(map(lexicon.stopwords.__contains__, tokens)) if title_case or count >= LONG_LINE_WORDS \
        and not sentence else 0
    rule = lexicon._line_rule(text, key) or found
    if rule is None and key in site_chrome:
        rule = "site_repeat"
    if rule is None and count <= DATELINE_MAX_WORDS and "0" in key and not _ends_sentence(text) \
            and _has_date(text) and not _EMBED_OR_URL.search(text):
        rule = "dateline"
    tail = rule in _TAIL_RULES or count <= 6 and (key in lexicon.tail_markers or any(
        " ".join(tokens[:k]) in lexicon.tail_prefixes for k in range(1, count)))
    numeric = 3 <= count < LONG_LINE_WORDS and sum(not t.strip("0") for t in tokens) >= 0.4 * count
    return _Line(text, key, words, sentence, stops / count if count else 0.0, title_case, numeric, teaser, rule, tail)


def _ends_sentence(text: str) -> bool:
    return text.rstrip(_CLOSERS)[-1:] in _SENTENCE_ENDS


def _line_keys(texts: list[str]) -> list[str]:
    """:func:`line_key` of every line, computed over the joined document in a few regex passes."""
    joined = "\n".join(texts)
    if not unicodedata.is_normalized("NFC", joined):
        joined = unicodedata.normalize("NFC", joined)
    folded = _PUNCT.sub(" ", _DIGIT.sub("0", joined.lower().replace("_", " ")))
    return [" ".join(key.split()) for key in folded.split("\n")]


def _headline_prefix(text: str, words: list[str]) -> bool:
    """True when a long line starts in Headline Case: a teaser's headline glued to its summary.

    >>> line = "Ford Recalls F-150s; Loose Cable Can Cause Stalling Or Fires Ford is recalling over 168,000 trucks"
    >>> _headline_prefix(line, line.split())
    True
    >>> line = "Turkish President Recep Tayyip Erdogan discussed the idea with Lavrov and Zelensky this month"
    >>> _headline_prefix(line, line.split())
    False
    """
    if sum(1 for word in words[1:HEADLINE_PREFIX_WORDS] if word.strip(",.:;!?") in _CAPITAL_FUNCTION_WORDS) >= 2:
        return True
    if _INNER_DATELINE.search(text, 1):  # "... headline NEW YORK: summary ..."
        return True
    run = 0
    for word in words[:HEADLINE_PREFIX_WORDS]:
        core = word.lstrip("‘'\"“([¿¡")
        if not core or not (core[0].isupper() or core[0].isdigit() or core[0] in "$€£&"):
            break
        run += 1
        if word.endswith(","):  # a list of names ("New Jersey Sen. Cory Booker, Hawaii Rep. ..."), not a headline
            return False
    return run >= HEADLINE_RUN_WORDS and len(words) >= run + 5


def _is_prose(line: _Line) -> bool:
    if line.rule or line.teaser:
        return False
    if line.words >= LONG_LINE_WORDS:
        # A long line with no sentence end is prose when it has function words or is a comma-separated list item.
        return line.sentence or line.stop_share >= 0.2 or line.text.count(",") >= 2
    return line.words >= SENTENCE_WORDS and line.sentence and not line.title_case


def _score(line: _Line) -> float:
    """Content score: prose counts its words, link-like lines cost, known chrome costs its size."""
    if line.rule:
        return -max(4.0, line.words * 1.0)
    if _is_prose(line):
        return float(line.words)
    if line.teaser:
        return -3.0 - 0.1 * line.words
    if line.sentence and line.words >= 3 and not line.title_case:
        return 1.0
    if line.numeric:
        return 0.0
    return -3.0 - 0.3 * line.words


def _article_lead(lines: list[_Line]) -> int | None:
    """The first prose line just below the headline (the line that repeats the page's title line), if any."""
    page_title = lines[0].key
    for i in range(1, len(lines)):
        key = lines[i].key
        if lines[i].words >= 4 and not _is_prose(lines[i]) and page_title.startswith(key):
            for j in range(i + 1, min(i + 1 + LEAD_WINDOW, len(lines))):
                if _is_prose(lines[j]):
                    return j
    return None


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
    total = sum(s for s in scores[start:end] if s > 0)
    markers = [i for i in range(start, end) if lines[i].tail]
    before, seen = 0.0, 0
    for i in range(start, end):
        if scores[i] > 0:
            before += scores[i]
        if seen < len(markers) and markers[seen] == i:
            seen += 1
            dense = sum(1 for j in markers[seen - 1:] if j - i <= TAIL_MARKER_SPAN) >= TAIL_MARKER_RUN
            if before and (total - before < TAIL_AFTER_SHARE * before or dense):
                return i
    return end


def _mark_copies(lines: list[_Line]) -> list[_Line]:
    """Mark very long lines that repeat several of the page's paragraphs (a flattened second copy of the article)."""
    paragraphs = [line.text for line in lines if line.words >= SENTENCE_WORDS and line.words < COPY_MIN_WORDS]
    if not paragraphs:
        return lines
    out = list(lines)
    for i, line in enumerate(lines):
        if line.words >= COPY_MIN_WORDS and line.rule is None:
            if sum(1 for text in paragraphs if text in line.text) >= 2:
                out[i] = line._replace(rule="page_copy")
    return out


def _is_stamp(line: _Line) -> bool:
    """A comment's time stamp: a short non-sentence line with a date (or "N days ago") and a clock time."""
    return line.words <= 14 and bool(_CLOCK.search(line.text)) and not _ends_sentence(line.text) and (
        _iso_date(line.text) is not None or bool(_AGO.search(line.text)))


def _cut_comments(lines: list[_Line], scores: list[float], start: int, end: int) -> int:
    """End the core where a feed begins: readers' comments or teaser cards, each opened by a time stamp, byline or
    dateline and followed by prose, repeated after the article began."""
    prose_words = 0
    first, stamps, talk = None, 0, False
    for i in range(start, end):
        line = lines[i]
        stamp = _is_stamp(line) or line.rule in _FEED_RULES
        if scores[i] > 0 and not stamp:
            if first is None:
                prose_words += line.words
            continue
        if first is None and _COMMENT_WORDS.search(line.key):
            talk = True
        if prose_words >= COMMENT_MIN_PROSE and stamp and any(scores[j] > 0 for j in range(i + 1, min(i + 4, end))):
            stamps += 1
            if first is None:
                first = i
    if first is None or stamps < (2 if talk else 3):
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


def _judge(lines: list[_Line], start: int, end: int) -> list[str | None]:
    """The rule that removes each line, or None to keep it."""
    verdicts: list[str | None] = []
    prose = [_is_prose(line) for line in lines]
    for i, line in enumerate(lines):
        if not start <= i < end:
            verdicts.append(line.rule or "outside_article")
        elif line.rule == "site_repeat" and start < i < end - 1 and prose[i - 1] and prose[i + 1]:
            # A learned line between two paragraphs is a subheading the site's articles share (or one article
            # syndicated several times), not furniture: keep it.
            verdicts.append(None)
        elif line.rule:
            verdicts.append(line.rule)
        else:
            verdicts.append(None)
    # Inside the core, a run of three or more short lines that are neither prose nor sentences is a link list.
    i = start
    while i < end:
        j = i
        while j < end and _menu_like(lines[j]) and not prose[j] and verdicts[j] is None:
            j += 1
        if j - i >= 3:
            for k in range(i, j):
                verdicts[k] = "link_list"
        i = max(j, i + 1)
    return verdicts


def _menu_like(line: _Line) -> bool:
    """A link-like line: no sentence end, and very short or a title-case run with few function words."""
    return not line.sentence and (line.words <= 4 or line.title_case and line.stop_share < 0.2)


def _find_title(lines: list[_Line], start: int, verdicts: list[str | None]) -> int | None:
    """Index of the headline: a short heading-like line just above the article, preferring repeated ones."""
    if start >= len(lines) or start == 0 and not lines:
        return None
    first_key = lines[0].key
    above = Counter(line.key for line in lines[:start])
    best, best_score = None, 0.0
    seen = 0
    for i in range(start - 1, -1, -1):
        line = lines[i]
        if verdicts[i] not in (None, "outside_article") or not 3 <= line.words <= 30:
            continue
        if _ends_sentence(line.text) and not line.text.endswith(("?", "!")):
            continue
        seen += 1
        if seen > TITLE_WINDOW:
            break
        score = 1.0 / seen
        if above[line.key] > 1:
            score += 2.0
        if i and line.key and first_key.startswith(line.key):
            score += 2.0
        if score > best_score:
            best, best_score = i, score
    return best


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
            month = int(groups["m"]) if groups.get("m") else _MONTHS[groups["mon"].lower()]
            day = int(groups["d"])
        year = int(groups["y"])
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def _has_date(text: str) -> bool:
    return any(pattern.search(text) for pattern in _DATE_PATTERNS)
