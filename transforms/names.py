"""Entity name normalization: every spelling of an entity becomes its canonical form."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from transforms.records import Entity

# Apostrophes that end a name before a possessive "s": ASCII, right single quote, modifier letter.
_APOSTROPHES = "'’ʼ"


@dataclass(frozen=True)
class AliasTable:
    """Alias -> (canonical, kind), compiled into one longest-first pattern."""

    canonical_of: Mapping[str, tuple[str, str]]
    pattern: re.Pattern[str] | None

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, str]]) -> "AliasTable":
        """Build from CSV rows with ``alias, canonical, kind``; every canonical also maps to itself.

        >>> table = AliasTable.from_rows([{"alias": "Türkiye", "canonical": "Turkey", "kind": "country"}])
        >>> sorted(table.canonical_of)
        ['Turkey', 'Türkiye']
        """
        canonical_of: dict[str, tuple[str, str]] = {}
        for row in rows:
            canonical = unicodedata.normalize("NFC", row["canonical"].strip())
            kind = row["kind"].strip()
            canonical_of.setdefault(canonical, (canonical, kind))
            canonical_of[unicodedata.normalize("NFC", row["alias"].strip())] = (canonical, kind)
        if not canonical_of:
            return cls(canonical_of={}, pattern=None)
        alternatives = "|".join(re.escape(alias) for alias in sorted(canonical_of, key=len, reverse=True))
        # A name starts after a non-word character and ends before one; an apostrophe counts as a
        # boundary even where Unicode calls it a letter (ʼ), so possessives match.
        pattern = re.compile(rf"(?<![^\W{_APOSTROPHES}])(?:{alternatives})(?![^\W{_APOSTROPHES}])")
        return cls(canonical_of=canonical_of, pattern=pattern)


@dataclass(frozen=True)
class NormalizedText:
    text: str
    entities: tuple[Entity, ...]
    rewrites: tuple[tuple[str, str, int], ...]  # (variant, canonical, count)


def normalize_names(text: str, *, aliases: AliasTable) -> NormalizedText:
    """Rewrite every alias to its canonical form and count mentions per canonical entity.

    >>> table = AliasTable.from_rows([{"alias": "Erdoğan", "canonical": "Erdogan", "kind": "person"}])
    >>> out = normalize_names("Erdoğan met Erdogan’s team.", aliases=table)
    >>> out.text
    'Erdogan met Erdogan’s team.'
    >>> out.entities
    (Entity(name='Erdogan', kind='person', mentions=2),)
    """
    text = unicodedata.normalize("NFC", text)
    if aliases.pattern is None:
        return NormalizedText(text, (), ())
    mentions: Counter[tuple[str, str]] = Counter()
    rewrites: Counter[tuple[str, str]] = Counter()

    def _replace(match: re.Match[str]) -> str:
        variant = match.group(0)
        canonical, kind = aliases.canonical_of[variant]
        mentions[(canonical, kind)] += 1
        if variant != canonical:
            rewrites[(variant, canonical)] += 1
        return canonical

    normalized = aliases.pattern.sub(_replace, text)
    entities = tuple(
        Entity(name=name, kind=kind, mentions=count)
        for (name, kind), count in sorted(mentions.items(), key=lambda item: (-item[1], item[0]))
    )
    return NormalizedText(
        normalized, entities, tuple((v, c, n) for (v, c), n in sorted(rewrites.items()))
    )
