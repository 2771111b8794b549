"""Plain-text chrome stripping: remove site furniture line by line and say why."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from transforms.records import RemovedLine

_PUNCT_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class ChromeLexicon:
    """Compiled chrome phrases (seeds/chrome_phrases.csv) and tail markers (seeds/tail_markers.csv)."""

    exact: Mapping[str, str]  # lower-cased whole line -> rule
    patterns: tuple[tuple[re.Pattern[str], str], ...]
    tail_markers: frozenset[str]

    @classmethod
    def from_rows(cls, phrases: Iterable[Mapping[str, str]], tail_markers: Iterable[Mapping[str, str]] = ()) -> "ChromeLexicon":
        """Build from CSV rows with ``pattern, match, rule`` and ``marker`` columns.

        >>> lex = ChromeLexicon.from_rows([{"pattern": "advertisement", "match": "line", "rule": "ad"}])
        >>> lex.rule_for("Advertisement")
        'ad'
        """
        exact: dict[str, str] = {}
        patterns: list[tuple[re.Pattern[str], str]] = []
        for row in phrases:
            match = row.get("match", "line")
            if match == "line":
                exact[row["pattern"].strip().lower()] = row["rule"]
            elif match in ("regex", "regex_cased"):
                flags = 0 if match == "regex_cased" else re.IGNORECASE
                patterns.append((re.compile(row["pattern"], flags), row["rule"]))
            else:
                raise ValueError(f"unknown match kind {match!r} for pattern {row['pattern']!r}")
        markers = frozenset(row["marker"].strip().lower() for row in tail_markers)
        return cls(exact=exact, patterns=tuple(patterns), tail_markers=markers)

    def rule_for(self, line: str) -> str | None:
        """The rule that marks this whole line as chrome, or None."""
        stripped = line.strip()
        rule = self.exact.get(stripped.lower())
        if rule:
            return rule
        for pattern, rule in self.patterns:
            if pattern.fullmatch(stripped):
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


def line_key(line: str) -> str:
    """CCNet-style key for counting a line across documents: lower case, digits to 0, no punctuation.

    >>> line_key("Read Next: 10 stories!")
    'read next 00 stories'
    """
    folded = _DIGIT.sub("0", unicodedata.normalize("NFC", line).lower())
    return _PUNCT_OR_SPACE.sub(" ", folded).strip()


def count_line_keys(texts: Iterable[str]) -> Counter[str]:
    """In how many of ``texts`` each non-empty line key occurs (once per document)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({key for key in map(line_key, text.splitlines()) if key})
    return counts


def strip_chrome(text: str, *, lexicon: ChromeLexicon, site_chrome: frozenset[str] = frozenset()) -> StrippedText:
    """Remove chrome lines from plain text, keeping article lines whole and in order.

    ``site_chrome`` holds line keys seen in several documents of the same site.

    >>> lex = ChromeLexicon.from_rows([{"pattern": "advertisement", "match": "line", "rule": "ad"}])
    >>> out = strip_chrome("Para one is here.\\n\\nAdvertisement\\n\\nPara two is here.", lexicon=lex)
    >>> out.body
    'Para one is here.\\n\\nPara two is here.'
    >>> [(r.line, r.rule) for r in out.chrome]
    [('Advertisement', 'ad')]
    """
    lines = text.splitlines()
    keep: list[str] = []
    removed: list[RemovedLine] = []
    content_lines = sum(1 for line in lines if line.strip())
    seen = 0
    tail_cut = False
    for line in lines:
        stripped = line.strip()
        if not stripped:
            keep.append("")
            continue
        seen += 1
        if tail_cut:
            removed.append(RemovedLine(stripped, "after_tail_marker"))
            continue
        if line_key(stripped) in lexicon.tail_markers and seen > content_lines // 3 or _starts_tail(stripped, lexicon) and seen > content_lines // 2:
            tail_cut = True
            removed.append(RemovedLine(stripped, "tail_marker"))
            continue
        rule = lexicon.rule_for(stripped)
        if rule is None and line_key(stripped) in site_chrome:
            rule = "site_repeat"
        if rule:
            removed.append(RemovedLine(stripped, rule))
        else:
            keep.append(stripped)
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(keep)).strip()
    return StrippedText(body=body, chrome=tuple(removed), input_lines=content_lines)


def _starts_tail(line: str, lexicon: ChromeLexicon) -> bool:
    key = line_key(line)
    return any(key.startswith(marker + " ") for marker in lexicon.tail_markers) and len(key.split()) <= 6
