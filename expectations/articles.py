"""The expectation suite for the ``articles`` table, thresholds as named constants.

Every expectation carries ``meta.severity``: ``critical`` failures send the row to quarantine,
``warning`` failures keep the row and are counted in the report. The flow, not the suite,
acts on the severities. Every column of the articles table is covered by at least one rule
(``Rule.fields`` says which; a test holds the suite to the schema).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

SUITE_NAME = "articles"
CRITICAL = "critical"
WARNING = "warning"

# --- thresholds ---------------------------------------------------------------------------
# Below this the "article" is a fragment (a label, a caption): nothing analytics can use.
MIN_BODY_CHARS = 20
# Shorter bodies are kept but counted: briefs exist, but many are extraction misses.
SHORT_BODY_CHARS = 200
# No news article is this long; a body above it is a runaway page or a concatenation.
MAX_BODY_CHARS = 500_000
MIN_TITLE_CHARS = 3
MAX_TITLE_CHARS = 400
MAX_AUTHOR_CHARS = 100  # one byline name; longer is a sentence caught as an author
MAX_SITE_NAME_CHARS = 200
MAX_CAPTION_CHARS = 1_000  # a caption is a sentence or two, not a paragraph of the article
MAX_LABEL_CHARS = 200  # one category or tag
EARLIEST_PUBLISHED = dt.date(1990, 1, 1)
# Chrome residue is looked for in lines up to this long (about 20 words): chrome is labels, buttons, bylines
# and one-line notices, while paragraphs are longer. Each line is tried against every residue pattern, so
# scanning only these (a small share of a body) keeps 100,000 rows in seconds; longer lines go unchecked.
MAX_RESIDUE_LINE_CHARS = 120
MAX_REMOVED_SHARE = 0.95  # a document that lost more than this share of its lines is suspicious
INPUT_FORMATS = ("text", "html")
# Fields the flow fills after validation (story clustering runs on validated rows): the suite never
# sees their values, so they are reported as not checked rather than counted as covered.
ASSIGNED_AFTER_VALIDATION = ("story_id", "near_duplicate_of")
DOC_ID = r"^[0-9a-f]{32}$"
SITE = r"^[^\s/]+$"  # a host name or a folder name: one token, no path
URL = r"^https?://[^\s/]+\S*$"
# ISO 639-1 (184 codes, "bh" included as the standard still lists it); a detector's ISO 639-3
# code such as "arz" or "zxx" is not one of them.
ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik
io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml
mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd
se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi
vo wa wo xh yi yo za zh zu
""".split())
# Exactly one code: \Z, not $, which would also accept a trailing newline.
ISO_639_1_REGEX = "^(?:" + "|".join(sorted(ISO_639_1)) + r")\Z"
# A byline is a person, not a clock: "5 minutes ago", "12:30", "Updated 2024".
AUTHOR_NOT_A_TIME = r"(?i)(?:\d|\bago\b|\bupdated\b|\bminutes?\b|\bhours?\b)"
AUTHOR_NOT_STAFF = r"(?i)(?:^|; )(?:staff|editor|editors|admin|newsroom|news desk|reporter)(?:$|; )"
# Replacement characters mean bytes were lost in decoding: the text is readable but not verbatim.
LOSSY_REPAIR = r"replaced_undecodable"
# Result format: row labels of every failure, but only a few sample values (bodies are long).
RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 5}


@dataclass(frozen=True)
class Rule:
    """One check with the name shown in quarantine reasons, its severity and the table fields it checks.

    A rule is either a GX expectation on one of the articles table's own columns (``expectation``), saved
    in the suite and shown in Data Docs, or a plain Python check (``check``: the row labels that fail) with
    ``python_because`` saying why GX cannot express it on the table's columns.
    """

    name: str
    severity: str
    expectation: object | None
    fields: tuple[str, ...] = ()
    check: Callable[[pd.DataFrame], tuple[list, list]] | None = None  # labels failing, labels it raised on
    python_because: str = ""

    @property
    def checked_by(self) -> str:
        return "Great Expectations" if self.expectation is not None else f"Python: {self.python_because}"


@dataclass(frozen=True)
class SuiteInputs:
    """Reference data the suite needs, derived from seeds/ by the flow."""

    chrome_residue: Sequence[str] = ()  # regexes that must not match anywhere in `body`
    alias_variants: Sequence[str] = ()  # non-canonical spellings that must not remain in `body_normalized`


# Why some checks are Python, not GX (shown in the run report next to each rule).
_LIST_COLUMN = "a list column: GX column expectations test one scalar value per row"
_LEXICON = "one pattern per lexicon entry over the whole text: as a GX regex it is pages long and 10x slower"

# The articles table's scalar columns the GX suite reads (the list columns go to the Python checks).
GX_COLUMNS = ("doc_id", "source_uri", "input_format", "site", "site_name", "url", "title", "language", "body",
              "body_normalized", "published", "published_at", "removed_share", "ingested_at", "pipeline_version",
              "stripper", "run_id")


def build_rules(inputs: SuiteInputs, *, today: dt.date | None = None) -> list[Rule]:
    """All checks of the articles suite, each with a name, a severity and the fields it covers."""
    import great_expectations.expectations as gxe

    earliest = dt.datetime.combine(EARLIEST_PUBLISHED, dt.time())
    tomorrow = dt.datetime.combine((today or dt.date.today()) + dt.timedelta(days=1), dt.time())

    def rule(name, severity, expectation, *fields):
        return Rule(name, severity, expectation, fields or (expectation.column,))

    def python(name, severity, fields, because, failing):
        return Rule(name, severity, None, fields, check=failing, python_because=because)

    rules = [
        rule("doc_id_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="doc_id")),
        rule("doc_id_unique", CRITICAL, gxe.ExpectColumnValuesToBeUnique(column="doc_id")),
        rule("doc_id_format", CRITICAL, gxe.ExpectColumnValuesToMatchRegex(column="doc_id", regex=DOC_ID)),
        rule("source_uri_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="source_uri")),
        rule("input_format_known", CRITICAL, gxe.ExpectColumnValuesToBeInSet(
            column="input_format", value_set=list(INPUT_FORMATS))),
        rule("body_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="body")),
        rule("body_length", CRITICAL, gxe.ExpectColumnValueLengthsToBeBetween(
            column="body", min_value=MIN_BODY_CHARS, max_value=MAX_BODY_CHARS), "body", "word_count"),
        rule("body_not_short", WARNING, gxe.ExpectColumnValueLengthsToBeBetween(
            column="body", min_value=SHORT_BODY_CHARS)),
        rule("body_normalized_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="body_normalized")),
        rule("published_in_range", CRITICAL, gxe.ExpectColumnValuesToBeBetween(
            column="published", min_value=earliest, max_value=tomorrow)),
        rule("published_at_in_range", WARNING, gxe.ExpectColumnValuesToBeBetween(
            column="published_at", min_value=earliest, max_value=tomorrow)),
        rule("language_present", WARNING, gxe.ExpectColumnValuesToNotBeNull(column="language")),
        # A regex, not a 184-value set: GX rebuilds each expectation's configuration about 140 times
        # per run and a long value_set made this one rule cost 20 ms per batch (the rest cost 3).
        rule("language_iso_639_1", CRITICAL, gxe.ExpectColumnValuesToMatchRegex(
            column="language", regex=ISO_639_1_REGEX)),
        rule("title_present", WARNING, gxe.ExpectColumnValuesToNotBeNull(column="title")),
        rule("title_length", WARNING, gxe.ExpectColumnValueLengthsToBeBetween(
            column="title", min_value=MIN_TITLE_CHARS, max_value=MAX_TITLE_CHARS)),
        rule("site_present", WARNING, gxe.ExpectColumnValuesToNotBeNull(column="site")),
        rule("site_one_token", WARNING, gxe.ExpectColumnValuesToMatchRegex(column="site", regex=SITE)),
        rule("site_name_length", WARNING, gxe.ExpectColumnValueLengthsToBeBetween(
            column="site_name", min_value=1, max_value=MAX_SITE_NAME_CHARS)),
        rule("url_http", WARNING, gxe.ExpectColumnValuesToMatchRegex(column="url", regex=URL)),
        rule("removed_share_valid", CRITICAL, gxe.ExpectColumnValuesToBeBetween(
            column="removed_share", min_value=0.0, max_value=1.0)),
        rule("removed_share_plausible", WARNING, gxe.ExpectColumnValuesToBeBetween(
            column="removed_share", min_value=0.0, max_value=MAX_REMOVED_SHARE), "removed_share", "chrome"),
        rule("ingested_at_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="ingested_at")),
        rule("pipeline_version_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="pipeline_version")),
        rule("stripper_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="stripper")),
        rule("run_id_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="run_id")),
    ]
    not_a_time, not_staff = re.compile(AUTHOR_NOT_A_TIME), re.compile(AUTHOR_NOT_STAFF)
    is_site_name = _SiteNameCheck()
    rules += [
        python("authors_not_times", WARNING, ("authors",), _LIST_COLUMN, _rows_where(
            lambda authors: bool(authors) and bool(not_a_time.search("; ".join(authors))), "authors")),
        python("authors_not_staff", WARNING, ("authors",), _LIST_COLUMN, _rows_where(
            lambda authors: bool(authors) and bool(not_staff.search("; ".join(authors))), "authors")),
        python("authors_not_site_name", WARNING, ("authors",), _LIST_COLUMN + ", compared with site and site_name",
               _rows_where(is_site_name, "authors", "site", "site_name")),
        python("author_length", WARNING, ("authors",), _LIST_COLUMN, _rows_where(
            lambda authors: _longest_outside(authors, 2, MAX_AUTHOR_CHARS), "authors")),
        python("captions_length", WARNING, ("captions",), _LIST_COLUMN, _rows_where(
            lambda captions: _longest_outside(captions, 1, MAX_CAPTION_CHARS), "captions")),
        python("labels_length", WARNING, ("categories", "tags"), _LIST_COLUMN, _rows_where(
            lambda categories, tags: _longest_outside([*(categories or ()), *(tags or ())], 1, MAX_LABEL_CHARS),
            "categories", "tags")),
        python("entities_well_formed", WARNING, ("entities",), _LIST_COLUMN, _rows_where(
            lambda entities: not _entities_ok(entities or ()), "entities")),
        python("text_fully_decoded", WARNING, ("repairs",), _LIST_COLUMN, _rows_where(
            lambda repairs: any(LOSSY_REPAIR in repair for repair in repairs or ()), "repairs")),
    ]
    if inputs.chrome_residue:
        # One alternation over the short lines only: a single pass over each candidate line instead of one
        # per pattern (and none over paragraphs) keeps 100,000 rows inside the benchmark's budget.
        residue = re.compile(residue_regex(inputs.chrome_residue))
        # Blank lines are most of the short lines and each costs the residue regex a try at every pattern;
        # they are left out unless a pattern could match one (then dropping them would hide residue).
        keep_blank = _matches_blank(residue.pattern)
        rules.append(python("no_chrome_residue", WARNING, ("body", "chrome"), _LEXICON, _rows_where(
            lambda body: bool(residue.search(_short_lines(body, keep_blank=keep_blank))), "body")))
    if inputs.alias_variants:
        finder = AliasCandidates(inputs.alias_variants)
        variant = re.compile(alias_variant_regex(inputs.alias_variants))

        def unnormalized(text):
            # Aho-Corasick finds the literal occurrences; the word-boundary regex runs on those snippets only.
            snippets = finder.find(text)
            return bool(snippets and variant.search(snippets))

        rules.append(python("names_normalized", WARNING, ("body_normalized", "entities"), _LEXICON,
                            _rows_where(unnormalized, "body_normalized")))
    from great_expectations.expectations.metadata_types import FailureSeverity

    for item in rules:
        if item.expectation is not None:
            item.expectation.meta = {"name": item.name, "severity": item.severity, "fields": list(item.fields)}
            # GX's own severity field too (saved in the suite): a warning that fails still marks the
            # validation result failed in Data Docs, but a reader of the suite sees which rules only warn.
            item.expectation.severity = FailureSeverity(item.severity)
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


def validation_frame(rows: Sequence[dict]) -> pd.DataFrame:
    """The rows as the suite reads them: the articles table's columns, one row per article, indexed 0..n-1
    (GX reports row labels, which map failures back to articles).

    Scalar columns keep their names and values; dates and timestamps become naive datetime64[ns] (the
    only datetimes GX compares vectorised), texts object columns and numbers float64 (nullable Int64 goes
    through a Python call per row). List columns (authors, captions, ...) stay lists for the Python checks.
    """
    def column(key: str) -> pd.Series:
        return pd.Series([r.get(key) for r in rows], dtype=object)

    frame = pd.DataFrame({
        **{key: column(key) for key in ("doc_id", "source_uri", "input_format", "site", "site_name", "url",
                                         "title", "language", "body", "body_normalized")},
        "published": _gx_datetimes(pd.Series(pd.to_datetime([r.get("published") for r in rows]))),
        "published_at": _gx_datetimes(_naive_utc([r.get("published_at") for r in rows])),
        # None becomes NaN, which GX counts as null
        "removed_share": pd.Series([float(r.get("removed_share") or 0.0) for r in rows], dtype="float64"),
        "ingested_at": column("ingested_at"),
        "pipeline_version": column("pipeline_version"),
        "stripper": column("stripper"),
        "run_id": column("run_id"),
        **{key: column(key) for key in LIST_COLUMNS},
    })
    return frame.reset_index(drop=True)


# The list columns of the articles table the Python checks read.
LIST_COLUMNS = ("authors", "captions", "categories", "tags", "entities", "repairs")
# Inside pandas' nanosecond range, the only datetimes GX compares vectorised.
_NS_FIRST, _NS_LAST = pd.Timestamp.min.ceil("s"), pd.Timestamp.max.floor("s")


def _gx_datetimes(series: pd.Series) -> pd.Series:
    # A date outside 1677..2262 is clipped to that edge: still outside the suite's 1990..tomorrow,
    # so the verdict is the same (the sample value in Data Docs shows the edge, not the input).
    return series.clip(_NS_FIRST, _NS_LAST).astype("datetime64[ns]")


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


def _naive_utc(values: list) -> pd.Series:
    # GX compares against naive bounds; an aware column would make the comparison raise.
    series = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
    return series.dt.tz_localize(None)


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


def not_checked(inputs: SuiteInputs) -> list[str]:
    """What the suite cannot check in a run with ``inputs``, one line each, for the run report.

    >>> [line.split(":")[0] for line in not_checked(SuiteInputs(chrome_residue=["x"]))]
    ['names_normalized', 'story_id', 'near_duplicate_of']
    """
    missing = [] if inputs.chrome_residue else ["no_chrome_residue: the chrome lexicon gave no residue patterns"]
    if not inputs.alias_variants:
        missing.append("names_normalized: the alias table gave no variants")
    return missing + [f"{name}: assigned after validation (story clustering)" for name in ASSIGNED_AFTER_VALIDATION]


@dataclass(frozen=True)
class Verdict:
    """The suite's verdict on one article: the critical rules it failed (it goes to quarantine with their names)
    and the warning rules it failed (it is written, with their names in ``warnings``)."""

    critical: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.critical


@dataclass
class SuiteResult:
    """One validation run: a verdict per row (:attr:`verdicts`, in the rows' order), failures per rule.

    ``critical`` and ``warnings`` hold the failures by row label, as GX reports them.
    """

    critical: dict[int, list[str]] = field(default_factory=dict)
    warnings: dict[int, list[str]] = field(default_factory=dict)
    rule_failures: dict[str, int] = field(default_factory=dict)
    success: bool = True
    rows: int = 0  # rows validated, labelled 0..rows-1

    def add(self, name: str, severity: str, rows: Iterable) -> None:
        """Rows (labels) that failed the rule ``name``."""
        target = self.critical if severity == CRITICAL else self.warnings
        labels = list(dict.fromkeys(int(label) for label in rows))
        for label in labels:
            target.setdefault(label, []).append(name)
        self.rule_failures[name] = self.rule_failures.get(name, 0) + len(labels)

    @property
    def verdicts(self) -> list[Verdict]:
        """One verdict per row validated, in order.

        >>> result = SuiteResult(rows=2)
        >>> result.add("body_length", CRITICAL, [1]); result.add("title_present", WARNING, [0, 1])
        >>> result.verdicts
        [Verdict(critical=(), warnings=('title_present',)), Verdict(critical=('body_length',), warnings=('title_present',))]
        """
        return [Verdict(tuple(self.critical.get(row, ())), tuple(self.warnings.get(row, ()))) for row in range(self.rows)]


# Names inside the GX project (see ArticleValidator).
DATA_SOURCE = "newsclean"
DATA_ASSET = "articles"  # shown as "Data asset" in Data Docs
BATCH_DEFINITION = "commit"  # each commit's rows are one whole-dataframe batch
CHECKPOINT = "articles"
DOCS_SITE = "newsclean"


class ArticleValidator:
    """The suite in a GX context, run per commit through a Checkpoint; Data Docs built into ``docs_dir``.

    With ``project_root`` the context is a file-backed GX project in ``project_root/gx``: the suite
    (expectations/articles.json), the validation definition, the Checkpoint and every validation result
    (uncommitted/validations/articles/RUN_ID/...) are saved there, and a later run on the same output
    reuses them, so Data Docs list every run. Without it the context lives in memory (tests, benchmarks).
    """

    def __init__(self, inputs: SuiteInputs, docs_dir: str | None = None, *, project_root: str | None = None,
                 today: dt.date | None = None):
        import logging

        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        # That module sets its own logger to INFO and says where each docs site goes: noise in a run.
        logging.getLogger(ProgressBarsConfig.__module__).setLevel(logging.WARNING)
        if project_root:
            self.context = gx.get_context(mode="file", project_root_dir=project_root)
        else:
            self.context = gx.get_context(mode="ephemeral")
        bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        if self.context.variables.progress_bars != bars:
            self.context.variables.progress_bars = bars
            if project_root:
                self.context.variables.save()
        self.docs_dir = docs_dir
        self.rows_validated = 0
        self.validated: list = []  # ValidationResultIdentifiers of this validator's runs, for Data Docs
        if docs_dir:
            _use_docs_site(self.context, docs_dir)
        self.inputs = inputs
        self.rules = {rule.name: rule for rule in build_rules(inputs, today=today)}
        self.not_checked = not_checked(inputs)
        # The suite is saved again each run: thresholds move with the date and the seeds may have changed.
        suite = self.context.suites.add_or_update(gx.ExpectationSuite(
            name=SUITE_NAME, expectations=[r.expectation for r in self.rules.values() if r.expectation is not None],
            meta={"notes": "newsclean articles table; rules checked in Python are listed in each run report"}))
        definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=SUITE_NAME, data=_batch_definition(self.context), suite=suite))
        # No actions: Data Docs are built once per run (build_docs), not once per commit.
        self.checkpoint = self.context.checkpoints.add_or_update(gx.Checkpoint(
            name=CHECKPOINT, validation_definitions=[definition], actions=[], result_format=RESULT_FORMAT))

    def validate(self, frame: pd.DataFrame, *, run_name: str | None = None) -> SuiteResult:
        """Run the Checkpoint on ``frame`` (its result is stored under ``run_name``) and the Python checks."""
        outcome = SuiteResult(rows=len(frame))
        if frame.empty:
            return outcome
        self.rows_validated += len(frame)
        result = self.checkpoint.run(batch_parameters={"dataframe": frame[list(GX_COLUMNS)]},
                                     run_id=_run_identifier(run_name))
        outcome.success = result.success
        self.validated += list(result.run_results)
        for validation in result.run_results.values():
            for item in validation.results:
                if item.success:
                    continue
                meta = item.expectation_config.meta or {}
                name, severity = meta.get("name", item.expectation_config.type), meta.get("severity", CRITICAL)
                rows = item.result.get("unexpected_index_list")
                if rows is None:
                    # The expectation raised: a suite or data-type bug, not a verdict on the rows. Say so
                    # in the reason and hold every row back, since none of them was checked.
                    name, severity, rows = f"suite_error:{name}", CRITICAL, list(frame.index)
                outcome.add(name, severity, rows)
        for rule in self.rules.values():
            if rule.check is not None:
                failing, broken = rule.check(frame)
                if failing:
                    outcome.success = outcome.success and rule.severity != CRITICAL
                    outcome.add(rule.name, rule.severity, failing)
                if broken:  # as for an expectation that raised: those rows were not checked
                    outcome.success = False
                    outcome.add(f"suite_error:{rule.name}", CRITICAL, broken)
        return outcome

    def validate_rows(self, rows: Sequence[dict], *, run_name: str | None = None) -> SuiteResult:
        """:meth:`validate` on articles-table rows (see :func:`validation_frame`); a verdict per row, in order."""
        return self.validate(validation_frame(rows), run_name=run_name)

    def build_docs(self, *, everything: bool = False) -> str | None:
        """Render the suite and this validator's validation results as Data Docs and update their index;
        with ``everything``, every stored result again. Return the index path."""
        if not self.docs_dir:
            return None
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        # Only the new pages: rendering every stored result again would grow with the project's history.
        resources = None if everything else [ExpectationSuiteIdentifier(name=SUITE_NAME), *self.validated]
        self.context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=resources)
        return f"{self.docs_dir.rstrip('/')}/index.html"


def _batch_definition(context):
    """The pandas data source, the ``articles`` asset and its whole-dataframe batch, made once per project."""
    try:
        source = context.data_sources.get(DATA_SOURCE)
    except (KeyError, ValueError, LookupError):
        source = context.data_sources.add_pandas(DATA_SOURCE)
    try:
        asset = source.get_asset(DATA_ASSET)
    except LookupError:
        asset = source.add_dataframe_asset(DATA_ASSET)
    try:
        return asset.get_batch_definition(BATCH_DEFINITION)
    except (KeyError, LookupError):
        return asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)


def _use_docs_site(context, docs_dir: str) -> None:
    """Make ``docs_dir`` the project's one Data Docs site (GX's default site under uncommitted/ is dropped).

    In a file-backed project the folder is saved relative to the project, so the output can be moved.
    """
    import os

    root = getattr(context, "root_directory", None)
    base = os.path.relpath(docs_dir, root) if root and not docs_dir.startswith(("s3://", "gs://")) else docs_dir
    config = _site_config(base)
    sites = context.get_config().data_docs_sites or {}
    for name in [n for n in sites if n != DOCS_SITE]:
        context.delete_data_docs_site(name)
    if DOCS_SITE not in sites:
        context.add_data_docs_site(DOCS_SITE, site_config=config)
    elif sites[DOCS_SITE] != config:
        context.update_data_docs_site(DOCS_SITE, site_config=config)


def _site_config(docs_dir: str) -> dict:
    view = {"module_name": "expectations.data_docs"}
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
        # Views that escape every value taken from the data (GX inserts them as raw HTML).
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                               "view": {**view, "class_name": "EscapingIndexPageView"}},
        "site_section_builders": {
            "expectations": {"view": {**view, "class_name": "EscapingPageView"}},
            "validations": {"view": {**view, "class_name": "EscapingPageView"},
                            "renderer": {**view, "class_name": "NamedAssetValidationPage"}},
            "profiling": "None",
        },
    }


def _run_identifier(run_name: str | None):
    if not run_name:
        return None
    from great_expectations.core.run_identifier import RunIdentifier

    return RunIdentifier(run_name=run_name)
