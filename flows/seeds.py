"""Loads the reference data in seeds/ once per run, rejecting empty or duplicate keys."""
from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

from flows.models import FastTextLanguageIdentifier
from transforms.chrome import LEXICON_FILES, ChromeLexicon
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
    with path.open(newline="", encoding="utf-8") as handle:
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


@lru_cache(maxsize=8)
def load_references(folder: str | Path | None = None) -> References:
    """The chrome lexicon and the alias table built from the seed tables in ``folder``."""
    root = seeds_dir(folder)
    tables = {name: read_seed_table(root / name) for name in (*LEXICON_FILES, *ALIAS_FILES)}
    try:  # the builders name the file and line of a bad row; surface that as a seed error
        return References(
            lexicon=ChromeLexicon.from_tables({name: tables[name] for name in LEXICON_FILES}),
            aliases=AliasTable.from_tables({name: tables[name] for name in ALIAS_FILES}),
            language=FastTextLanguageIdentifier(),
        )
    except ValueError as error:
        raise SeedError(f"{root}: {error}") from error
