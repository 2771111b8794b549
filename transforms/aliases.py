"""Alias discovery: capitalised names in a corpus that look like spellings of each other or of known entities.

The pure side of ``newsclean aliases suggest``: texts in, candidate alias rows out. Nothing is written; a
person reads the rows, fills in what is missing (the kind of a new entity) and pastes the good ones into
seeds/aliases.csv.

Two names are proposed as spellings of one entity when, compared word count to word count, they are equal
after case folding (Nato / NATO), after diacritic folding (Erdoğan / Erdogan), after the transliteration rules
(Zelenskyy / Zelenskiy / Zelensky), or similar enough by rapidfuzz ratio on those skeletons (Kharkov /
Kharkiv), or on their consonants when the vowels differ (Türkiye / Turkey). Pairs that differ by an English
derivational ending (Russia / Russian, German / Germany) are not names of one thing and are skipped.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from transforms.names import AliasTable, normalize_names

# rapidfuzz ratio (0-100) of two transliteration skeletons at which names count as similar (Austria and
# Australia score 88).
SIMILAR_SCORE = 90
# When the consonants agree and only the vowels differ, a lower ratio of the folded names is enough.
SAME_CONSONANTS_SCORE = 70
# Vowel-blind comparison only for names at least this long: Reed / Read and Hall / Hill are not variants.
MIN_CONSONANT_NAME = 5
# Names shorter than this (letters) are too short to compare: UK, EU, Li.
MIN_NAME_LETTERS = 4
# Skeletons whose lengths differ by more than this are not compared by similarity.
MAX_LENGTH_GAP = 3
# The most frequent names compared; the rest of a large corpus's long tail is left out.
MAX_CANDIDATES = 5000
# All-caps words longer than this are shouting (KARACHI), not acronyms (NATO, UNESCO).
MAX_ACRONYM_LETTERS = 6
# Runs of capitalised words this long at most are candidate full names ("Sergei Lavrov").
MAX_RUN_WORDS = 3

# Endings that make another word from a name (Russia -> Russian -> Russians, Europe -> European).
_DERIVED_ENDINGS = frozenset({"s", "es", "n", "an", "ans", "ian", "ians", "ese", "ish", "i", "is", "ic", "ism", "ist"})
# A name ending like a demonym whose longer partner is its country: German / Germany, Roman / Romania.
_DEMONYM_ENDINGS = ("an", "ese", "ish", "i")
_COUNTRY_ENDINGS = frozenset({"", "y", "ia", "a", "e", "o"})
# Letters that Unicode does not decompose into a base letter and a mark.
_FOLD_EXTRA = str.maketrans({"ı": "i", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss",
                             "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ħ": "h", "þ": "th"})
# Transliteration rules, in order, on a folded lower-case name: the same sound written by different systems
# (Ukrainian national, BGN/PCGN, Library of Congress, German, French) becomes one spelling.
TRANSLITERATION_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement) for pattern, replacement in (
        (r"^ye", "e"),          # Yevgeny / Evgeny
        (r"ie", "i"),           # Kiev / Kyiv: Russian e where Ukrainian writes yi
        (r"ov$", "iv"),         # Kharkov / Kharkiv, Lvov / Lviv: Russian o where Ukrainian writes i
        (r"kh", "h"),           # Kharkiv / Harkiv
        (r"ph", "f"),
        (r"w", "v"),            # Wolodymyr / Volodymyr
        (r"[yj]", "i"),         # Zelenskyy / Zelenskiy / Selenskyj, Sergey / Sergei
        (r"ks", "x"),
        (r"(.)\1+", r"\1"),     # Odessa / Odesa, Zelenskii -> Zelenski
    )
)
_VOWELS = re.compile(r"[aeiouy]")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’ʼ-][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’ʼ]s?$")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"'”’»)]*\s+")
_EXAMPLE_CHARS = 200
# A line is prose when it has at least this many words and a third of them start in lower case (a title-case
# headline has fewer: only its short function words).
_PROSE_MIN_WORDS = 6
_FUZZY = ("similar", "consonants")
_REASON_RANK = {"known": 0, "case": 1, "diacritics": 2, "transliteration": 3, "similar": 4, "consonants": 5}


@dataclass(frozen=True)
class Suggestion:
    """A candidate alias row, with the evidence for it."""

    alias: str
    canonical: str
    kind: str  # empty for a new entity: the reader decides
    reason: str  # case | diacritics | transliteration | similar | consonants | longer form
    score: int  # 100 for rule-based equality, the rapidfuzz ratio otherwise
    alias_mentions: int
    canonical_mentions: int
    example: str

    @property
    def note(self) -> str:
        """The note column of the proposed row."""
        known = "" if self.kind else "; new entity: fill in the kind"
        return f"suggested ({self.reason}, score {self.score}){known}"


def fold_diacritics(name: str) -> str:
    """``name`` without diacritics: the base letters only.

    >>> fold_diacritics("Erdoğan"), fold_diacritics("İstanbul"), fold_diacritics("Łódź"), fold_diacritics("Kılıç")
    ('Erdogan', 'Istanbul', 'Lodz', 'Kilic')
    """
    decomposed = unicodedata.normalize("NFKD", name.translate(_FOLD_EXTRA))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def skeleton(name: str) -> str:
    """``name`` folded, in lower case, with the transliteration rules applied.

    >>> skeleton("Zelenskyy"), skeleton("Zelenskiy"), skeleton("Zelensky"), skeleton("Selenskyj")
    ('zelenski', 'zelenski', 'zelenski', 'selenski')
    >>> skeleton("Sergei") == skeleton("Sergey"), skeleton("Odessa") == skeleton("Odesa"), skeleton("Yevgeny")
    (True, True, 'evgeni')
    """
    text = fold_diacritics(name).casefold()
    for pattern, replacement in TRANSLITERATION_RULES:
        text = pattern.sub(replacement, text)
    return text


def consonants(name: str) -> str:
    """The consonants of ``name``'s skeleton, in order, first letter kept: Türkiye and Turkey share ``trk``.

    >>> consonants("Türkiye"), consonants("Turkey"), consonants("Kyiv"), consonants("Kiev")
    ('trk', 'trk', 'kv', 'kv')
    """
    text = skeleton(name)
    return text[:1] + re.sub(r"(.)\1+", r"\1", _VOWELS.sub("", text[1:]))


def derived_pair(first: str, second: str) -> bool:
    """True when one name is the other plus an English word-forming ending: not two spellings of one name.

    >>> derived_pair("Russia", "Russian"), derived_pair("German", "Germany"), derived_pair("Ukraine", "Ukrainian")
    (True, True, True)
    >>> derived_pair("Zelensky", "Zelenskyy"), derived_pair("Turkey", "Turkiye")
    (False, False)
    """
    a, b = sorted((fold_diacritics(first).casefold(), fold_diacritics(second).casefold()), key=len)
    if a == b:
        return False
    common = 0
    while common < len(a) and a[common] == b[common]:
        common += 1
    rest_a, rest_b = a[common:], b[common:]
    if rest_a == "" and rest_b in _DERIVED_ENDINGS:
        return True
    if rest_a == "" and a.endswith(_DEMONYM_ENDINGS) and rest_b in _COUNTRY_ENDINGS:
        return True
    return len(rest_a) <= 1 and rest_a in _COUNTRY_ENDINGS and rest_b in _DERIVED_ENDINGS


@dataclass
class _Tally:
    count: int = 0
    run_ends: int = 0  # times it was the last word of a run of capitalised words (a surname's place)
    in_prose: int = 0  # times it stood inside a sentence of a prose line: not a menu, headline or sentence start
    lower: int = 0  # times the corpus writes it in lower case (a word that is sometimes capitalised)
    example: str = ""


@dataclass(frozen=True)
class Mention:
    """One capitalised name as found: the sentence around it and where it stood."""

    name: str
    sentence: str
    ends_run: bool  # last word of a run of capitalised words: where a surname or a one-word name stands
    in_prose: bool  # inside a sentence (not its first word) of a line that is mostly lower-case words


def find_names(text: str) -> Iterator[Mention]:
    """Every capitalised word, and every run of 2-3 of them, in ``text``.

    Possessive endings are dropped; lines in capitals are skipped (they shout, they do not name).

    >>> for m in find_names("Sergei Lavrov met Zelenskyʼs aide in Kyiv today."):
    ...     print(m.name, m.ends_run, m.in_prose)
    Sergei False False
    Lavrov True True
    Sergei Lavrov True False
    Zelensky True True
    Kyiv True True
    """
    for line in text.splitlines():
        if line.upper() == line:
            continue
        words = _TOKEN.findall(line)
        prose = len(words) >= _PROSE_MIN_WORDS and sum(w[:1].islower() for w in words) * 3 >= len(words)
        for sentence in _SENTENCE_BREAK.split(line):
            run: list[str] = []
            run_start = previous_end = -1
            for index, match in enumerate(_TOKEN.finditer(sentence)):
                word = _POSSESSIVE.sub("", match.group(0))
                capitalised = word[:1].isupper()
                if run and (not capitalised or sentence[previous_end:match.start()] != " "):
                    yield from _run_names(run, sentence, prose, run_start == 0)
                    run = []
                if capitalised:
                    if not run:
                        run_start = index
                    run.append(word)
                previous_end = match.end()
                if word != match.group(0):  # a possessive ends the run: "Turkey's President" is two names
                    yield from _run_names(run, sentence, prose, run_start == 0)
                    run = []
            yield from _run_names(run, sentence, prose, run_start == 0)


def _run_names(run: list[str], sentence: str, prose: bool, starts_sentence: bool) -> Iterator[Mention]:
    if any(len(word) > MAX_ACRONYM_LETTERS and word.isupper() for word in run) or (
            len(run) > 1 and all(word.isupper() for word in run)):
        return  # NEW DELHI, KARACHI: a shouted dateline or label, not a spelling
    # A word after the first of a run is capitalised for itself ("President Volodymyr Zelenskyy" at a
    # sentence start), the first word perhaps only for its place.
    for index, word in enumerate(run):
        yield Mention(word, sentence, index == len(run) - 1, prose and (index > 0 or not starts_sentence))
    if 2 <= len(run) <= MAX_RUN_WORDS:
        yield Mention(" ".join(run), sentence, True, prose and not starts_sentence)


def count_names(texts: Iterable[str]) -> dict[str, _Tally]:
    """Candidate names of a corpus with their mention counts and an example sentence.

    A candidate stands inside a prose sentence at least once (menus, headlines and sentence starts capitalise
    anything) and more often so than it is written in lower case; a single word must also end a run somewhere
    (given names and titles do not).
    """
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    lower: Counter[str] = Counter()
    for text in texts:
        for token in _TOKEN.findall(text):
            if token[:1].islower():
                lower[token] += 1
        for mention in find_names(text):
            tally = tallies[mention.name]
            tally.count += 1
            tally.run_ends += mention.ends_run
            tally.in_prose += mention.in_prose
            if not tally.example or (mention.in_prose and tally.in_prose == 1):
                tally.example = _excerpt(mention.sentence, mention.name)
    for name, tally in tallies.items():
        tally.lower = lower[name.casefold()]
    kept = {
        name: tally for name, tally in tallies.items()
        if tally.run_ends and tally.in_prose and sum(char.isalpha() for char in name) >= MIN_NAME_LETTERS
        and tally.lower < tally.in_prose
    }
    return dict(sorted(kept.items(), key=lambda item: -item[1].count)[:MAX_CANDIDATES])


def _excerpt(sentence: str, name: str) -> str:
    """The sentence, or about ``_EXAMPLE_CHARS`` of it around ``name`` cut at spaces."""
    sentence = " ".join(sentence.split())
    if len(sentence) <= _EXAMPLE_CHARS:
        return sentence
    at = max(0, sentence.find(name) - _EXAMPLE_CHARS // 3)
    start = sentence.rfind(" ", 0, at) + 1 if at else 0
    stop = sentence.find(" ", start + _EXAMPLE_CHARS)
    stop = len(sentence) if stop < 0 else stop
    return ("…" if start else "") + sentence[start:stop] + ("…" if stop < len(sentence) else "")


def compare(first: str, second: str) -> tuple[str, int] | None:
    """(reason, score) when two names look like spellings of one name, else None.

    >>> compare("Nato", "NATO"), compare("Erdoğan", "Erdogan"), compare("Zelenskyy", "Zelensky")
    (('case', 100), ('diacritics', 100), ('transliteration', 100))
    >>> compare("Lukashenka", "Lukashenko"), compare("Türkiye", "Turkey"), compare("Kiev", "Kyiv")
    (('similar', 90), ('consonants', 77), ('transliteration', 100))
    >>> compare("Russia", "Russian"), compare("Austria", "Australia"), compare("NEXTA", "Next")
    (None, None, None)
    """
    if first == second or first.count(" ") != second.count(" ") or derived_pair(first, second):
        return None
    if first.casefold() == second.casefold():
        return "case", 100
    if _is_acronym(first) != _is_acronym(second):  # an acronym and a word are alike only letter for letter
        return None
    folded_a, folded_b = fold_diacritics(first).casefold(), fold_diacritics(second).casefold()
    if folded_a == folded_b:
        return "diacritics", 100
    skeleton_a, skeleton_b = skeleton(first), skeleton(second)
    if skeleton_a == skeleton_b:
        return "transliteration", 100
    if skeleton_a[:1] != skeleton_b[:1] or abs(len(skeleton_a) - len(skeleton_b)) > MAX_LENGTH_GAP:
        return None
    score = round(fuzz.ratio(skeleton_a, skeleton_b))
    if score >= SIMILAR_SCORE:
        return "similar", score
    if len(skeleton_a) >= MIN_CONSONANT_NAME and consonants(first) == consonants(second):
        score = round(fuzz.ratio(folded_a, folded_b))
        if score >= SAME_CONSONANTS_SCORE:
            return "consonants", score
    return None


def _is_acronym(name: str) -> bool:
    return len(name) > 1 and name.isupper()


def suggest_aliases(texts: Iterable[str], *, aliases: AliasTable, limit: int = 50) -> list[Suggestion]:
    """Alias rows the corpus suggests: names that look like spellings of a known entity or of each other.

    Names the table knows are never proposed as aliases, nor pairs the table already makes equal (a full name
    whose surname it rewrites). A new name is proposed as a spelling of a known one when it looks like one;
    otherwise of the best new name it looks like: plain ASCII first (the default canonicals are plain
    English), then the more frequent. Each proposal rests on a direct comparison, never on a chain of them.
    Rule-based proposals come first, then by mentions.

    >>> table = AliasTable.from_rows([{"alias": "Kiev", "canonical": "Kyiv", "kind": "place"}])
    >>> texts = ["On Monday, Zelensky spoke to reporters in Kyiv.", "Later, Zelenskyy spoke to reporters in Kiev.",
    ...          "On Tuesday, Zelensky left Kharkov for a meeting in Kyiv."]
    >>> [(s.alias, s.canonical, s.kind, s.reason) for s in suggest_aliases(texts, aliases=table)]
    [('Zelenskyy', 'Zelensky', '', 'transliteration')]
    """
    tallies = count_names(texts)
    written = {name: normalize_names(name, aliases=aliases).text for name in tallies}
    known = {spelling: kind for spelling, _, kind in aliases.spellings() if kind != "ignore"}
    new = [name for name in tallies if aliases.entity_of(name) is None]
    new_set = set(new)

    def preference(name: str) -> tuple:
        return (name not in known, not name.isascii(), -tallies[name].count if name in tallies else 0, len(name), name)

    direct: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)  # new name -> better name -> evidence
    for a, b, (reason, score) in _similar_pairs(new, list(known), written):
        for name, other in ((a, b), (b, a)):
            if name not in new_set or preference(other) > preference(name):
                continue
            if reason == "case" and _is_acronym(name):
                continue  # YORK for York is a shouted dateline, not a spelling; Nato for NATO is one
            if reason in _FUZZY and other not in known and (tallies[name].lower or tallies[other].lower):
                continue  # similar words (Senator, Sentra) are too common to be variants of a new name
            direct[name][other] = (reason, score)
    best: dict[str, tuple[tuple, str, str, int]] = {}  # new name -> (rank, target, reason, score)
    for name, others in direct.items():
        for other, (reason, score) in others.items():
            rank = (other not in known, _REASON_RANK[reason], -score, preference(other))
            if name not in best or rank < best[name][0]:
                best[name] = (rank, other, reason, score)
    for name in best:
        # Skip a step when the name is as directly like the step's own target (Türkiye -> Turkey, not Turkiye).
        target = best[name][1]
        while target in best and best[target][1] in direct[name] and best[target][1] != name:
            target = best[target][1]
        best[name] = (best[name][0], target, *direct[name][target])

    suggestions = [row for name, (_, other, reason, score) in best.items()
                   for row in _suggestion_rows(name, other, reason, score, written, tallies, aliases)]
    unique = {(s.alias, s.canonical): s for s in suggestions}.values()
    return sorted(unique, key=lambda s: (s.reason in _FUZZY, -s.alias_mentions - s.canonical_mentions,
                                         _REASON_RANK.get(s.reason, 9), -s.score, s.alias))[:limit]


def _suggestion_rows(name: str, other: str, reason: str, score: int, written: dict[str, str], tallies: dict[str, _Tally],
                     aliases: AliasTable) -> list[Suggestion]:
    """The row proposing ``name`` as a spelling of ``other`` (as the table writes it), and, when ``other`` is a
    new full name whose surname the table knows, the row linking it to that entity."""
    canonical = written.get(other) or normalize_names(other, aliases=aliases).text
    entity = aliases.entity_of(other) or _inner_entity(other, aliases)
    kind = entity[1] if entity else ""
    rows = [Suggestion(name, canonical, kind, reason, score, tallies[name].count,
                       tallies[canonical].count if canonical in tallies else 0, tallies[name].example)]
    if entity and aliases.entity_of(other) is None and entity[0] != canonical:
        # A new full name whose surname the table knows: link it so it counts as that entity.
        rows.append(Suggestion(canonical, entity[0], kind, "longer form", 100,
                               tallies[canonical].count if canonical in tallies else 0,
                               tallies[entity[0]].count if entity[0] in tallies else 0,
                               tallies[other].example))
    return rows


def _inner_entity(name: str, aliases: AliasTable) -> tuple[str, str] | None:
    """The one known entity a longer name is a form of ("Sergey Shoigu" -> Shoigu), if it names exactly one."""
    found = normalize_names(name, aliases=aliases).entities
    if len(found) == 1 and found[0].name in name.split(" "):
        return found[0].name, found[0].kind
    return None


def _similar_pairs(unknown: list[str], known: list[str],
                   written: dict[str, str]) -> list[tuple[str, str, tuple[str, int]]]:
    """Every pair (unknown, unknown or known) that :func:`compare` accepts, compared only within blocks."""
    blocks: dict[tuple[str, int], list[str]] = defaultdict(list)
    for name in dict.fromkeys([*unknown, *known]):
        letters = skeleton(name)
        if sum(char.isalpha() for char in letters) >= MIN_NAME_LETTERS - 1:
            blocks[(letters[:1], name.count(" "))].append(name)
    unknown_set = set(unknown)
    pairs = []
    for names in blocks.values():
        skeletons = [skeleton(name) for name in names]
        for index, name in enumerate(names):
            if name not in unknown_set:
                continue
            # rapidfuzz narrows the block cheaply; compare() decides with all the rules.
            hits = process.extract(skeleton(name), skeletons, scorer=fuzz.ratio,
                                   score_cutoff=min(SIMILAR_SCORE, SAME_CONSONANTS_SCORE) - 10, limit=None)
            for _, _, other_index in hits:
                other = names[other_index]
                if other == name or (other in unknown_set and other < name):
                    continue
                if written.get(name, name) == written.get(other, other):
                    continue
                found = compare(name, other)
                if found:
                    pairs.append((name, other, found))
    return pairs
