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
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from transforms.records import RemovedLine

LEXICON_FILES: tuple[str, ...] = ("chrome_phrases.csv", "tail_markers.csv", "chrome_stopwords.csv")

# A line key must occur in at least this many documents of a site before it counts as that site's chrome:
# two could be one article syndicated twice, three is a template.
SITE_CHROME_MIN_DOCS = 3
# Only lines this short (in key words) are learned as site chrome; article paragraphs are longer.
SITE_CHROME_MAX_WORDS = 12
# A tail marker ends the article only when the prose after it weighs less than this share of the prose before.
TAIL_AFTER_SHARE = 1.0
# Prose lines: at least this many words, or a sentence of at least this many.
LONG_LINE_WORDS = 15
SENTENCE_WORDS = 7
# Titles are looked for among this many non-empty lines above the article's first line.
TITLE_WINDOW = 12

_PUNCT_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"\w+", re.UNICODE)
# Scripts written without spaces: count characters, two to a word, so a Japanese paragraph is not "one word".
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_TERMINAL = re.compile(r"[.!?…:;。！？][\"'”’»)\]]*$")
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")
_NAME = re.compile(r"[A-ZÀ-ÖØ-ÞĀ-ſ][\w.'’-]*(?:\s+(?:[A-ZÀ-ÖØ-ÞĀ-ſ][\w.'’-]*|de|van|von|der|da|al|bin|el|la|di)){1,4}")
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
    "nov": 11, "dec": 12,
}
_MONTH = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE_PATTERNS = (
    re.compile(r"(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)"),
    re.compile(_MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)", re.I),
    re.compile(r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(?P<y>(?:19|20)\d\d)", re.I),
)
# A date (and its label) at the very start of a line, glued to the first sentence: " date 2025-02-27 Turkey ..."
_LEADING_DATE = re.compile(
    r"^\s*(?:(?:date|published|posted|updated|on)\s*:?\s*)?(?P<date>(?:19|20)\d\d-\d\d-\d\d)(?:[T ]\d\d:\d\d(?::\d\d)?\S*)?\s+(?=\S)",
    re.I,
)
_SPECIAL_RULES = ("caption", "byline", "dateline", "author_box")


@dataclass(frozen=True)
class ChromeLexicon:
    """Chrome phrases and patterns, tail markers and stop words, from the seed tables in ``LEXICON_FILES``."""

    exact: Mapping[str, str]  # line key -> rule
    patterns: tuple[tuple[re.Pattern[str], str], ...]  # whole-line patterns
    searches: tuple[tuple[re.Pattern[str], str], ...]  # patterns that mark a line wherever they occur in it
    tail_markers: frozenset[str]  # line keys
    stopwords: frozenset[str] = frozenset()

    @classmethod
    def from_rows(
        cls,
        phrases: Iterable[Mapping[str, str]],
        tail_markers: Iterable[Mapping[str, str]] = (),
        stopwords: Iterable[Mapping[str, str]] = (),
    ) -> "ChromeLexicon":
        """Build from CSV rows with ``pattern, match, rule``, ``marker`` and ``word`` columns.

        ``match`` is ``line`` (the whole line, compared by :func:`line_key`), ``regex`` / ``regex_cased``
        (a pattern the whole stripped line must match) or ``contains`` / ``contains_cased`` (anywhere).

        >>> lex = ChromeLexicon.from_rows([{"pattern": "advertisement", "match": "line", "rule": "ad"}])
        >>> lex.rule_for("Advertisement")
        'ad'
        """
        exact: dict[str, str] = {}
        patterns: list[tuple[re.Pattern[str], str]] = []
        searches: list[tuple[re.Pattern[str], str]] = []
        for row in phrases:
            match, pattern, rule = row.get("match") or "line", row["pattern"], row["rule"]
            if match == "line":
                exact[line_key(pattern)] = rule
            elif match in ("regex", "regex_cased", "contains", "contains_cased"):
                flags = 0 if match.endswith("_cased") else re.IGNORECASE
                target = searches if match.startswith("contains") else patterns
                target.append((re.compile(pattern, flags), rule))
            else:
                raise ValueError(f"unknown match kind {match!r} for pattern {pattern!r}")
        markers = frozenset(line_key(row["marker"]) for row in tail_markers)
        words = frozenset(row["word"].strip().lower() for row in stopwords)
        return cls(exact=exact, patterns=tuple(patterns), searches=tuple(searches), tail_markers=markers,
                   stopwords=words)

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
        rule = self.exact.get(line_key(stripped) if key is None else key)
        if rule:
            return rule
        if len(stripped) <= 300:
            for pattern, rule in self.patterns:
                if pattern.fullmatch(stripped):
                    return rule
        for pattern, rule in self.searches:
            if pattern.search(stripped):
                return rule
        return None


@dataclass(frozen=True)
class StrippedText:
    body: str
    chrome: tuple[RemovedLine, ...]
    title: str | None = None
    authors: tuple[str, ...] = ()
    captions: tuple[str, ...] = ()
    published: str | None = None  # ISO date found in the text
    input_lines: int = 0


@dataclass(frozen=True)
class _Line:
    text: str
    key: str
    words: int
    sentence: bool  # ends like a sentence (or a lead-in colon)
    stop_share: float
    title_case: bool
    rule: str | None


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
    if not stripped or _SENTENCE_END.search(stripped):
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


def strip_chrome(text: str, *, lexicon: ChromeLexicon, site_chrome: frozenset[str] = frozenset()) -> StrippedText:
    """Remove chrome lines from plain text, keeping article lines whole and in order.

    ``site_chrome`` holds line keys seen in several documents of the same site.

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
    lines = [_features(raw_lines[i].strip(), lexicon, site_chrome) for i in positions]
    n = len(lines)
    if not n:
        return StrippedText(body="", chrome=(), input_lines=0)
    published, first_text = None, lines[0].text
    lead = _LEADING_DATE.match(first_text)
    if lead and len(first_text) - lead.end() > 20:
        published = lead["date"]
        lines[0] = _features(first_text[lead.end():], lexicon, site_chrome)
    scores = [_score(line) for line in lines]
    start, end = _core_span(scores)
    end = _cut_tail(lines, scores, start, end, lexicon.tail_markers)
    while end > start and scores[end - 1] <= 0:
        end -= 1
    start, end = _extend_edges(lines, start, end)
    verdicts = _judge(lines, start, end)

    title = _find_title(lines, start, verdicts)
    if title is not None:
        verdicts[title] = "title"
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


def _features(text: str, lexicon: ChromeLexicon, site_chrome: frozenset[str]) -> _Line:
    key = line_key(text)
    tokens = _WORD.findall(text)
    cjk = len(_CJK.findall(text))
    words = len(tokens) + cjk // 2 if cjk else len(tokens)
    lowered = [t.lower() for t in tokens]
    stops = sum(1 for t in lowered if t in lexicon.stopwords)
    long_tokens = [t for t in tokens if len(t) > 3 and not t.isdigit()]
    title_case = bool(long_tokens) and sum(1 for t in long_tokens if t[0].isupper()) >= 0.7 * len(long_tokens)
    rule = lexicon.rule_for(text, key)
    if rule is None and key in site_chrome:
        rule = "site_repeat"
    return _Line(text=text, key=key, words=words, sentence=bool(_TERMINAL.search(text)),
                 stop_share=stops / len(tokens) if tokens else 0.0, title_case=title_case, rule=rule)


def _is_prose(line: _Line) -> bool:
    if line.rule:
        return False
    if line.words >= LONG_LINE_WORDS:
        return line.sentence or line.stop_share >= 0.2 or not line.title_case
    return line.words >= SENTENCE_WORDS and line.sentence and not line.title_case


def _score(line: _Line) -> float:
    """Content score: prose counts its words, link-like lines cost, known chrome costs its size."""
    if line.rule:
        return -max(4.0, line.words * 1.0)
    if _is_prose(line):
        return float(line.words)
    if line.sentence and line.words >= 3 and not line.title_case:
        return 1.0
    return -3.0 - 0.3 * line.words


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


def _cut_tail(lines: list[_Line], scores: list[float], start: int, end: int, markers: frozenset[str]) -> int:
    """End the core at the first tail marker after which little prose follows."""
    total = sum(s for s in scores[start:end] if s > 0)
    before = 0.0
    for i in range(start, end):
        if scores[i] > 0:
            before += scores[i]
        if before and _is_tail_marker(lines[i], markers) and total - before < TAIL_AFTER_SHARE * before:
            return i
    return end


def _is_tail_marker(line: _Line, markers: frozenset[str]) -> bool:
    if line.key in markers:
        return True
    words = line.key.split()
    return len(words) <= 6 and any(" ".join(words[:k]) in markers for k in range(1, len(words)))


def _extend_edges(lines: list[_Line], start: int, end: int) -> tuple[int, int]:
    """Let the core take in short sentences that close the article (they score near zero)."""
    while end < len(lines) and lines[end].rule is None and lines[end].sentence and 3 <= lines[end].words \
            and not lines[end].title_case and not _is_tail_marker(lines[end], frozenset()):
        end += 1
    return start, end


def _judge(lines: list[_Line], start: int, end: int) -> list[str | None]:
    """The rule that removes each line, or None to keep it."""
    verdicts: list[str | None] = []
    prose = [_is_prose(line) for line in lines]
    for i, line in enumerate(lines):
        if not start <= i < end:
            verdicts.append(line.rule or "outside_article")
        elif line.rule:
            verdicts.append(line.rule)
        else:
            verdicts.append(None)
    # Inside the core, a run of three or more short lines that are neither prose nor sentences is a link list.
    i = start
    while i < end:
        j = i
        while j < end and not prose[j] and not lines[j].sentence and verdicts[j] is None:
            j += 1
        if j - i >= 3:
            for k in range(i, j):
                verdicts[k] = "link_list"
        i = max(j, i + 1)
    return verdicts


def _find_title(lines: list[_Line], start: int, verdicts: list[str | None]) -> int | None:
    """Index of the headline: a short heading-like line just above the article, preferring repeated ones."""
    if start >= len(lines) or start == 0 and not lines:
        return None
    first_key = lines[0].key
    best, best_score = None, 0.0
    seen = 0
    for i in range(start - 1, -1, -1):
        line = lines[i]
        if verdicts[i] not in (None, "outside_article", "site_repeat") or not 3 <= line.words <= 30:
            continue
        if _SENTENCE_END.search(line.text) and not line.text.endswith(("?", "!")):
            continue
        seen += 1
        if seen > TITLE_WINDOW:
            break
        score = 1.0 / seen
        if any(other.key == line.key for j, other in enumerate(lines[:start]) if j != i):
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
    """The first calendar date in ``text`` as ISO, or None.

    >>> _iso_date("Published 7:07 PM EST Nov 19, 2019"), _iso_date("23 Nov 2017"), _iso_date("soon")
    ('2019-11-19', '2017-11-23', None)
    """
    for pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        groups = match.groupdict()
        month = int(groups["m"]) if groups.get("m") else _MONTHS[groups["mon"].lower()[:4].rstrip("t") if groups["mon"].lower().startswith("sept") else groups["mon"].lower()[:3]]
        day, year = int(groups["d"]), int(groups["y"])
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None
