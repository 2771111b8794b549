"""Fields from the lines the line model labels title, byline and date: names and a calendar date.

Language-independent where it can be: a byline's names are split on punctuation and on the page language's own
function words ("and", "und", "et", "y" are all among the most frequent words of their language), not on an
English list.
"""
from __future__ import annotations

import re

from transforms.chrome.rules import _MONTH_WORDS, _MONTHS, _iso_date, iso_day, month_and_day

# Words that label a byline in the languages of the corpora; a leading one is dropped before the names are read.
_BYLINE_LABEL = re.compile(
    r"^\s*(?:(?:written|posted|reported|published|text|story|words|photos?)\s+)?"
    r"(?:by|from|von|par|por|di|door|af|av|od|от|автор|yazar|text|texto|tekst|redaktion|autor(?:es)?|auteurs?|"
    r"authors?|author|reporter|reportage)\b\s*:?\s*", re.I)
# "By" after a date or a category ("September 1st, 2023 By Emily Norwood")
_LATER_BY = re.compile(r"\s(?:by|von|par|por)\b\s*:?\s*", re.I)
_NAME_SPLIT = re.compile(r"\s*(?:[,;|/&·•]|\s[-–—]|[—–]\s)\s*")
_NAME_WORD = re.compile(r"^[^\W\d_][\w.'’-]*$")
MAX_NAME_WORDS = 5
# Marks between a page title and its site's name ("Bridge reopens | The Daily Example")
_TITLE_SPLIT = re.compile(r"\s+[|–—-]\s+|\s+::\s+|\s+·\s+")


def title_from_line(line: str) -> str:
    """A title line without the site's name around it: the longest of its parts between title marks.

    >>> title_from_line("Bridge reopens after two years of works | The Daily Example")
    'Bridge reopens after two years of works'
    >>> title_from_line("Well-being at work")
    'Well-being at work'
    """
    parts = _TITLE_SPLIT.split(line.strip())
    return max(parts, key=lambda part: len(part.split())) if len(parts) > 1 else line.strip()


def names_from_byline(line: str, *, function: frozenset[str] = frozenset()) -> list[str]:
    """Person names in a byline line, in order.

    ``function`` holds the page language's function words: they join names ("and", "und") and never start one.
    A name is the run of capitalised words at the start of a part of the line; a date, a number, a label
    ("Published:"), a word in capitals after others that are not ("USA TODAY") or a lower-case word ends it.

    >>> names_from_byline("By Jane Roe and John Doe", function=frozenset({"and", "the"}))
    ['Jane Roe', 'John Doe']
    >>> names_from_byline("Von Anna Müller, Berlin | 12.03.2024")
    ['Anna Müller']
    >>> names_from_byline("Updated 3 hours ago")
    []
    >>> names_from_byline("By Korin Miller Published: Jan 29, 2025"), names_from_byline("Brian Truitt USA TODAY")
    (['Korin Miller'], ['Brian Truitt'])
    >>> names_from_byline("Sofia Gonzalez December 2, 2025"), names_from_byline("by Jacob Trussell —10 min read")
    (['Sofia Gonzalez'], ['Jacob Trussell'])
    >>> names_from_byline("September 1st, 2023 By Emily Way", function=frozenset({"way", "by"}))
    ['Emily Way']
    """
    label = _BYLINE_LABEL.match(line) or _LATER_BY.search(line)  # the names follow the label
    text = line[label.end():] if label and label.end() < len(line.rstrip()) else line.strip()
    names = []
    for part in _NAME_SPLIT.split(text):
        current: list[str] = []
        for word in part.split():
            if word.islower() and word in function:  # a joiner ("and", "und") ends one name; another may follow
                if current and _looks_like_name(current):
                    names.append(" ".join(current))
                current = []
                continue
            if _ends_name(word, current):
                break
            current.append(word)
        if current and _looks_like_name(current):
            names.append(" ".join(current))
    return list(dict.fromkeys(names))


# Words that follow a name in a byline and are not part of it (published, updated, ... in the corpora's languages)
_AFTER_NAME = frozenset("""published updated posted modified last veröffentlicht aktualisiert publicado actualizado
    publié mis pubblicato aggiornato gepubliceerd bijgewerkt""".split())


def _ends_name(word: str, current: list[str]) -> bool:
    bare = word.strip(".,;()[]")
    if not bare or any(char.isdigit() for char in bare) or word.endswith(":") or bare.lower() in _AFTER_NAME:
        return True
    if current and bare.lower() in _MONTH_WORDS:
        return True
    if bare[0].upper() != bare[0].lower() and not bare[0].isupper():  # a lower-case word
        return True
    # a word in capitals after words that are not: an outlet ("USA TODAY"), not the name
    return bool(current) and len(bare) > 1 and bare.isupper() and not any(w.isupper() for w in current)


def _looks_like_name(words: list[str]) -> bool:
    if not 1 <= len(words) <= MAX_NAME_WORDS:
        return False
    if not all(_NAME_WORD.match(word) for word in words):
        return False
    # a cased script writes names with capitals; a script without case (CJK, Arabic) cannot be checked that way
    cased = [word for word in words if word[0].upper() != word[0].lower()]
    return all(word[0].isupper() for word in cased) and (len(words) >= 2 or not cased)


_MONTH = "(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_MORE_DATES = (
    # ISO with a time glued on ("2022-11-23T08:10"), or years first with other marks ("2025•01•08", "2021 – 01 – 18")
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)\s?[-/.•·–]\s?(?P<m>\d\d?)\s?[-/.•·–]\s?(?P<d>\d\d?)(?!\d)"),
    # a day, a month's name, a year joined by marks ("19-Dec-2025", "25.Jun.2019")
    re.compile(r"(?<!\d)(?P<d>\d\d?)[-./ ]+" + _MONTH + r"[-./ ]+(?P<y>(?:19|20)\d\d)(?!\d)", re.I),
    # numbers only, day and month in either order ("8/1/2025", "06. 01. 2026", "01-04-2024")
    re.compile(r"(?<!\d)(?P<a>\d\d?)\s?(?P<mark>[-/.])\s?(?P<b>\d\d?)\s?[-/.]\s?(?P<y>(?:19|20)\d\d)(?!\d)"),
)


def date_from_line(line: str, language: str | None = None) -> str | None:
    """The calendar date in a dateline as ISO ``YYYY-MM-DD``, or None.

    ``language`` reads a date of numbers alone whose day and month could be either: month first with slashes in
    English ("8/1/2025" is August 1st), day first otherwise ("03.05.2024" is May 3rd).

    >>> date_from_line("Published 7:07 PM EST Nov 19, 2019"), date_from_line("2024年5月3日 10:00")
    ('2019-11-19', '2024-05-03')
    >>> date_from_line("2022-11-23T08:10+02:00"), date_from_line("19-Dec-2025"), date_from_line("2025•01•08")
    ('2022-11-23', '2025-12-19', '2025-01-08')
    >>> date_from_line("8/1/2025", "en"), date_from_line("03.05.2024 15:42 Uhr", "de"), date_from_line("Soon")
    ('2025-08-01', '2024-05-03', None)
    """
    found = _iso_date(line)
    if found:
        return found
    match = re.search(r"((?:19|20)\d\d)\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})", line)
    found = iso_day(*map(int, match.groups())) if match else None
    if found:
        return found
    for pattern in _MORE_DATES:
        match = pattern.search(line)
        if not match:
            continue
        groups = match.groupdict()
        if groups.get("a"):
            first, second = int(groups["a"]), int(groups["b"])
            month_first = second > 12 or (first <= 12 and groups["mark"] == "/" and language == "en")
            month, day = (first, second) if month_first else (second, first)
        else:
            month, day = month_and_day(groups)
        found = iso_day(int(groups["y"]), month, day)
        if found:
            return found
    return None
