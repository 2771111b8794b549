"""The invariants an output must keep, after a finished run and after a kill at any moment.

``python -m flows.invariants OUT SOURCE...`` prints every broken one (exit 1) or "ok" (exit 0);
``--killed`` checks an output a killed run left, before the next run recovered it. The fault tests
(tests/ops/test_faults.py) run it after every kill and every recovery.

Always (committed state):
- no doc_id twice in articles and quarantine together;
- every input file in the ledger is accounted for, each of its documents exactly once: in articles or
  quarantine (its source_uri), as an exact copy in the story index's ledger (source_uri, with the
  doc_id it copies stored in articles), or by content (the same bytes are stored under another path);
- nothing is stored whose input file is not in the ledger (a commit is all or nothing);
- the story index holds exactly the stored articles.
After a finished run also:
- every input file under the sources is in the ledger with its current size, mtime and SHA-256;
- stories.parquet has every article's story, its article counts add up to the articles table and its
  exact-copy counts to the copies;
- no leftovers: no pending or temporary files, commit records or --full staging folders.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

import pyarrow.dataset as ds
import pyarrow.fs as pafs

from flows.ledger import Ledger, file_sha256, ledger_key
from flows.sources import discover, display_path, read_input
from flows.store import ARTICLES, ARTICLES_SCHEMA, QUARANTINE, QUARANTINE_SCHEMA, STAGING_PREFIX, Store
from flows.stories import STORIES, load_index

# As flows.store names them; spelled out so that the checker reads any version's output on its own.
COMMITS_DIR = ("state", "commits")
PENDING_SUFFIX = ".pending"


def check_output(out: str, sources: list[str], *, killed: bool = False) -> list[str]:
    """Every broken invariant, as a sentence naming the document or file; empty when all hold.

    ``killed``: the output of a killed run (local only). What a reader's glob sees must have no doc_id
    twice; the committed state, which the next run's recovery makes of it (checked on a copy, so the
    output is not changed), must hold every invariant that does not need a finished run.
    """
    if not killed:
        return _check(out, sources, killed=False)
    store = Store.open(out)
    ids = _table(store, ARTICLES, ["doc_id"])["doc_id"] + _table(store, QUARANTINE, ["doc_id"])["doc_id"]
    problems = [f"a reader sees doc_id {doc_id} {n} times" for doc_id, n in Counter(ids).items() if n > 1]
    import shutil
    import tempfile

    from flows import store as storage

    with tempfile.TemporaryDirectory(prefix="newsclean-check-") as scratch:
        copy = os.path.join(scratch, "out")
        shutil.copytree(store.root, copy, symlinks=True)
        recover = getattr(storage, "recover", None)  # versions before the commit record had none
        if recover is not None:
            recover(Store.open(copy))
        problems += _check(copy, sources, killed=True)
    return problems


def _check(out: str, sources: list[str], *, killed: bool) -> list[str]:
    store = Store.open(out)
    articles = _table(store, ARTICLES, ["doc_id", "source_uri", "story_id"])
    quarantine = _table(store, QUARANTINE, ["doc_id", "source_uri"])
    index = load_index(store)
    copies = index.ledger
    article_ids = set(articles["doc_id"])
    problems = _stored_once(articles, quarantine, copies, article_ids)
    places = _places(articles, quarantine, copies)
    for (uri, doc_id), where in places.items():
        if len(where) > 1:
            problems.append(f"{uri} ({doc_id}) is accounted for {len(where)} times: {', '.join(where)}")
    known_ids = set(articles["doc_id"] + quarantine["doc_id"]) | {copy["doc_id"] for copy in copies}
    ledger = Ledger.load(store)
    files = discover(sources)
    cwd = os.getcwd()
    problems += _ledger_accounts_for_inputs(ledger, files, cwd, places, known_ids, killed=killed)

    indexed = Counter(index.doc_ids)
    if set(indexed) != article_ids or any(n > 1 for n in indexed.values()):
        lost = sorted(article_ids - set(indexed))
        extra = sorted(set(indexed) - article_ids)
        problems.append(f"story index vs articles: {len(lost)} articles not indexed, {len(extra)} indexed but not "
                        f"stored, {sum(n > 1 for n in indexed.values())} indexed twice")

    if not killed:
        problems += _check_stories(store, articles, len(copies))
        problems += _leftovers(store)
        for item in files:
            entry = ledger.entries.get(ledger_key(item, cwd))
            if entry is not None and item.problem is None and entry[16:] and \
                    entry[16:].hex() != file_sha256(item.path):
                problems.append(f"{item.location}: the ledger's SHA-256 differs from the file's")
    return problems


def _stored_once(articles: dict, quarantine: dict, copies, article_ids: set[str]) -> list[str]:
    """Each doc_id in one table row at most; an exact copy is no article itself and names a stored one."""
    problems = []
    for doc_id, n in Counter(articles["doc_id"] + quarantine["doc_id"]).items():
        if n > 1:
            problems.append(f"doc_id {doc_id} stored {n} times")
    for copy in copies:
        if copy["doc_id"] in article_ids:
            problems.append(f"exact copy {copy['doc_id']} ({copy['source_uri']}) is stored as an article too")
        if copy["duplicate_of"] not in article_ids:
            problems.append(f"exact copy {copy['source_uri']} names {copy['duplicate_of']}, which is not stored")
    return problems


def _places(articles: dict, quarantine: dict, copies) -> dict[tuple[str, str], list[str]]:
    """(source_uri, doc_id) -> where it is, once per table row and per exact copy."""
    places: dict[tuple[str, str], list[str]] = {}
    for table, rows in (("articles", articles), ("quarantine", quarantine)):
        for doc_id, uri in zip(rows["doc_id"], rows["source_uri"]):
            places.setdefault((uri, doc_id), []).append(table)
    for copy in copies:
        places.setdefault((copy["source_uri"], copy["doc_id"]), []).append("exact copies")
    return places


def _ledger_accounts_for_inputs(ledger: Ledger, files: list, cwd: str, places: dict, known_ids: set[str], *,
                                killed: bool) -> list[str]:
    """Every input in the ledger (after a finished run) with its documents stored somewhere; every stored
    document's input in the ledger (no half-visible commit)."""
    problems = []
    by_key = {ledger_key(item, cwd): item for item in files}
    ledger_uris = set()
    for item in files:
        key = ledger_key(item, cwd)
        if key not in ledger.entries:
            if not killed:
                problems.append(f"{item.location} is not in the ledger after a finished run")
            continue
        ledger_uris.add(display_path(item.location))  # as source_uri spells a name that is not UTF-8
        if not killed and not ledger.unchanged(item, cwd):
            problems.append(f"{item.location}: the ledger's size or mtime differs from the file's")
        for doc in read_input(item):
            if (doc.source_uri, doc.doc_id) not in places and doc.doc_id not in known_ids:
                problems.append(f"{doc.source_uri} ({doc.doc_id}) is in the ledger but accounted for nowhere")
    missing_keys = set(ledger.entries) - set(by_key)
    if missing_keys and not killed:
        problems.append(f"{len(missing_keys)} ledger paths are not among the inputs, e.g. {sorted(missing_keys)[0]}")
    for uri, _ in places:
        path, line = uri.split("#", 1) if "#" in uri else (uri, None)
        # A .jsonl is read in bounded batches and its ledger row goes with the commit of its last line: a run
        # killed between two of its commits has stored its first lines only; the next run reads the rest.
        if path not in ledger_uris and not (killed and line is not None):
            problems.append(f"{uri} is stored but its input is not in the ledger (a half-visible commit)")
    return problems


def _files(store: Store, *parts: str) -> list[pafs.FileInfo]:
    selector = pafs.FileSelector(store.path(*parts), recursive=True, allow_not_found=True)
    return [info for info in store.filesystem.get_file_info(selector) if info.type == pafs.FileType.File]


def _table(store: Store, name: str, columns: list[str]) -> dict[str, list]:
    """The committed rows of a table, as a ``TABLE/**/*.parquet`` glob reads them."""
    files = sorted(info.path for info in _files(store, name)
                   if info.base_name.endswith(".parquet") and not info.base_name.startswith((".", "_")))
    schema = ARTICLES_SCHEMA if name == ARTICLES else QUARANTINE_SCHEMA
    if not files:
        return {column: [] for column in columns}
    return ds.dataset(files, filesystem=store.filesystem, format="parquet", schema=schema).to_table(
        columns=columns).to_pydict()


def _check_stories(store: Store, articles: dict, copies: int) -> list[str]:
    import pyarrow.parquet as pq

    path = store.path(STORIES, f"{STORIES}.parquet")
    if not store.exists(path):
        return ["stories/stories.parquet is missing"] if articles["doc_id"] else []
    with store.filesystem.open_input_file(path) as handle:
        stories = pq.read_table(handle, columns=["story_id", "n_articles", "n_exact_duplicates"]).to_pydict()
    problems = []
    missing = set(articles["story_id"]) - set(stories["story_id"])
    if missing:
        problems.append(f"{sum(s in missing for s in articles['story_id'])} articles' stories are missing from "
                        f"stories.parquet")
    if sum(stories["n_articles"]) != len(articles["doc_id"]):
        problems.append(f"stories.parquet counts {sum(stories['n_articles'])} articles, the table holds "
                        f"{len(articles['doc_id'])}")
    if sum(stories["n_exact_duplicates"]) != copies:
        problems.append(f"stories.parquet counts {sum(stories['n_exact_duplicates'])} exact copies, the index "
                        f"holds {copies}")
    return problems


def _leftovers(store: Store) -> list[str]:
    problems = []
    for table in (ARTICLES, QUARANTINE, "state", STORIES):
        for info in _files(store, table):
            if info.base_name.startswith(".") and info.base_name.endswith((PENDING_SUFFIX, ".tmp")):
                problems.append(f"leftover file {info.path}")
    records = _files(store, *COMMITS_DIR)
    if records:
        problems.append(f"{len(records)} unfinished commit records")
    if store.is_local and any(name.startswith(STAGING_PREFIX) for name in os.listdir(store.root)):
        problems.append("a --full staging folder is left")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.invariants", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", metavar="OUT", help="output folder")
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="the SOURCE arguments of its runs")
    parser.add_argument("--killed", action="store_true", help="the output of a killed run, not yet recovered")
    args = parser.parse_args(argv)
    problems = check_output(args.out, args.sources, killed=args.killed)
    for problem in problems:
        print(problem)
    print("ok" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

