"""The suite's plain Python checks: list columns (authors, captions, labels, entities, repairs) and lexicon
patterns over whole texts (chrome residue, alias variants), which GX column expectations cannot express.

Each check gives the labels of the rows that fail it and of those it raised on (see :func:`_rows_where`);
the regex builders make one pattern of a whole lexicon so a body is scanned once, not once per entry.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import pandas as pd

from expectations.rules import WARNING, Rule, SuiteInputs

MAX_AUTHOR_CHARS = 100  # one byline name; longer is a sentence caught as an author
MAX_CAPTION_CHARS = 1_000  # a caption is a sentence or two, not a paragraph of the article
MAX_LABEL_CHARS = 200  # one category or tag
# Chrome residue is looked for in lines up to this long (about 20 words): chrome is labels, buttons, bylines
# and one-line notices, while paragraphs are longer. Each line is tried against every residue pattern, so
# scanning only these (a small share of a body) keeps 100,000 rows in seconds; longer lines go unchecked.
MAX_RESIDUE_LINE_CHARS = 120
# A byline is a person, not a clock: "5 minutes ago", "12:30", "Updated 2024".
AUTHOR_NOT_A_TIME = r"(?i)(?:\d|\bago\b|\bupdated\b|\bminutes?\b|\bhours?\b)"
AUTHOR_NOT_STAFF = r"(?i)(?:^|; )(?:staff|editor|editors|admin|newsroom|news desk|reporter)(?:$|; )"
# Replacement characters mean bytes were lost in decoding: the text is readable but not verbatim.
LOSSY_REPAIR = r"replaced_undecodable"
# The list columns of the articles table the Python checks read.
LIST_COLUMNS = ("authors", "captions", "categories", "tags", "entities", "repairs")

# Why some checks are Python, not GX (shown in the run report next to each rule).
_LIST_COLUMN = "a list column: GX column expectations test one scalar value per row"
_LEXICON = "one pattern per lexicon entry over the whole text: as a GX regex it is pages long and 10x slower"


def _python(name: str, severity: str, fields: tuple[str, ...], because: str, failing) -> Rule:
    return Rule(name, severity, None, fields, check=failing, python_because=because)


def list_column_rules() -> list[Rule]:
    """The checks of the list columns: bylines that are times, staff or the site's name; over-long authors,
    captions and labels; malformed entities; text that lost bytes in decoding."""
    not_a_time, not_staff = re.compile(AUTHOR_NOT_A_TIME), re.compile(AUTHOR_NOT_STAFF)
    is_site_name = _SiteNameCheck()
    return [
        _python("authors_not_times", WARNING, ("authors",), _LIST_COLUMN, _rows_where(
            lambda authors: bool(authors) and bool(not_a_time.search("; ".join(authors))), "authors")),
        _python("authors_not_staff", WARNING, ("authors",), _LIST_COLUMN, _rows_where(
            lambda authors: bool(authors) and bool(not_staff.search("; ".join(authors))), "authors")),
        _python("authors_not_site_name", WARNING, ("authors",), _LIST_COLUMN + ", compared with site and site_name",
                _rows_where(is_site_name, "authors", "site", "site_name")),
        _python("author_length", WARNING, ("authors",), _LIST_COLUMN, _rows_where(
            lambda authors: _longest_outside(authors, 2, MAX_AUTHOR_CHARS), "authors")),
        _python("captions_length", WARNING, ("captions",), _LIST_COLUMN, _rows_where(
            lambda captions: _longest_outside(captions, 1, MAX_CAPTION_CHARS), "captions")),
        _python("labels_length", WARNING, ("categories", "tags"), _LIST_COLUMN, _rows_where(
            lambda categories, tags: _longest_outside([*(categories or ()), *(tags or ())], 1, MAX_LABEL_CHARS),
            "categories", "tags")),
        _python("entities_well_formed", WARNING, ("entities",), _LIST_COLUMN, _rows_where(
            lambda entities: not _entities_ok(entities or ()), "entities")),
        _python("text_fully_decoded", WARNING, ("repairs",), _LIST_COLUMN, _rows_where(
            lambda repairs: any(LOSSY_REPAIR in repair for repair in repairs or ()), "repairs")),
    ]


def lexicon_rules(inputs: SuiteInputs) -> list[Rule]:
    """The checks of whole texts against the seeds' lexicons: chrome residue left in ``body``, alias variants
    left in ``body_normalized`` (none when the seeds give no patterns: see ``not_checked``)."""
    rules = []
    if inputs.chrome_residue:
        # One alternation over the short lines only: a single pass over each candidate line instead of one
        # per pattern (and none over paragraphs) keeps 100,000 rows inside the benchmark's budget.
        residue = re.compile(residue_regex(inputs.chrome_residue))
        # Blank lines are most of the short lines and each costs the residue regex a try at every pattern;
        # they are left out unless a pattern could match one (then dropping them would hide residue).
        keep_blank = _matches_blank(residue.pattern)
        rules.append(_python("no_chrome_residue", WARNING, ("body", "chrome"), _LEXICON, _rows_where(
            lambda body: bool(residue.search(_short_lines(body, keep_blank=keep_blank))), "body")))
    if inputs.alias_variants:
        finder = AliasCandidates(inputs.alias_variants)
        variant = re.compile(alias_variant_regex(inputs.alias_variants))

        def unnormalized(text):
            # Aho-Corasick finds the literal occurrences; the word-boundary regex runs on those snippets only.
            snippets = finder.find(text)
            return bool(snippets and variant.search(snippets))

        rules.append(_python("names_normalized", WARNING, ("body_normalized", "entities"), _LEXICON,
                             _rows_where(unnormalized, "body_normalized")))
    return rules


def _rows_where(failing: Callable[..., bool], *columns: str) -> Callable[[pd.DataFrame], tuple[list, list]]:
    """A Python check: the labels of the rows for which ``failing(*values of columns)`` is true, and of those
    for which it raised (a value of a type the check does not expect: that row, not the commit, fails).

    >>> check = _rows_where(lambda authors: len(authors) > 1, "authors")
    >>> check(pd.DataFrame({"authors": [["A"], ["A", "B"], None]}))
    ([1], [2])
    """
    def check(frame: pd.DataFrame) -> tuple[list, list]:
        found, broken = [], []
        for label, *values in zip(frame.index, *(frame[c] for c in columns)):
            try:
                if failing(*values):
                    found.append(label)
            except Exception:  # noqa: BLE001 - reported per row as suite_error:<rule>
                broken.append(label)
        return found, broken
    return check


def _longest_outside(values: Sequence[str] | None, low: int, high: int) -> bool:
    """Whether the longest of ``values`` is shorter than ``low`` or longer than ``high`` (no values: fine).

    >>> _longest_outside(["Jane Doe"], 2, 100), _longest_outside(["x" * 150], 2, 100), _longest_outside([], 2, 100)
    (False, True, False)
    """
    if not values:
        return False
    longest = max(len(value or "") for value in values)
    return not low <= longest <= high


def residue_regex(patterns: Iterable[str]) -> str:
    r"""One regex matching where any of ``patterns`` matches.

    Line-anchored patterns (``(?m)^...``) share one ``^`` so the engine tries them only at line
    starts, not at every character: with ~90 seed patterns that is the difference between
    seconds and minutes on 100,000 bodies.

    >>> residue_regex([r"(?im)^advertisement$", r"(?i)\d+ min read"])
    '(?m:^)(?:(?im:advertisement$))|(?:(?i:\\d+ min read))'
    >>> bool(re.search(_, "Text\nAdvertisement\nMore")), bool(re.search(_, "Ad advertisement"))
    (True, False)
    """
    anchored, anywhere = [], []
    for pattern in dict.fromkeys(patterns):
        flags, rest = _split_flags(pattern)
        if rest.startswith("^") and "m" in flags:
            anchored.append(f"(?{flags}:{rest[1:]})")
        else:
            anywhere.append(f"(?{flags}:{rest})" if flags else f"(?:{rest})")
    parts = [f"(?m:^)(?:{'|'.join(anchored)})"] if anchored else []
    if anywhere:
        parts.append(f"(?:{'|'.join(anywhere)})")
    return "|".join(parts)


def _matches_blank(regex: str) -> bool:
    r"""Whether ``regex`` matches an empty or whitespace-only line.

    >>> _matches_blank(r"(?im)^[ \t]*advertisement[ \t]*$"), _matches_blank(r"(?m)^[ \t]*$")
    (False, True)
    """
    compiled = re.compile(regex)
    return any(compiled.search(blank) for blank in ("", " ", "\t", "\u00a0", "\r", "\n", " \n "))


def _split_flags(pattern: str) -> tuple[str, str]:
    """A leading global ``(?im)`` split off, so it can be scoped to its own alternative."""
    match = re.match(r"^\(\?([imsx]+)\)", pattern)
    return (match.group(1), pattern[match.end():]) if match else ("", pattern)


def alias_variant_regex(variants: Iterable[str]) -> str:
    """One regex matching any of ``variants`` as a whole word.

    Each alternative starts with its literal first character and checks the character before
    it afterwards, so the regex engine can skip every position whose character starts no
    variant (a leading look-behind would make it try all of them at every character).

    >>> bool(re.search(alias_variant_regex(["Türkiye", "U.K."]), "the U.K. and Türkiye"))
    True
    >>> bool(re.search(alias_variant_regex(["Nato"]), "Natoli")), bool(re.search(alias_variant_regex(["Nato"]), "ANato"))
    (False, False)
    """
    def alternative(variant: str) -> str:
        first, rest = re.escape(variant[0]), re.escape(variant[1:])
        return f"{first}(?<!\\w{first}){rest}" if re.match(r"\w", variant[0]) else f"{first}{rest}"

    ordered = sorted(set(v for v in variants if v), key=len, reverse=True)
    return "(?:" + "|".join(alternative(v) for v in ordered) + ")(?!\\w)"


def literal_trie_regex(words: Iterable[str]) -> str:
    r"""A regex matching where any of ``words`` occurs literally, as a prefix tree of alternatives.

    A word that is the prefix of another ends its branch (for "does any occur" the shorter one
    suffices), and each position tries one alternative per distinct next character, not per word.

    >>> literal_trie_regex(["Kiev", "Kyiv", "Kievan Rus", "U.K."])
    'K(?:iev|yiv)|U\\.K\\.'
    >>> bool(re.search(_, "in Kyivska")), bool(re.search(_, "UK"))
    (True, False)
    """
    trie: dict = {}
    for word in set(w for w in words if w):
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict) -> str:
        if "" in node:
            return ""
        alternatives = [re.escape(char) + branch(child) for char, child in sorted(node.items())]
        return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"

    top = [re.escape(char) + branch(child) for char, child in sorted(trie.items())]
    return "|".join(top) if top else "(?!)"


class AliasCandidates:
    r"""Snippets of a text around every literal occurrence of an alias variant, one character either side.

    The word-boundary regex needs only those characters, so running it on the snippets gives the same
    verdict as running it on the whole text, at Aho-Corasick speed instead of a regex pass over the corpus.

    >>> AliasCandidates(["Türkiye", "U.K."]).find("In Türkiye and the U.K., Türkiyes")
    ' Türkiye \n U.K.,\n Türkiyes'
    >>> AliasCandidates(["Nato"]).find("nothing here") is None
    True
    >>> AliasCandidates(["Dynamo Kiev", "Kiev"]).find("XDynamo Kiev")  # overlapping variants: both kept
    'XDynamo Kiev\n Kiev'
    """

    def __init__(self, variants: Iterable[str]):
        import ahocorasick

        self._automaton = ahocorasick.Automaton()
        for variant in set(v for v in variants if v):
            self._automaton.add_word(variant, len(variant))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()
            # Most texts hold no variant at all; a regex over the variants' prefix tree says so about
            # three times faster than walking the automaton over every character.
            self._any = re.compile(literal_trie_regex(variants))

    def find(self, text: str | None) -> str | None:
        if self._empty or not text or not self._any.search(text):
            return None
        snippets = [text[max(0, end - length):end + 2] for end, length in self._automaton.iter(text)]
        return "\n".join(snippets) if snippets else None


def _short_lines(body: str | None, *, keep_blank: bool = False) -> str:
    r"""The lines of ``body`` short enough to be chrome, blank ones left out unless ``keep_blank``.

    >>> _short_lines("A heading\n\n" + "x" * 200 + "\nAdvertisement")
    'A heading\nAdvertisement'
    """
    if not body:
        return ""
    if keep_blank:
        return "\n".join([line for line in body.splitlines() if len(line) <= MAX_RESIDUE_LINE_CHARS])
    return "\n".join([line for line in body.splitlines()
                      if len(line) <= MAX_RESIDUE_LINE_CHARS and line and not line.isspace()])


def _entities_ok(entities: Sequence[dict]) -> bool:
    return all(e.get("name") and e.get("kind") and (e.get("mentions") or 0) >= 1 for e in entities)


class _SiteNameCheck:
    """Whether an author is the site's own name; names and squashed spellings cached (a batch repeats them).

    >>> check = _SiteNameCheck()
    >>> check(["River News"], "river-news.example", "River News"), check(["Jane Doe"], "river-news.example", None)
    (True, False)
    """

    def __init__(self):
        self._names: dict[tuple, frozenset] = {}
        self._squashed: dict[str, str] = {}

    def __call__(self, authors: Sequence[str] | None, site: str | None, site_name: str | None) -> bool:
        if not authors:
            return False
        names = self._names.get((site, site_name))
        if names is None:
            names = self._names[(site, site_name)] = frozenset(
                self._squash(n) for n in (site_name, (site or "").split(".")[0], site) if n) - {""}
        return any(self._squash(a) in names for a in authors if a)

    def _squash(self, text: str) -> str:
        squashed = self._squashed.get(text)
        if squashed is None:
            squashed = self._squashed[text] = _squash(text)
        return squashed


_NOT_WORD = re.compile(r"[\W_]+")


def _squash(text: str) -> str:
    return _NOT_WORD.sub("", text.lower())
