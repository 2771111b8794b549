"""Entity names: every spelling of an entity counts as one entity and reads as one in ``body_normalized``.

How the alias table (seeds/aliases.csv: ``alias, canonical, kind, note``) reads:

- A row says that ``alias`` is a way of writing ``canonical``. The canonical may itself be an alias: links are
  followed to the entity's name, the one name with no row of its own (or a row to itself). Each spelling
  decision is therefore written once: swapping the row ``Türkiye,Turkey`` into ``Turkey,Türkiye`` makes Türkiye
  the name of every Turkey spelling. A cycle, or one entity given two kinds, is an error naming the rows.
- Full names need no rows: "Recep Tayyip Erdoğan" counts once, as Erdogan, because the surname is matched
  inside it, and reads "Recep Tayyip Erdogan". A row whose canonical is a run of words inside its alias
  (``Sergey Lavrov,Lavrov``) marks a longer form: it counts as that entity, keeps its other words and has only
  that run rewritten, so a surname is never expanded into a full name nor a full name cut down to a surname.
  Such rows are needed only when the other words vary (``Sergei Lavrov,Sergey Lavrov``); a full name whose
  surname alone is ambiguous is an entity of its own (``Dmitry Medvedev``). Any other row is rewritten whole
  (``Great Britain,UK``).
- Kind ``ignore`` protects a phrase from the names inside it ("Turkey Point", "chicken Kiev"): the longest
  match wins, the phrase stays exactly as written and counts as no entity.

Matching is one Aho-Corasick pass per document over the NFC text: case-sensitive, leftmost-longest, on word
boundaries. An apostrophe (' ’ ʼ) ends a word, so "Zelenskyʼs" is Zelensky plus a possessive that stays.
Before matching, ``body_normalized`` folds spellings that differ only in look-alike characters: ǧ is ğ
(Erdoǧan), and a Latin word with Cyrillic look-alike letters in it (Zеlensky with a Cyrillic е) is written in
Latin letters. A name's possessive is written with ' (Zelensky's, Zelensky’s and Zelenskyʼs read as one).
Nothing inside a URL, an e-mail address or an @handle is rewritten (``kiev.ua/Kiev/news`` stays).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from transforms.records import Entity

ALIAS_FILES: tuple[str, ...] = ("aliases.csv",)
IGNORE = "ignore"
KINDS = frozenset({"person", "country", "place", "organization", IGNORE})

# The matcher reads the text with these folded one character for one (offsets stay valid): apostrophe variants
# become ', odd spaces a plain space, so a table row written with one form matches every form.
_MATCH_VIEW = (("’", "'"), ("ʼ", "'"), ("\u00a0", " "), ("\u2007", " "), ("\u2009", " "), ("\u200a", " "),
               ("\u202f", " "))
# Letters that look alike and stand for one another in scraped text, folded in ``body_normalized`` (one
# character for one). ǧ (g with caron) is a frequent stand-in for Turkish ğ (g with breve).
_LOOKALIKE_LETTERS = (("ǧ", "ğ"), ("Ǧ", "Ğ"))
# Cyrillic letters drawn like Latin ones, as they turn up inside Latin words (a keyboard switched mid-word,
# or a spam filter dodged). Only a word that also holds Latin letters and no other Cyrillic is rewritten.
_CYRILLIC_LOOKALIKES = dict(zip("АВЕКМНОРСТХаеорсухіјѕ", "ABEKMHOPCTXaeopcyxijs"))
# A Latin letter next to a Cyrillic one: only a text that has one is searched word by word (and only a text with
# Cyrillic in it is searched for one: a search for one character class is several times cheaper).
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_SCRIPT_SEAM = re.compile("[A-Za-z][\u0400-\u04ff]|[\u0400-\u04ff][A-Za-z]")
_WORD = re.compile(r"[^\W\d_]+")
# A whitespace-delimited token holding a name is an address, where names are never rewritten, when it has a
# scheme or "www.", an @ (e-mail address, handle), or starts with a host name (a lowercase top-level domain
# after a dot, then a path or the end): kiev.ua/Kiev/news, Kiev.ua; not "Kiev." or "U.S.".
_ADDRESS_MARKS = ("://", "@", "www.")
_BARE_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[a-z]{2,24}(?:/|\W*$)")
_TOKEN_OPENERS = "([{<\"'‘“«"
_SPACE = re.compile(r"\s")
_ADDRESS_REACH = 256  # characters looked at either side of a name for the token around it
# An abbreviation that loses its dot (U.S. -> US) keeps it where it also ends the sentence: before a line
# break, at the end, or before a word that starts sentences and is rarely capitalised inside one.
_SENTENCE_STARTERS = frozenset(
    "A After An And As At Before But By During For From He Her His However I If In It Its Meanwhile No Not On "
    "One She Since So Some That The Their There These They This Those Under We What When While With Yet".split()
)
_NEXT_WORD = re.compile(r"[ \t]+([^\W\d_]+)")
_CAPS_WORD = re.compile(r"[^\W\d_]{2,}")
# How far either side of an all-caps name to look when deciding whether its line is shouted.
_SHOUT_WINDOW = 60


@dataclass(frozen=True)
class _Name:
    """What one table spelling means: its entity, and how ``body_normalized`` writes it."""

    entity: str
    kind: str
    replacement: str
    shoutable: bool  # all capitals (US): in a shouted line ("JOIN US ON TELEGRAM") it is just a word
    final_dot: bool  # ends in a dot the replacement drops (U.S. -> US), kept where the sentence ends too


@dataclass(frozen=True)
class _Row:
    alias: str
    canonical: str
    kind: str
    at: str  # "aliases.csv:12", for error messages


@dataclass(frozen=True)
class AliasTable:
    """Spellings -> entities, compiled into one Aho-Corasick automaton. Build with :meth:`from_tables`."""

    rows: tuple[tuple[str, str, str], ...] = ()  # (alias, canonical, kind) as given, NFC
    names: Mapping[str, _Name] = field(default_factory=dict, compare=False, repr=False)
    automaton: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_tables(cls, tables: Mapping[str, list[dict[str, str]]]) -> "AliasTable":
        """Build from the seed tables named in ``ALIAS_FILES`` (file name -> rows, in file order).

        >>> AliasTable.from_tables({"aliases.csv": [{"alias": "Kiev", "canonical": "Kyiv", "kind": "place"}]}).rows
        (('Kiev', 'Kyiv', 'place'),)
        """
        rows = [_row(raw, f"{name}:{line}") for name in ALIAS_FILES
                for line, raw in enumerate(tables.get(name, ()), start=2)]
        return cls._build(rows)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, str]], *, source: str = "aliases.csv") -> "AliasTable":
        """Build from rows with ``alias, canonical, kind`` (a test can pass three rows inline).

        >>> table = AliasTable.from_rows([{"alias": "Türkiye", "canonical": "Turkey", "kind": "country"}])
        >>> table.entity_of("Türkiye"), table.entity_of("Turkey"), table.entity_of("Turkish")
        (('Turkey', 'country'), ('Turkey', 'country'), None)
        """
        return cls._build([_row(raw, f"{source}:{line}") for line, raw in enumerate(rows, start=2)])

    @classmethod
    def _build(cls, rows: list[_Row]) -> "AliasTable":
        names = _compile(rows)
        if not names:
            return cls(rows=(), names={}, automaton=None)
        automaton = ahocorasick.Automaton()
        for key, name in names.items():
            automaton.add_word(key, (len(key), key, name))
        automaton.make_automaton()
        return cls(rows=tuple((r.alias, r.canonical, r.kind) for r in rows), names=names, automaton=automaton)

    def __reduce__(self):
        # Pickle (Prefect hashes task inputs, Dask ships them) as the rows; the automaton is rebuilt.
        return (_table_from_plain_rows, (self.rows,))

    def entity_of(self, name: str) -> tuple[str, str] | None:
        """(entity, kind) of a spelling the table knows, else None.

        >>> AliasTable.from_rows([{"alias": "Nato", "canonical": "NATO", "kind": "organization"}]).entity_of("NATO")
        ('NATO', 'organization')
        """
        found = self.names.get(_key(name))
        return (found.entity, found.kind) if found else None

    def spellings(self) -> tuple[tuple[str, str, str], ...]:
        """Every spelling the matcher knows, as (spelling, entity, kind), canonical forms included."""
        return tuple((key, name.entity, name.kind) for key, name in sorted(self.names.items()))

    def variants(self) -> tuple[str, ...]:
        """Spellings that ``body_normalized`` never keeps (for the data check), canonical forms excluded.

        A variant that a kept phrase contains ("Kiev" in an ignored "chicken Kiev") is left out.

        >>> AliasTable.from_rows([{"alias": "U.K.", "canonical": "UK", "kind": "country"},
        ...                       {"alias": "Nato", "canonical": "NATO", "kind": "organization"}]).variants()
        ('Nato', 'U.K.')
        """
        kept = {name.replacement for name in self.names.values()}
        return tuple(sorted(
            key for key, name in self.names.items()
            if name.replacement != key and not any(_has_span(phrase, key) for phrase in kept)
        ))


def _table_from_plain_rows(rows: tuple[tuple[str, str, str], ...]) -> AliasTable:
    return AliasTable.from_rows([{"alias": a, "canonical": c, "kind": k} for a, c, k in rows])


@dataclass(frozen=True)
class NormalizedText:
    """``text`` with canonical names, the entities it mentions and the spellings that were rewritten."""

    text: str
    entities: tuple[Entity, ...]
    rewrites: tuple[tuple[str, str, int], ...]  # (variant, canonical, count)


def normalize_names(text: str, *, aliases: AliasTable) -> NormalizedText:
    """Rewrite every known spelling to its canonical form and count mentions per entity.

    >>> table = AliasTable.from_rows([{"alias": "Erdoğan", "canonical": "Erdogan", "kind": "person"},
    ...                               {"alias": "U.S.", "canonical": "US", "kind": "country"}])
    >>> out = normalize_names("Recep Tayyip Erdog\\u0306an met Erdogan’s U.S. envoy, then left the U.S.", aliases=table)
    >>> out.text
    "Recep Tayyip Erdogan met Erdogan's US envoy, then left the US."
    >>> out.entities
    (Entity(name='Erdogan', kind='person', mentions=2), Entity(name='US', kind='country', mentions=2))
    >>> out.rewrites
    (('Erdoğan', 'Erdogan', 1), ('U.S.', 'US', 2))
    """
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = fold_lookalikes(text)
    if aliases.automaton is None:
        return NormalizedText(text, (), ())
    view = _match_view(text)
    mentions: Counter[tuple[str, str]] = Counter()
    rewrites: Counter[tuple[str, str]] = Counter()
    pieces: list[str] = []
    last = 0
    for start, stop, name in _find_names(view, aliases):
        original = text[start:stop]
        written = original if name.kind == IGNORE else name.replacement
        if name.final_dot and _ends_sentence(view, start, stop):
            written += "."
        pieces += (text[last:start], written)
        last = stop
        if name.kind != IGNORE and _curly_possessive(text, view, stop):
            pieces.append("'")  # Zelensky’s and Zelenskyʼs are written Zelensky's
            last = stop + 1
        if name.kind != IGNORE:
            mentions[(name.entity, name.kind)] += 1
        if original != written:
            rewrites[(original, name.replacement)] += 1
    pieces.append(text[last:])
    entities = tuple(
        Entity(name=entity, kind=kind, mentions=count)
        for (entity, kind), count in sorted(mentions.items(), key=lambda item: (-item[1], item[0]))
    )
    return NormalizedText("".join(pieces), entities, tuple((v, c, n) for (v, c), n in sorted(rewrites.items())))


def _curly_possessive(text: str, view: str, stop: int) -> bool:
    """Whether the name ending at ``stop`` is followed by a possessive written with ’ or ʼ ("Kyiv’s")."""
    return (text[stop:stop + 1] in ("’", "ʼ") and view[stop + 1:stop + 2] == "s"
            and (stop + 2 == len(view) or not _is_word(view[stop + 2])))


def fold_lookalikes(text: str) -> str:
    """``text`` with look-alike spellings made one, character for character (offsets stay valid).

    >>> fold_lookalikes("Erdoǧan’s ‘quoted’ words")
    'Erdoğan’s ‘quoted’ words'
    >>> fold_lookalikes("Zеlensky in Київ")  # a Cyrillic е inside a Latin word; a Cyrillic word stays
    'Zelensky in Київ'
    """
    for char, replacement in _LOOKALIKE_LETTERS:
        if char in text:
            text = text.replace(char, replacement)
    if _CYRILLIC.search(text) and _SCRIPT_SEAM.search(text):
        text = _WORD.sub(_latin_if_mixed, text)
    return text


def _latin_if_mixed(match: re.Match) -> str:
    word = match.group()
    if not _SCRIPT_SEAM.search(word):
        return word
    if not all(char in _CYRILLIC_LOOKALIKES for char in word if "\u0400" <= char <= "\u04ff"):
        return word  # a Cyrillic letter no Latin one looks like: not a look-alike, leave the word alone
    return "".join(_CYRILLIC_LOOKALIKES.get(char, char) for char in word)


def in_address(view: str, start: int, stop: int) -> bool:
    """Whether ``view[start:stop]`` lies in a URL, an e-mail address or an @handle (its whitespace-delimited token).

    >>> text = "See kiev.ua/Kiev/news, https://x.example/Kiev, Kiev@mail.example or @Kiev; Kiev. Kyiv/Kiev"
    >>> [in_address(text, m.start(), m.end()) for m in re.finditer("Kiev", text)]
    [True, True, True, True, False, False]
    """
    low = max(0, start - _ADDRESS_REACH)  # a bounded look back: tokens are short, documents long
    left = max(view.rfind(" ", low, start), view.rfind("\n", low, start), view.rfind("\t", low, start), low - 1) + 1
    after = _SPACE.search(view, stop, stop + _ADDRESS_REACH)
    token = view[left:after.start() if after else stop + _ADDRESS_REACH]
    if any(mark in token for mark in _ADDRESS_MARKS):
        return True
    return _BARE_HOST.match(token.lstrip(_TOKEN_OPENERS)) is not None


def _find_names(view: str, aliases: AliasTable) -> list[tuple[int, int, _Name]]:
    """Leftmost-longest table spellings in ``view`` that stand on word boundaries, outside URLs, e-mail
    addresses and handles."""
    found = []
    for end, (length, key, name) in aliases.automaton.iter(view):
        start, stop = end - length + 1, end + 1
        if (_on_boundaries(view, start, stop) and not (name.shoutable and _shouted(view, start, stop, aliases))
                and not in_address(view, start, stop)):
            found.append((start, -stop, key, name))
    found.sort(key=lambda hit: (hit[0], hit[1]))
    chosen, position = [], 0
    for start, negative_stop, _key_, name in found:
        if start >= position:
            chosen.append((start, -negative_stop, name))
            position = -negative_stop
    return chosen


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _on_boundaries(view: str, start: int, stop: int) -> bool:
    """A name is a whole word: "Kyivstar" and "Turkish" hold no name, "Turkey's" and "Turkey'" do."""
    if start and _is_word(view[start - 1]):
        return False
    if stop == len(view):
        return True
    after = view[stop]
    if after != "'":
        return not _is_word(after)
    following = view[stop + 1:stop + 2]
    if following == "s":
        return stop + 2 == len(view) or not _is_word(view[stop + 2])
    return not following or not _is_word(following)


def _shouted(view: str, start: int, stop: int, aliases: AliasTable) -> bool:
    """True when the line around an all-caps name is in capitals and has other words in it: "JOIN US ON"."""
    low = max(view.rfind("\n", 0, start) + 1, start - _SHOUT_WINDOW)
    high = view.find("\n", stop)
    high = min(len(view) if high < 0 else high, stop + _SHOUT_WINDOW)
    around = view[low:start] + " " + view[stop:high]
    if around.upper() != around:
        return False
    return any(word not in aliases.names for word in _CAPS_WORD.findall(around))


def _ends_sentence(view: str, start: int, stop: int) -> bool:
    """True when a name's final dot also ends a sentence: "left the U.S." but not "U.S. President" or a menu item."""
    if stop >= len(view) or view[stop] in "\r\n":
        return bool(view[view.rfind("\n", 0, start) + 1:start].strip())
    following = _NEXT_WORD.match(view, stop)
    return bool(following and following.group(1) in _SENTENCE_STARTERS)


def _match_view(text: str) -> str:
    # str.replace per character is several times faster than str.translate with a table here.
    for char, replacement in _MATCH_VIEW:
        if char in text:
            text = text.replace(char, replacement)
    return text


def _key(name: str) -> str:
    """A spelling as the matcher sees it: NFC, apostrophes and spaces folded."""
    return _match_view(fold_lookalikes(unicodedata.normalize("NFC", name.strip())))


def _row(raw: Mapping[str, str], at: str) -> _Row:
    alias = _key(raw.get("alias") or "")
    canonical = _key(raw.get("canonical") or "")
    kind = (raw.get("kind") or "").strip().lower()
    if not alias or not canonical:
        raise ValueError(f"{at}: `alias` and `canonical` must both be filled in")
    if kind not in KINDS:
        raise ValueError(f"{at}: kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
    return _Row(alias, canonical, kind, at)


def _compile(rows: list[_Row]) -> dict[str, _Name]:
    """Resolve links to entities, check the table, and work out how each spelling is written."""
    row_of: dict[str, _Row] = {}
    for row in rows:
        if row.alias in row_of:
            raise ValueError(f"{row.at}: alias {row.alias!r} is already on {row_of[row.alias].at} "
                             "(after Unicode NFC and apostrophe folding); keep one row")
        row_of[row.alias] = row
    link = {alias: row.canonical for alias, row in row_of.items() if row.canonical != alias}

    chains: dict[str, list[str]] = {}  # spelling -> the names its links pass through, entity last
    for start in [*row_of, *dict.fromkeys(target for target in link.values() if target not in row_of)]:
        chain = [start]
        while chain[-1] in link:
            nxt = link[chain[-1]]
            if nxt in chain:
                cycle = chain[chain.index(nxt):]
                where = ", ".join(sorted((row_of[name].at for name in cycle), key=_line_order))
                raise ValueError(f"{where}: the rows link in a circle ({' -> '.join([*cycle, nxt])}); one of "
                                 "these names must be the canonical, so give it no row or a row to itself")
            chain.append(nxt)
        chains[start] = chain

    kinds: dict[str, dict[str, _Row]] = defaultdict(dict)
    for spelling, chain in chains.items():
        if spelling in row_of:
            kinds[chain[-1]].setdefault(row_of[spelling].kind, row_of[spelling])
    for entity, by_kind in kinds.items():
        if len(by_kind) > 1:
            where = ", ".join(f"{kind} on {row.at}" for kind, row in sorted(by_kind.items()))
            raise ValueError(f"entity {entity!r} has more than one kind ({where}); give its rows one kind")

    names: dict[str, _Name] = {}
    written: dict[str, str] = {}
    for spelling, chain in chains.items():
        entity = chain[-1]
        kind = next(iter(kinds[entity]))
        replacement = _written_as(spelling, link, written)
        names[spelling] = _Name(entity, kind, replacement, shoutable=spelling.isalpha() and spelling.isupper(),
                                final_dot=spelling.endswith(".") and not replacement.endswith("."))
    # What a rewrite writes must read back as itself, so normalizing twice changes nothing.
    for spelling, name in list(names.items()):
        again = names.get(name.replacement)
        if again is None:
            names[name.replacement] = _Name(name.entity, name.kind, name.replacement,
                                            shoutable=False, final_dot=False)
        elif again.entity != name.entity or again.replacement != name.replacement:
            at = row_of[spelling].at if spelling in row_of else "the table"
            raise ValueError(f"{at}: {spelling!r} is written {name.replacement!r}, which the table writes "
                             f"{again.replacement!r} ({again.entity}); make the two rows agree")
    return names


def _line_order(at: str) -> tuple[str, int]:
    source, _, line = at.rpartition(":")
    return source, int(line) if line.isdigit() else 0


def _written_as(spelling: str, link: Mapping[str, str], cache: dict[str, str]) -> str:
    """How ``body_normalized`` writes ``spelling``, following its links to the entity.

    A row whose canonical is a run of words inside its alias (``Sergey Lavrov,Lavrov``) marks a longer form:
    the other words stay and only that run is rewritten. Any other row is rewritten whole.

    >>> link = {"Sergei Lavrov": "Sergey Lavrov", "Sergey Lavrov": "Lavrov", "Great Britain": "UK", "Britain": "UK"}
    >>> _written_as("Sergei Lavrov", link, {}), _written_as("Great Britain", link, {})
    ('Sergey Lavrov', 'UK')
    """
    if spelling in cache:
        return cache[spelling]
    target = link.get(spelling)
    if target is None:
        written = spelling
    else:
        inner = _run_of(spelling, target)
        written = _written_as(target, link, cache)
        if inner is not None:
            words = spelling.split(" ")
            start, length = inner
            written = " ".join([*words[:start], written, *words[start + length:]])
    cache[spelling] = written
    return written


def _run_of(name: str, part: str) -> tuple[int, int] | None:
    """(first word, word count) of the rightmost run of words in ``name`` that spells ``part``, if shorter."""
    words, part_words = name.split(" "), part.split(" ")
    length = len(part_words)
    if length >= len(words):
        return None
    for start in range(len(words) - length, -1, -1):
        if words[start:start + length] == part_words:
            return start, length
    return None


def _has_span(phrase: str, name: str) -> bool:
    return phrase != name and f" {name} " in f" {phrase} "
