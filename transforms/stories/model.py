"""What story assignment takes and gives: :class:`StoryDoc` in, :class:`Assignment` out; days as numbers."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

# The day of an article with no publication date: it may join any story, and a story made only of
# undated articles accepts articles of any day (plain-text scrapes often carry no date at all).
UNDATED = 0

# A word-frequency table (Zipf scale) for a language code (None: unknown language).
ZipfTables = Callable[[str | None], Mapping[str, float]]


@dataclass(frozen=True)
class StoryDoc:
    """What story assignment needs of an article (the flow builds it from an articles-table row)."""

    doc_id: str
    body: str  # body_normalized
    day: date | None  # publication date; None when unknown (see UNDATED)
    site: str | None = None
    title: str | None = None
    language: str | None = None
    entities: tuple[tuple[str, int], ...] = ()  # (canonical name, mentions)
    source_uri: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Assignment:
    """The outcome for one article: its story, and what it copies if it is a duplicate."""

    doc_id: str
    story_id: str
    near_duplicate_of: str | None = None
    exact_duplicate_of: str | None = None
    similarity: float = 0.0  # to the story it joined (1.0 for duplicates, 0.0 for a new story)


def new_story_id(doc_id: str) -> str:
    """A story is named after the article that started it.

    >>> new_story_id("2cf24dba5fb0a30e26e83b2ac5b9e29e")
    's-2cf24dba5fb0a30e26e83b2a'
    """
    return "s-" + doc_id[:24]


def day_number(day: date | None) -> int:
    """The index's number for a day: its ordinal, UNDATED for none.

    >>> day_number(date(2025, 2, 28)), day_number(None)
    (739310, 0)
    """
    return UNDATED if day is None else day.toordinal()


def date_of(ordinal: int) -> date | None:
    """The date an index day number stands for; None for UNDATED.

    >>> date_of(739310), date_of(UNDATED)
    (datetime.date(2025, 2, 28), None)
    """
    return None if ordinal == UNDATED else date.fromordinal(ordinal)
