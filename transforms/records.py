"""The records that move between the pipeline's stages."""
from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple, overload

PIPELINE_VERSION = "0.1.0"


@dataclass(frozen=True)
class RawDocument:
    """One input document as read: original bytes plus whatever the container told us.

    ``read_error`` is set when the reader could not get the bytes out (truncated gzip,
    broken .jsonl line, permission denied); such a document goes straight to quarantine.
    """

    source_uri: str
    raw: bytes
    format_hint: str = ""  # "text" | "html" | "" (from the file extension or the jsonl field)
    folder_site: str | None = None  # the input file's parent folder name
    url: str | None = None
    site: str | None = None
    published: str | None = None
    title: str | None = None
    read_error: str | None = None
    sha256: str = ""  # hex SHA-256 of ``raw`` when the reader has hashed the bytes already (the ledger does)
    repairs: tuple[str, ...] = ()  # what the reader made valid (a file name or field that was not valid Unicode)

    @cached_property  # hashed once, in the reading process; the value travels with the pickled document
    def doc_id(self) -> str:
        """Content hash of the raw bytes: stable across runs and machines.

        A document whose bytes could not be read has no content to hash, so its id comes from
        where it was found instead (two unreadable files are two documents, not one).
        """
        if self.read_error and not self.raw:
            return content_id(f"unreadable:{self.source_uri}".encode())
        if self.read_error == "too_large":  # only the start was read: two big files may share it
            return content_id(f"too_large:{self.source_uri}:".encode() + self.raw)
        return self.sha256[:32] if self.sha256 else content_id(self.raw)


def content_id(raw: bytes) -> str:
    """First 32 hex digits of the SHA-256 of ``raw``.

    >>> content_id(b"hello")
    '2cf24dba5fb0a30e26e83b2ac5b9e29e'
    """
    return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class Entity:
    name: str
    kind: str
    mentions: int


class RemovedLine(NamedTuple):
    """A line the cleaner removed, with the rule that removed it (for audits).

    A tuple rather than a frozen dataclass: most lines of a scraped page are removed, and building
    dataclass instances was a measurable share of the stripper's time.
    """

    line: str
    rule: str


class RemovedLines(Sequence):
    """An article's removed lines as a sequence of :class:`RemovedLine`, kept as one text and the rule names.

    A scraped text page loses about 140 lines. Articles cross from the worker processes to the flow
    process by pickle and wait there for their commit; as 140 two-string tuples the lines cost about
    22 KB per article, as one newline-joined text (a line never holds a newline) and a tuple of shared
    rule names about 8 KB, and they unpickle as three objects instead of 400.

    >>> removed = RemovedLines([RemovedLine("Advertisement", "ad_label"), RemovedLine("Share", "share_call")])
    >>> len(removed), removed[1], removed == (("Advertisement", "ad_label"), ("Share", "share_call"))
    (2, RemovedLine(line='Share', rule='share_call'), True)
    >>> removed.rules, removed.lines[0], RemovedLines(removed) == removed, RemovedLines() == (), RemovedLines().lines
    (('ad_label', 'share_call'), 'Advertisement', True, True, [])
    """

    __slots__ = ("_text", "_rules")

    def __init__(self, lines: Iterable[tuple[str, str]] = ()) -> None:
        lines = tuple(lines)
        self._set("\n".join(line for line, _ in lines), tuple(rule for _, rule in lines))

    @classmethod
    def of(cls, lines: Iterable[str], rules: Iterable[str]) -> "RemovedLines":
        """The lines' texts and their rules given side by side (the stripper's form: no tuple per line).

        >>> RemovedLines.of(["Home", "Share"], ["menu", "share_call"])[1]
        RemovedLine(line='Share', rule='share_call')
        """
        removed = cls.__new__(cls)
        removed._set("\n".join(lines), tuple(rules))
        return removed

    def _set(self, text: str, rules: tuple[str, ...]) -> None:
        if rules and text.count("\n") != len(rules) - 1:
            raise ValueError("removed lines and rules differ in number, or a line holds a newline "
                             "(lines come from str.splitlines())")
        self._text, self._rules = text, tuple(map(sys.intern, rules))  # one copy of each rule name per process

    def __len__(self) -> int:
        return len(self._rules)

    @overload
    def __getitem__(self, index: int) -> RemovedLine: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[RemovedLine, ...]: ...
    def __getitem__(self, index):  # splits the text each time: iterate, or use lines and rules, in loops
        if isinstance(index, slice):
            return tuple(self)[index]
        return RemovedLine(self.lines[index], self._rules[index])

    def __iter__(self) -> Iterator[RemovedLine]:
        return map(RemovedLine, self.lines, self._rules)

    @property
    def lines(self) -> list[str]:
        """The removed lines' texts, in order."""
        return self._text.split("\n") if self._rules else []

    @property
    def joined(self) -> str:
        """The lines joined by newlines (what Arrow splits into the ``chrome`` column without Python objects)."""
        return self._text

    @property
    def rules(self) -> tuple[str, ...]:
        """The rule that removed each line, in order."""
        return self._rules

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RemovedLines):
            return self._rules == other._rules and self._text == other._text
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))  # equal to a tuple of the same lines, so hashed like one

    def __repr__(self) -> str:
        return f"RemovedLines({list(self)!r})"

    def __getstate__(self) -> tuple[str, tuple[str, ...]]:
        return self._text, self._rules

    def __setstate__(self, state: tuple[str, tuple[str, ...]]) -> None:
        self._set(*state)


@dataclass(frozen=True)
class Article:
    """A document on its way to the ``articles`` table; every stage returns a new one."""

    doc_id: str
    source_uri: str
    input_format: str
    raw: bytes
    text: str = ""  # decoded input (HTML source or plain text)
    site: str | None = None
    site_name: str | None = None
    url: str | None = None
    title: str | None = None
    authors: tuple[str, ...] = ()
    published: date | None = None
    published_at: datetime | None = None
    language: str | None = None
    body: str = ""
    body_normalized: str = ""
    captions: tuple[str, ...] = ()
    chrome: RemovedLines = RemovedLines()
    entities: tuple[Entity, ...] = ()
    rewrites: tuple[tuple[str, str, int], ...] = ()  # (variant, canonical, count)
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()  # decoding fixes applied (charset, mojibake, NUL bytes)
    input_lines: int = 0
    removed_share: float = 0.0
    stripper: str | None = None  # what removed the chrome: "rules", or the line model's version
    quarantine_reasons: tuple[str, ...] = field(default=())
    quarantine_stage: str | None = None

    @property
    def word_count(self) -> int:
        return len(self.body.split())

    @property
    def quarantined(self) -> bool:
        return bool(self.quarantine_reasons)
