"""Run-to-run state under DIR/state: how often each line key was seen per site."""
from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow.fs as pafs

from flows.store import Store

SITE_LINES_FILE = "site_line_counts.json"
# Under this key (never a line key: empty keys are not learned) a site's counter holds how many of its
# plain-text documents were counted, so the flow knows which sites have learned their chrome already.
DOCUMENTS_KEY = ""
# Keys kept per site: past twice this many, a site keeps only its most frequent ones. A site's chrome is a
# few hundred lines seen on most pages; the long tail is one-off short lines that would grow the state
# (and the file rewritten at every save) without bound.
SITE_KEYS_KEPT = 5000
# The state file is rewritten at most this often during a run (and at its end): it holds every site's
# keys, and rewriting it at every commit cost minutes over a 200,000-document run. After a crash the
# counts lag the stored articles by at most this much, which only delays learning a little.
SAVE_EVERY_SECONDS = 60.0


@dataclass
class SiteLineCounts:
    """Document frequency of line keys per site, so later runs know a site's chrome from the start."""

    by_site: dict[str, Counter[str]] = field(default_factory=dict)
    saved_at: float = field(default_factory=time.monotonic)

    @classmethod
    def load(cls, store: Store) -> "SiteLineCounts":
        path = store.path("state", SITE_LINES_FILE)
        if store.filesystem.get_file_info(path).type != pafs.FileType.File:
            return cls()
        with store.filesystem.open_input_stream(path) as handle:
            data = json.loads(handle.read().decode("utf-8"))
        return cls({site: Counter(keys) for site, keys in data.items()})

    def add(self, site: str | None, counts: Mapping[str, int]) -> None:
        site_counts = self.by_site.setdefault(site or "", Counter())
        site_counts.update(counts)
        if len(site_counts) > 2 * SITE_KEYS_KEPT:
            documents = site_counts.pop(DOCUMENTS_KEY, 0)
            kept = Counter(dict(site_counts.most_common(SITE_KEYS_KEPT)))
            kept[DOCUMENTS_KEY] = documents
            self.by_site[site or ""] = kept

    def documents(self, site: str | None) -> int:
        return self.counts(site)[DOCUMENTS_KEY]

    def counts(self, site: str | None) -> Counter[str]:
        return self.by_site.get(site or "", Counter())

    def subset(self, sites) -> dict[str, Counter[str]]:
        """Copies of the counts of ``sites`` only: what one batch needs, small enough to ship to a worker."""
        return {site or "": Counter(self.by_site.get(site or "", ())) for site in sites}

    def save(self, store: Store, *, force: bool = False) -> None:
        """Replace the state file atomically, if SAVE_EVERY_SECONDS have passed since the last save or ``force``."""
        if not force and time.monotonic() - self.saved_at < SAVE_EVERY_SECONDS:
            return
        self.saved_at = time.monotonic()
        data = json.dumps(self.by_site, ensure_ascii=False, sort_keys=True).encode("utf-8")
        store.write_bytes(data, store.path("state", SITE_LINES_FILE))
