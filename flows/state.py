"""Run-to-run state under DIR/state: how often each line key was seen per site."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow.fs as pafs

from flows.store import Store

SITE_LINES_FILE = "site_line_counts.json"
# Under this key (never a line key: empty keys are not learned) a site's counter holds how many of its
# plain-text documents were counted, so the flow knows which sites have learned their chrome already.
DOCUMENTS_KEY = ""


@dataclass
class SiteLineCounts:
    """Document frequency of line keys per site, so later runs know a site's chrome from the start."""

    by_site: dict[str, Counter[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, store: Store) -> "SiteLineCounts":
        path = store.path("state", SITE_LINES_FILE)
        if store.filesystem.get_file_info(path).type != pafs.FileType.File:
            return cls()
        with store.filesystem.open_input_stream(path) as handle:
            data = json.loads(handle.read().decode("utf-8"))
        return cls({site: Counter(keys) for site, keys in data.items()})

    def add(self, site: str | None, counts: Mapping[str, int]) -> None:
        self.by_site.setdefault(site or "", Counter()).update(counts)

    def documents(self, site: str | None) -> int:
        return self.counts(site)[DOCUMENTS_KEY]

    def counts(self, site: str | None) -> Counter[str]:
        return self.by_site.get(site or "", Counter())

    def subset(self, sites) -> dict[str, Counter[str]]:
        """Copies of the counts of ``sites`` only: what one batch needs, small enough to ship to a worker."""
        return {site or "": Counter(self.by_site.get(site or "", ())) for site in sites}

    def save(self, store: Store) -> None:
        """Replace the state file atomically."""
        data = json.dumps(self.by_site, ensure_ascii=False, sort_keys=True).encode("utf-8")
        store.write_bytes(data, store.path("state", SITE_LINES_FILE))
