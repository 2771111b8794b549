"""The story index's files under ``DIR/state/stories``: which generation is current and which commits' deltas
it has not folded yet.

Apart from :mod:`flows.stories` so that a run with nothing new, which only asks whether a killed run left
deltas to fold (:func:`has_unfolded_deltas`), does not import the story code (numpy, scipy.sparse: 0.1 s of CPU, 0.3-0.7 s
on a loaded machine, python -X importtime).
"""
from __future__ import annotations

import pyarrow.fs as pafs

from flows.store import Store

STATE_FOLDER = ("state", "stories")
CURRENT_FILE = "CURRENT"
DELTA_PREFIX = "delta-"
DELTA_PARTS = ("articles", "ledger", "lines")


def folder(store: Store) -> str:
    return store.path(*STATE_FOLDER)


def current(store: Store) -> tuple[str | None, set[str]]:
    """The current generation (None before the first save) and the commits whose deltas it folded."""
    fs, path = store.filesystem, f"{folder(store)}/{CURRENT_FILE}"
    if fs.get_file_info(path).type != pafs.FileType.File:
        return None, set()
    with fs.open_input_stream(path) as handle:
        lines = handle.read().decode("utf-8").split()
    return lines[0], set(lines[1:])


def delta_ids(store: Store, folded: set[str]) -> list[str]:
    """Committed deltas not folded into the current generation, in commit order."""
    ids = set()
    for info in store.files_under(*STATE_FOLDER):
        name = info.base_name
        if name.startswith(DELTA_PREFIX) and name.endswith(".parquet"):
            ids.add(name[len(DELTA_PREFIX):].rsplit("-", 1)[0])
    return sorted(ids - folded)


def has_unfolded_deltas(store: Store) -> bool:
    """Whether killed runs left committed deltas that the current generation has not folded (a run with nothing
    new then folds them and rewrites the stories table: see ``flows.clean_news``)."""
    return bool(delta_ids(store, current(store)[1]))
