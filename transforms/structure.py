"""Structured fields from text: language, dates, site."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from dateutil import parser as date_parser

# A thousand characters of body name the language as reliably as the whole body.
LANGUAGE_SAMPLE_CHARS = 1000
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
# The identifier names some languages by ISO 639-3 (regional varieties, languages without a two-letter
# code); the articles table promises ISO 639-1, so varieties fold into their macrolanguage, the rest into None.
_ISO_639_3_TO_1 = {"arz": "ar", "yue": "zh", "wuu": "zh", "azb": "az", "ckb": "ku", "pnb": "pa"}


class LanguageIdentifier(Protocol):
    """A fastText-style identifier (``flows.models.FastTextLanguageIdentifier`` in a run)."""

    def predict(self, text: str) -> tuple[tuple[str, ...], Any]:
        """``(("__label__en",), probabilities)`` for one line of text."""


def detect_language(text: str, identifier: LanguageIdentifier) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short to tell.

    >>> class Always:  # stands in for the fastText model (tests/transforms/test_structure.py runs the real one)
    ...     def __init__(self, label): self.label = label
    ...     def predict(self, text): return (self.label,), (0.9,)
    >>> detect_language("Turkey is reportedly open to sending peacekeepers.", Always("__label__en"))
    'en'
    >>> detect_language("粤语 is written here with enough words to tell", Always("__label__yue"))
    'zh'
    >>> detect_language("too short", Always("__label__en")) is None
    True
    """
    words = text[:LANGUAGE_SAMPLE_CHARS].split()
    if len(words) < 5:
        return None
    (label,), _probability = identifier.predict(" ".join(words))  # one line: fastText stops at a newline
    code = label.removeprefix("__label__")
    return code if len(code) == 2 else _ISO_639_3_TO_1.get(code)


def parse_date(value: str | None) -> date | None:
    """A calendar date from an ISO or free-form date string, or None.

    >>> parse_date("2025-02-27T10:00:00+02:00")
    datetime.date(2025, 2, 27)
    >>> parse_date("Feb. 27, 2025")
    datetime.date(2025, 2, 27)
    >>> parse_date("yesterday") is None
    True
    """
    if not value:
        return None
    match = _ISO_DATE.search(value)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        return date_parser.parse(value, fuzzy=False, default=datetime(1900, 1, 1)).date()
    except (ValueError, OverflowError):
        return None


def parse_datetime(value: str | None) -> datetime | None:
    """A timezone-aware timestamp when the string carries a time and an offset, else None.

    >>> parse_datetime("2025-02-27T10:00:00+02:00").isoformat()
    '2025-02-27T10:00:00+02:00'
    >>> parse_datetime("2025-02-27") is None
    True
    """
    if not value or not re.search(r"\d{1,2}:\d{2}", value):
        return None
    try:
        parsed = date_parser.isoparse(value)
    except ValueError:
        try:
            parsed = date_parser.parse(value)
        except (ValueError, OverflowError):
            return None
    return parsed if parsed.tzinfo is not None else None


def site_from_url(url: str | None) -> str | None:
    """The URL's host without a leading ``www.``.

    >>> site_from_url("https://www.kyivpost.com/post/123"), site_from_url("http://[::1/x")
    ('kyivpost.com', None)
    """
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname
    except ValueError:  # "http://[::1/x": a malformed host is no host
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host
