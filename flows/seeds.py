"""Loads the reference data in seeds/ once per run, rejecting empty or duplicate keys."""
from __future__ import annotations

import csv
import io
import os
from functools import lru_cache
from pathlib import Path

import transforms.chrome
from flows.models import FastTextLanguageIdentifier, WordfreqFunctionWords
from transforms.chrome import LEXICON_FILES, ChromeLexicon
from transforms.chrome.model import LineModel
from transforms.names import ALIAS_FILES, AliasTable
from transforms.pipeline import References


def _default_seeds_dir() -> Path:
    """The project's seeds/ in a checkout (the tables the user edits), else the copy an installed wheel carries."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "seeds").is_dir():
        return checkout / "seeds"
    from importlib.resources import files

    return Path(str(files("newsclean") / "seeds"))


DEFAULT_SEEDS_DIR = _default_seeds_dir()


class SeedError(ValueError):
    """A seed table is missing, empty or has a bad row; the message names the file, the row and the fix."""


def seeds_dir(override: str | Path | None = None) -> Path:
    """The seeds folder: the explicit override, else $NEWSCLEAN_SEEDS, else the project's seeds/."""
    return Path(override or os.environ.get("NEWSCLEAN_SEEDS") or DEFAULT_SEEDS_DIR)


def read_seed_table(path: Path) -> list[dict[str, str]]:
    """Rows of a seed CSV; the first column is the key and must be non-empty and unique."""
    if not path.is_file():
        raise SeedError(f"{path}: seed table not found; restore it from git or point --seeds at a folder that has it")
    with io.StringIO(_utf8_text(path), newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "note" not in reader.fieldnames:
            raise SeedError(f"{path}: the header must name the columns and include `note`")
        key = reader.fieldnames[0]
        rows: list[dict[str, str]] = []
        seen: dict[str, int] = {}
        for line_number, row in enumerate(reader, start=2):
            if None in row:
                raise SeedError(f"{path}:{line_number}: more fields than the header has; quote values with commas")
            value = (row.get(key) or "").strip()
            if not value:
                raise SeedError(f"{path}:{line_number}: empty `{key}`; fill it in or delete the row")
            if value in seen:
                raise SeedError(
                    f"{path}:{line_number}: duplicate `{key}` {value!r} (first on line {seen[value]}); keep one row"
                )
            seen[value] = line_number
            rows.append({name: (cell or "").strip() for name, cell in row.items()})
    if not rows:
        raise SeedError(f"{path}: no rows; add at least one or restore the file from git")
    return rows


def _utf8_text(path: Path) -> str:
    """The file's text: UTF-8, with or without the byte order mark spreadsheets write; else a SeedError with
    the line of the first byte that is not UTF-8 and how to convert the file."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        byte = data[error.start]
        guess = data.decode("cp1252", errors="replace").splitlines()[line - 1][:60]
        raise SeedError(
            f"{path}:{line}: not UTF-8 (byte 0x{byte:02x}; read as Windows-1252/Latin-1 the line is {guess!r}); "
            f"save the file as UTF-8 (a spreadsheet's \"CSV UTF-8\"), or convert it: "
            f"iconv -f cp1252 -t utf-8 {path.name} > {path.stem}.utf8.csv && mv {path.stem}.utf8.csv {path.name}"
        ) from None


# A single-word spelling whose lower-case form is at least this frequent in English (wordfreq's Zipf scale:
# "may" 6.0, "march" 5.3, "china" 5.1; "france" 4.9, "turkey" 4.6) is a dictionary word as often as a name.
COMMON_WORD_ZIPF = 5.0


def alias_warnings(rows: list[dict[str, str]], *, source: str = "aliases.csv") -> list[str]:
    """Rows whose spellings will match ordinary text: one letter ("A"), or a common English word ("May").

    >>> found = alias_warnings([{"alias": "May", "canonical": "Theresa May"}, {"alias": "A", "canonical": "Austria"},
    ...                         {"alias": "Kiev", "canonical": "Kyiv"}, {"alias": "U.S.", "canonical": "US"}])
    >>> [message.split(" is ")[0] for message in found]
    ["aliases.csv:2: 'May'", "aliases.csv:3: 'A'"]
    """
    from flows.zipf import zipf_table  # wordfreq's English list, cached as arrays (1 ms, not 1 s, per run)

    english = zipf_table("en")
    found = []
    for line, row in enumerate(rows, start=2):
        for spelling in dict.fromkeys((row.get("alias") or "", row.get("canonical") or "")):
            letters = spelling.replace(".", "").strip()
            if len(letters) == 1:
                found.append(f"{source}:{line}: {spelling!r} is a single letter: every {spelling!r} in a text will "
                             f"count as {row.get('canonical')!r}; use a longer spelling or delete the row")
            elif " " not in letters and not letters.isupper() and letters:
                zipf = english.get(letters.lower(), 0.0)
                if zipf >= COMMON_WORD_ZIPF:
                    found.append(f"{source}:{line}: {spelling!r} is also a common English word (wordfreq Zipf "
                                 f"{zipf:.1f}): every {spelling!r} in a text, a sentence's first word included, "
                                 f"will count as {row.get('canonical')!r}; prefer a longer spelling (a full name)")
    return found


@lru_cache(maxsize=8)
def seed_warnings(folder: str | Path | None = None) -> tuple[str, ...]:
    """What in the seed tables is allowed but probably wrong (see :func:`alias_warnings`)."""
    root = seeds_dir(folder)
    return tuple(message for name in ALIAS_FILES
                 for message in alias_warnings(read_seed_table(root / name), source=str(root / name)))


# The trained line model for plain text (scripts/train_text_model.py writes it).
LINE_MODEL_FILE = Path(transforms.chrome.__file__).resolve().parent / "line_model.json"
# Which plain-text stripper a run uses: "rules" (the hand-set rule stripper) or "model" (the line model).
STRIPPER_ENV = "NEWSCLEAN_TEXT_STRIPPER"
STRIPPERS = ("rules", "model")
DEFAULT_STRIPPER = "rules"


def text_stripper(override: str | None = None) -> str:
    """The plain-text stripper to use: the override, else $NEWSCLEAN_TEXT_STRIPPER, else the default."""
    choice = override or os.environ.get(STRIPPER_ENV) or DEFAULT_STRIPPER
    if choice not in STRIPPERS:
        raise SeedError(f"{STRIPPER_ENV}={choice!r}: choose one of {', '.join(STRIPPERS)}")
    return choice


@lru_cache(maxsize=2)
def load_line_model(path: Path = LINE_MODEL_FILE) -> LineModel:
    """The line model from its JSON file, read once per process; its function words come from wordfreq."""
    try:
        return LineModel.from_json(path.read_text(encoding="utf-8"), function_words=WordfreqFunctionWords())
    except FileNotFoundError:
        raise SeedError(f"{path}: line model not found; restore it from git or rebuild it with "
                        "scripts/train_text_model.py") from None
    except (ValueError, KeyError) as error:
        raise SeedError(f"{path}: {error}") from error


def load_references(folder: str | Path | None = None, stripper: str | None = None) -> References:
    """The chrome lexicon and the alias table (from the seed tables in ``folder``) and, when ``stripper`` (or
    $NEWSCLEAN_TEXT_STRIPPER) is ``model``, the line model."""
    return _load_references(folder, text_stripper(stripper))


@lru_cache(maxsize=8)
def _load_references(folder: str | Path | None, stripper: str) -> References:
    root = seeds_dir(folder)
    tables = {name: read_seed_table(root / name) for name in (*LEXICON_FILES, *ALIAS_FILES)}
    try:  # the builders name the file and line of a bad row; surface that as a seed error
        return References(
            lexicon=ChromeLexicon.from_tables({name: tables[name] for name in LEXICON_FILES}),
            aliases=AliasTable.from_tables({name: tables[name] for name in ALIAS_FILES}),
            language=FastTextLanguageIdentifier(),
            line_model=load_line_model() if stripper == "model" else None,
        )
    except ValueError as error:
        raise SeedError(f"{root}: {error}") from error
