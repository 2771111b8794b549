"""Word-frequency tables (wordfreq's shipped lists as :class:`transforms.zipf.HashedZipf` arrays), cached per user.

Apart from :mod:`flows.stories` (story vectors) so that the seed checks (:func:`flows.seeds.alias_warnings`),
which every run makes, load one table without importing the story index (scipy.sparse: 0.2-0.35 s).
"""
from __future__ import annotations

import os
import uuid
from functools import lru_cache
from pathlib import Path

import numpy as np

from transforms.zipf import HashedZipf

DEFAULT_LANGUAGE = "en"  # frequency table for articles whose language is unknown or not covered
ZIPF_CACHE_VERSION = 1  # bump when the cached table layout changes


@lru_cache(maxsize=64)
def zipf_table(language: str | None) -> HashedZipf:
    """Zipf frequencies of the language's words from the ``wordfreq`` package (shipped data, no network),
    for the languages it covers, else for ``DEFAULT_LANGUAGE``."""
    code = (language or DEFAULT_LANGUAGE).split("-")[0].lower()
    return _zipf(code) or _zipf(DEFAULT_LANGUAGE)


@lru_cache(maxsize=16)
def _zipf(code: str) -> HashedZipf | None:
    """The table of one wordfreq language (None if it has none), from the user's cache when built there
    before: reading wordfreq's own file and hashing its words costs 0.1-0.8 s per language, loading the
    cached arrays about a millisecond."""
    from importlib.metadata import version

    path = zipf_cache_folder() / f"{code}-wordfreq-{version('wordfreq')}-v{ZIPF_CACHE_VERSION}.npz"
    try:
        with np.load(path) as stored:
            return HashedZipf(stored["hashes"], stored["centizipf"])
    except (OSError, KeyError, ValueError):
        pass
    import wordfreq

    if code not in wordfreq.available_languages():
        return None
    table = HashedZipf.from_bins(wordfreq.get_frequency_list(code))
    try:  # a cache, not a requirement: a read-only home just means building the table every run
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}-{uuid.uuid4().hex[:8]}.tmp.npz")
        np.savez(temporary, hashes=table.hashes, centizipf=table.centizipf)
        os.replace(temporary, path)
    except OSError:
        pass
    return table


def zipf_cache_folder() -> Path:
    """Where built frequency tables are kept: ``$NEWSCLEAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/newsclean``,
    else ``~/.cache/newsclean``; tables go in its ``zipf`` folder."""
    root = os.environ.get("NEWSCLEAN_CACHE_DIR")
    if not root:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                            "newsclean")
    return Path(root) / "zipf"
