"""Fields from the lines the line model labels title, byline and date: names and a calendar date.

Language-independent where it can be: a byline's names are split on punctuation and on the page language's own
function words ("and", "und", "et", "y" are all among the most frequent words of their language), not on an
English list.
"""
from __future__ import annotations

import re

from transforms.chrome.rules import _iso_date

# Words that label a byline in the languages of the corpora; a leading one is dropped before the names are read.
_BYLINE_LABEL = re.compile(
    r"^\s*(?:(?:written|posted|reported|published|text|story|words|photos?)\s+)?"
    r"(?:by|from|von|par|por|di|door|af|av|od|от|автор|yazar|text|texto|tekst|redaktion|autor(?:es)?|auteurs?|"
    r"authors?|author|reporter|reportage)\b\s*:?\s*", re.I)
_NAME_SPLIT = re.compile(r"\s*(?:[,;|/&·•]|\s[-–—]\s)\s*")
_NAME_WORD = re.compile(r"^[^\W\d_][\w.'’-]*$")
MAX_NAME_WORDS = 5


def names_from_byline(line: str, *, function: frozenset[str] = frozenset()) -> list[str]:
    """Person names in a byline line, in order.

    ``function`` holds the page language's function words: they join names ("and", "und") and never start one.

    >>> names_from_byline("By Jane Roe and John Doe", function=frozenset({"and", "the"}))
    ['Jane Roe', 'John Doe']
    >>> names_from_byline("Von Anna Müller, Berlin | 12.03.2024")
    ['Anna Müller']
    >>> names_from_byline("Updated 3 hours ago")
    []
    """
    text = _BYLINE_LABEL.sub("", line.strip())
    names = []
    for part in _NAME_SPLIT.split(text):
        words = part.split()
        # cut the part at a function word (a joiner: "and", "und") and read each side
        current: list[str] = []
        for word in words + [""]:
            if not word or word.lower() in function:
                if current and _looks_like_name(current):
                    names.append(" ".join(current))
                current = []
            else:
                current.append(word)
    return list(dict.fromkeys(names))


def _looks_like_name(words: list[str]) -> bool:
    if not 1 <= len(words) <= MAX_NAME_WORDS:
        return False
    if not all(_NAME_WORD.match(word) for word in words):
        return False
    # a cased script writes names with capitals; a script without case (CJK, Arabic) cannot be checked that way
    cased = [word for word in words if word[0].upper() != word[0].lower()]
    return all(word[0].isupper() for word in cased) and (len(words) >= 2 or not cased)


def date_from_line(line: str) -> str | None:
    """The calendar date in a dateline as ISO ``YYYY-MM-DD``, or None.

    >>> date_from_line("Published 7:07 PM EST Nov 19, 2019"), date_from_line("2024年5月3日 10:00")
    ('2019-11-19', '2024-05-03')
    """
    found = _iso_date(line)
    if found:
        return found
    match = re.search(r"((?:19|20)\d\d)\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})", line)
    if match:
        year, month, day = map(int, match.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None
