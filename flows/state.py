"""Run-to-run state under DIR/state: how often each line key was seen per site.

Stored in DIR/state/site_lines: ``base.json`` (``{"folded": [commit ids], "sites": {site: {key: count}}}``)
and one ``delta-ID.json.zz`` per commit since (zlib-compressed JSON of the counts that commit's documents
added), published with the commit's articles (:class:`flows.store.Commit`). The end of a run folds the
deltas into a new base that names them, then deletes them: a kill in between leaves deltas the base
names, which are not counted twice.
"""
from __future__ import annotations

import itertools
import json
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from flows.settings import crash_point
from flows.store import Commit, Store
from transforms.chrome import SITE_CHROME_MIN_DOCS, site_chrome_keys

SITE_LINES_DIR = ("state", "site_lines")
BASE_FILE = "base.json"
LEGACY_FILE = "site_line_counts.json"  # DIR/state/site_line_counts.json before deltas: read once, then folded
DELTA_PREFIX, DELTA_SUFFIX = "delta-", ".json.zz"
# Under this key (never a line key: empty keys are not learned) a site's counter holds how many of its
# plain-text documents were counted, so the flow knows which sites have learned their chrome already.
DOCUMENTS_KEY = ""
# Keys kept per site: past twice this many, a site keeps only its most frequent ones. A site's chrome is a
# few hundred lines seen on most pages; the long tail is one-off short lines that would grow the state
# (and the file rewritten at every save) without bound.
SITE_KEYS_KEPT = 5000
# The base file holds every site's keys, and rewriting it at every commit cost minutes over a
# 200,000-document run: a commit writes only what it added (a delta); the base is rewritten at a run's end.


# A site no batch has used for this many batches keeps its counts as JSON, zlib-compressed, until a batch needs it
# again. A run over many sites used to hold every site's keys as Python strings for the whole run (200 sites of up
# to 10,000 keys: 81 MB; compressed, 25 MB). Sites that recur batch after batch stay as Counters: thawing a
# 10,000-key site takes about 3 ms, too much to pay for every site of every batch, but little once in a while.
IDLE_BATCHES = 2


@dataclass(frozen=True)
class BatchSites:
    """What one batch needs of its sites' line counts (see :meth:`SiteLineCounts.for_batch`)."""

    chrome: dict[str, frozenset[str]]  # established sites: the line keys learned as their chrome
    counts: dict[str, Counter[str]]  # sites still learning: copies of their counts, for the batch's first pass


@dataclass
class SiteLineCounts:
    """Document frequency of line keys per site, so later runs know a site's chrome from the start.

    >>> state = SiteLineCounts(idle_batches=1)
    >>> state.add("a.example", {"": 1, "menu": 1})
    >>> _ = state.for_batch(["b.example"]), state.for_batch(["b.example"])  # two batches without a.example
    >>> sorted(state.frozen), state.counts("a.example")["menu"], sorted(state.frozen)
    (['a.example'], 1, [])
    """

    by_site: dict[str, Counter[str]] = field(default_factory=dict)  # hot: the sites used lately
    frozen: dict[str, bytes] = field(default_factory=dict)  # cold: zlib-compressed JSON of the site's counts
    idle_batches: int = IDLE_BATCHES
    deltas: list[str] = field(default_factory=list)  # commits whose deltas the counts hold beyond the base
    stale: list[str] = field(default_factory=list)  # deltas the base holds already, left by a killed save
    _batch: int = field(default=0, init=False)  # batches begun (calls of for_batch)
    _used: dict[str, int] = field(default_factory=dict, init=False)  # hot site -> the batch that last used it
    # Hot site -> its keys at or over the chrome threshold, kept up to date by add(): counts only grow, so a
    # batch checks only the keys it added, not the site's thousands (8 ms per 10,000-key site and batch). A
    # frozenset, replaced when keys cross the threshold (rare once a site is established), is handed to batches
    # as it is: no copy per batch.
    _chrome: dict[str, frozenset[str]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._used = dict.fromkeys(self.by_site, self._batch)

    @classmethod
    def load(cls, store: Store) -> "SiteLineCounts":
        """The counts as committed: the base (or the legacy file) plus every committed delta since."""
        base = store.path(*SITE_LINES_DIR, BASE_FILE)
        legacy = store.path("state", LEGACY_FILE)
        folded: set[str] = set()
        state = cls()
        if store.exists(base):
            data = json.loads(_read(store, base))
            folded = set(data["folded"])
            state.frozen = {site: _freeze(keys) for site, keys in data["sites"].items()}
        elif store.exists(legacy):
            state.frozen = {site: _freeze(keys) for site, keys in json.loads(_read(store, legacy)).items()}
            state.deltas.append("")  # the legacy file is folded (and deleted) at the next save
        for commit_id, path in _deltas(store):
            if commit_id in folded:  # a kill kept the last save from deleting it: named again, then deleted
                state.stale.append(commit_id)
                continue
            for site, counts in json.loads(zlib.decompress(_read(store, path))).items():
                state.add(site, counts)
            state.deltas.append(commit_id)
        return state

    def stage(self, commit: Commit, added: Mapping[str, Mapping[str, int]]) -> str | None:
        """Add the counts one commit's documents ``added`` (per site) to ``commit``, as a delta."""
        if not added:
            return None
        data = zlib.compress(_json({site: dict(counts) for site, counts in added.items()}), 1)
        return commit.add(data, commit.store.path(*SITE_LINES_DIR, f"{DELTA_PREFIX}{commit.id}{DELTA_SUFFIX}"))

    def committed(self, commit: Commit, path: str | None) -> None:
        if path is not None:
            self.deltas.append(commit.id)

    def add(self, site: str | None, counts: Mapping[str, int]) -> None:
        site = site or ""
        site_counts = self._thawed(site, create=True)
        site_counts.update(counts)
        if len(site_counts) > 2 * SITE_KEYS_KEPT:
            documents = site_counts.pop(DOCUMENTS_KEY, 0)
            kept = Counter(dict(site_counts.most_common(SITE_KEYS_KEPT)))
            kept[DOCUMENTS_KEY] = documents
            self.by_site[site] = kept
            self._chrome.pop(site, None)  # worked out again from the kept keys when next asked
        elif site in self._chrome:  # only keys this addition took over the threshold can be new chrome
            crossed = site_chrome_keys({key: total for key, added in counts.items()
                                        if (total := site_counts[key]) >= SITE_CHROME_MIN_DOCS > total - added})
            if crossed:
                self._chrome[site] |= crossed

    def chrome(self, site: str | None) -> frozenset[str]:
        """The site's chrome line keys: :func:`~transforms.chrome.site_chrome_keys` of its counts.

        >>> state = SiteLineCounts()
        >>> state.add("a", {"menu": 2, "share": 1}); sorted(state.chrome("a"))
        []
        >>> state.add("a", {"menu": 1, "share": 2}); sorted(state.chrome("a"))
        ['menu', 'share']
        """
        site = site or ""
        counts = self._thawed(site)
        if counts is None:
            return frozenset()
        found = self._chrome.get(site)
        if found is None:
            found = self._chrome[site] = site_chrome_keys(counts)
        return found

    def documents(self, site: str | None) -> int:
        return self.counts(site)[DOCUMENTS_KEY]

    def counts(self, site: str | None) -> Counter[str]:
        return self._thawed(site or "") or Counter()

    def for_batch(self, sites, *, established_docs: int = 1) -> BatchSites:
        """What a batch of documents from ``sites`` needs, small enough to ship to a worker: the chrome of
        the sites with at least ``established_docs`` documents counted, copies of the others' counts.

        A call begins a batch: the sites no batch used for ``idle_batches`` batches are frozen first.

        >>> state = SiteLineCounts()
        >>> state.add("a", {"": 3, "menu": 3}); state.add("b", {"": 1, "menu": 1})
        >>> state.for_batch(["a", "b", "c"], established_docs=2)
        BatchSites(chrome={'a': frozenset({'menu'})}, counts={'b': Counter({'': 1, 'menu': 1}), 'c': Counter()})
        """
        self._batch += 1
        for site in [site for site, last in self._used.items() if self._batch - last > self.idle_batches]:
            self.frozen[site] = _freeze(self.by_site.pop(site))
            self._chrome.pop(site, None)
            del self._used[site]
        chrome, counts = {}, {}
        for site in sorted({site or "" for site in sites}):
            if self.documents(site) >= established_docs:
                chrome[site] = self.chrome(site)
            else:
                counts[site] = Counter(self.counts(site))
        return BatchSites(chrome=chrome, counts=counts)

    def _thawed(self, site: str, *, create: bool = False) -> Counter[str] | None:
        """The site's Counter, marked used by this batch; None for an unknown site unless ``create``."""
        counts = self.by_site.get(site)
        if counts is None and site in self.frozen:
            counts = Counter(json.loads(zlib.decompress(self.frozen.pop(site))))
        if counts is None and not create:
            return None
        self.by_site[site] = counts = Counter() if counts is None else counts
        self._used[site] = self._batch
        return counts

    def save(self, store: Store, *, force: bool = False) -> None:
        """Fold the deltas into a new base (if there are any, or ``force``): write the base naming them, then
        delete them. The counts in memory must be the committed ones (all of the run's batches committed)."""
        if not self.deltas and not self.stale and not force:
            return
        # Deltas the base folded before but a kill kept from being deleted stay named until they are gone.
        folded = sorted({commit_id for commit_id in self.deltas if commit_id} | set(self.stale))
        base = store.path(*SITE_LINES_DIR, BASE_FILE)
        store.write_bytes(itertools.chain([b'{"folded": ', _json(folded), b', "sites": '], self._json_chunks(), [b"}"]),
                          base)
        crash_point("mid-site-lines-save")
        for commit_id, path in _deltas(store):
            if commit_id in folded:
                store.delete(path)
        store.delete(store.path("state", LEGACY_FILE))
        self.deltas, self.stale = [], []

    def _json_chunks(self) -> Iterator[bytes]:
        """The state as JSON, one site at a time: the same bytes as one ``json.dumps(..., sort_keys=True)`` of
        every site's counts. At 200 sites the file is about 60 MB; as one string and its encoded copy it was the
        flow's peak memory (about 130 MB on top of a commit's own).

        >>> state = SiteLineCounts({"b": Counter({"menu": 2, "": 2})}, {"a": _freeze({"é": 1})})
        >>> data = b"".join(state._json_chunks())
        >>> data == json.dumps({"a": {"é": 1}, "b": {"": 2, "menu": 2}}, ensure_ascii=False).encode("utf-8")
        True
        >>> b"".join(SiteLineCounts()._json_chunks())
        b'{}'
        """
        yield b"{"
        for number, site in enumerate(sorted(self.by_site.keys() | self.frozen.keys())):
            hot = self.by_site.get(site)
            counts = zlib.decompress(self.frozen[site]) if hot is None else _json(hot)
            yield (", " if number else "").encode() + _json(site) + b": " + counts
        yield b"}"


def _read(store: Store, path: str) -> bytes:
    with store.filesystem.open_input_stream(path) as handle:
        return handle.read()


def _deltas(store: Store) -> list[tuple[str, str]]:
    """(commit id, path) of every committed delta, in commit order."""
    found = []
    for info in store.files_under(*SITE_LINES_DIR):
        name = info.base_name
        if name.startswith(DELTA_PREFIX) and name.endswith(DELTA_SUFFIX):
            found.append((name[len(DELTA_PREFIX):-len(DELTA_SUFFIX)], info.path))
    return sorted(found)


def settle(store: Store) -> bool:
    """Fold what killed runs left as deltas (a run with nothing new does this). Returns whether there was any.

    Without a delta or a legacy file to fold, the base is not read: at a few hundred sites it is tens of
    megabytes of JSON, which a run with nothing new would parse (and compress again) for nothing.
    """
    if not _deltas(store) and (store.exists(store.path(*SITE_LINES_DIR, BASE_FILE))
                               or not store.exists(store.path("state", LEGACY_FILE))):
        return False
    state = SiteLineCounts.load(store)
    if not state.deltas and not state.stale:
        return False
    state.save(store)
    return True


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _freeze(counts: Mapping[str, int]) -> bytes:
    return zlib.compress(_json(counts), 1)
