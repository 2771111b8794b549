"""Run reports under DIR/reports: one self-contained HTML page per run, JSON and Markdown summaries,
GX Data Docs, an index of runs, and the same summary as Prefect artifacts. The pages themselves (HTML,
Markdown, charts) are drawn by :mod:`flows.report_pages`.

The flow hands over its run summary (what only the flow knows: files skipped, rewrites, timings);
every other figure is computed here from the Parquet the run wrote (rows with the run's ``run_id``),
so the report shows what is stored, and ``newsclean report DIR`` can rebuild it from the output alone.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from flows.report_pages import (DATA_DOCS, REPORTS, TOP_N, charts, index_html, report_html,  # noqa: F401
                                summary_markdown)
from flows.store import ARTICLES, ARTICLES_SCHEMA, QUARANTINE, Store

QUARANTINE_LISTED = 200  # quarantined documents listed one by one in the HTML report
# Columns read back for the figures; bodies and raw bytes are not needed (word_count gives body length).
_ARTICLE_COLUMNS = ("doc_id", "site", "word_count", "removed_share", "chrome", "entities", "warnings", "repairs")
_COMPLETENESS_SKIP = {"warnings", "body", "body_normalized", "chrome"}  # not "fields" a reader fills
_QUARANTINE_COLUMNS = ("doc_id", "source_uri", "stage", "reasons", "site")


# --- what the run stored -----------------------------------------------------------------------

def _table(store: Store, name: str, columns, run_id: str | None = None) -> pa.Table | None:
    batches = list(_batches(store, name, columns, run_id))
    return pa.Table.from_batches(batches) if batches else None


def _batches(store: Store, name: str, columns, run_id: str | None = None) -> Iterator[pa.RecordBatch]:
    """The run's rows of one table, a record batch at a time (a run can hold hundreds of thousands of rows)."""
    folder = store.path(name)
    if not store.table_files(name):  # no table, or only an empty partition folder a killed commit left
        return
    import pyarrow.dataset as ds  # here: it imports pandas (0.2-0.7 s), which a run with nothing new never needs

    dataset = ds.dataset(folder, filesystem=store.filesystem, format="parquet", partitioning="hive",
                         ignore_prefixes=[".", "_"])
    wanted = [c for c in columns if c in dataset.schema.names]
    where = ds.field("run_id") == run_id if run_id else None
    # One batch in memory at a time: the scanner's read-ahead defaults hold dozens of batches of chrome lines.
    yield from dataset.to_batches(columns=wanted, filter=where, batch_size=8192, batch_readahead=0,
                                  fragment_readahead=0)


def _counts(values: pa.Array) -> Counter:
    """How often each value occurs in a flat Arrow array (nulls left out)."""
    return Counter({item["values"].as_py(): item["counts"].as_py() for item in pc.value_counts(values.drop_null())})


def run_facts(store: Store, run_id: str) -> dict:
    """Figures about one run computed from its rows in articles and quarantine, streamed with Arrow compute:
    a run's chrome lines and entities do not fit in memory as Python objects."""
    completeness_columns = [f.name for f in ARTICLES_SCHEMA if f.name not in _COMPLETENESS_SKIP]
    per_site: dict[str, Counter] = {}
    chrome_rules, entities, warnings, repairs = Counter(), Counter(), Counter(), Counter()
    filled: dict[str, int] = {}
    rows, word_counts, removed_shares = 0, [], []
    for batch in _batches(store, ARTICLES, sorted({*_ARTICLE_COLUMNS, *completeness_columns}), run_id):
        rows += batch.num_rows
        sites = pc.fill_null(batch.column("site"), "(unknown)")
        for site, count in _counts(sites).items():
            per_site.setdefault(site, Counter())["written"] += count
        warned = pc.greater(pc.list_value_length(pc.fill_null(batch.column("warnings"), [])), 0)
        for site, count in _counts(pc.filter(sites, warned)).items():
            per_site[site]["with_warnings"] += count
        chrome_rules += _counts(pc.struct_field(pc.list_flatten(batch.column("chrome")), "rule"))
        mentions = pc.list_flatten(batch.column("entities"))
        if len(mentions):
            grouped = pa.table({"name": pc.struct_field(mentions, "name"), "kind": pc.struct_field(mentions, "kind"),
                                "mentions": pc.fill_null(pc.struct_field(mentions, "mentions"), 0)})
            for row in grouped.group_by(["name", "kind"]).aggregate([("mentions", "sum")]).to_pylist():
                entities[(row["name"], row["kind"])] += row["mentions_sum"]
        warnings += _counts(pc.list_flatten(batch.column("warnings")))
        for repair, count in _counts(pc.list_flatten(batch.column("repairs"))).items():
            repairs[_repair_kind(repair)] += count
        for name, count in _filled(batch, completeness_columns).items():
            filled[name] = filled.get(name, 0) + count
        word_counts += pc.fill_null(batch.column("word_count"), 0).to_pylist()
        removed_shares += pc.fill_null(pc.cast(batch.column("removed_share"), pa.float64()), 0.0).to_pylist()
    q_rows = 0
    q_reasons, q_stages, q_listed = Counter(), Counter(), []
    for batch in _batches(store, QUARANTINE, _QUARANTINE_COLUMNS, run_id):
        q_rows += batch.num_rows
        for site, count in _counts(pc.fill_null(batch.column("site"), "(unknown)")).items():
            per_site.setdefault(site, Counter())["quarantined"] += count
        q_reasons += _counts(pc.list_flatten(batch.column("reasons")))
        q_stages += _counts(pc.fill_null(batch.column("stage"), "?"))
        if len(q_listed) < QUARANTINE_LISTED:
            q_listed += [{"source_uri": row["source_uri"], "stage": row.get("stage"), "reasons": list(row.get("reasons") or ())}
                         for row in batch.slice(0, QUARANTINE_LISTED - len(q_listed)).to_pylist()]
    return {
        "articles_rows": rows,
        "quarantine_rows": q_rows,
        "quarantine_by_reason": dict(q_reasons.most_common()),
        "quarantine_by_stage": dict(q_stages.most_common()),
        "per_site": {site: dict(c) for site, c in sorted(per_site.items(), key=lambda kv: -sum(kv[1].values()))},
        "chrome_lines_removed": sum(chrome_rules.values()),
        "chrome_by_rule": dict(chrome_rules.most_common()),
        "warnings_by_rule": dict(warnings.most_common()),
        "repairs": dict(repairs.most_common()),
        "entities": [{"name": n, "kind": k, "mentions": m} for (n, k), m in entities.most_common(TOP_N)],
        "field_completeness": {name: round(filled[name] / rows, 4) for name in completeness_columns
                               if name in filled} if rows else {},
        "word_counts": word_counts,
        "removed_shares": removed_shares,
        "quarantined_documents": q_listed,
    }


def _repair_kind(repair: str) -> str:
    return repair.split(":", 1)[0] if repair.startswith("charset:") else repair


def _filled(batch: pa.RecordBatch, columns: list[str]) -> dict[str, int]:
    """Rows of the batch where each field holds something (not null, not empty, not an empty list)."""
    filled = {}
    for name in columns:
        if name not in batch.schema.names:
            continue
        column = batch.column(name)
        present = pc.is_valid(column)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            present = pc.and_(present, pc.greater(pc.utf8_length(pc.fill_null(column, "")), 0))
        elif pa.types.is_list(column.type):
            present = pc.and_(present, pc.greater(pc.list_value_length(pc.fill_null(column, [])), 0))
        filled[name] = pc.sum(pc.cast(present, pa.int64())).as_py() or 0
    return filled


def reconcile(summary: dict, facts: dict, *, replaced_by: str | None = None) -> dict:
    """Do the counts add up, in the summary and against the stored rows?

    A run whose rows a later ``--full`` run replaced (``replaced_by``) has no rows under its id any more:
    only its own counts are checked.
    """
    accounted = summary["written"] + summary["quarantined"] + summary.get("already_stored", 0)
    read_ok = summary["read"] == accounted
    if replaced_by:
        return {"read_accounted": read_ok, "articles_match": None, "quarantine_match": None,
                "replaced_by": replaced_by, "ok": read_ok}
    return {
        "read_accounted": read_ok,
        "articles_match": summary["written"] == facts["articles_rows"],
        "quarantine_match": summary["quarantined"] == facts["quarantine_rows"],
        "ok": read_ok and summary["written"] == facts["articles_rows"]
        and summary["quarantined"] == facts["quarantine_rows"],
    }


def replaced_by_full_runs(summaries: dict[str, dict]) -> dict[str, str]:
    """Runs whose rows a later ``--full`` run replaced (it rebuilds the tables from the inputs under its own
    run id): run id -> the id of that full run. Run ids sort by their start time.

    >>> replaced_by_full_runs({"1-a": {}, "2-b": {"full": True}, "3-c": {}, "4-d": {"full": True}, "5-e": {}})
    {'1-a': '2-b', '2-b': '4-d', '3-c': '4-d'}
    """
    full_runs = sorted(run_id for run_id, summary in summaries.items() if summary.get("full"))
    replaced = {}
    for run_id in sorted(summaries):
        later = next((full for full in full_runs if full > run_id), None)
        if later:
            replaced[run_id] = later
    return replaced


# --- writing -----------------------------------------------------------------------------------

def rule_rows(rules) -> list[dict]:
    """The suite's rules as the report lists them: name, severity, fields and what checks each."""
    return [{"name": r.name, "severity": r.severity, "fields": list(r.fields), "checked_by": r.checked_by}
            for r in rules]


def _build_data_docs(store: Store, validator) -> str:
    """Data Docs under reports/data_docs with this run's validation results; the suite page always."""
    validator.build_docs()
    return store.path(REPORTS, DATA_DOCS, "index.html")


def _write_text(store: Store, path: str, text: str) -> None:
    store.write_bytes(text.encode("utf-8"), path)


def publish_report(store: Store, summary: dict, rules: list[dict], *, replaced_by: str | None = None) -> dict:
    """Write the run's HTML, JSON and Markdown reports and the runs index; return the summary with paths."""
    run_id = summary["run_id"]
    facts = run_facts(store, run_id)
    summary = {**summary, "reconciliation": reconcile(summary, facts, replaced_by=replaced_by),
               "stored": {k: v for k, v in facts.items() if k not in ("word_counts", "removed_shares")}}
    stem = store.path(REPORTS, f"run-{run_id}")
    summary["reports"] = {
        **summary.get("reports", {}),
        "html": f"{stem}.html", "json": f"{stem}.json", "summary": f"{stem}.md",
        "data_docs": store.path(REPORTS, DATA_DOCS, "index.html"), "data_docs_relative": f"{DATA_DOCS}/index.html",
        "index": store.path(REPORTS, "index.html"),
    }
    _write_text(store, f"{stem}.html", report_html(summary, facts, charts(facts), rules))
    _write_text(store, f"{stem}.json", json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    _write_text(store, f"{stem}.md", summary_markdown(summary))
    write_runs_index(store, latest=summary)
    return summary


# reports/.runs-index.json: each run summary's row of the runs index, with the summary file's size and
# modification time, so that a run reads only the summaries that are new or were rewritten. Reading every
# summary took 0.46 s at 5,000 runs (half a year of hourly runs; loaded machine), more with every run, on top
# of a rerun with nothing new. A cache only: missing or unreadable, it is rebuilt from the summaries.
RUNS_INDEX_CACHE = ".runs-index.json"


def write_runs_index(store: Store, latest: dict | None = None) -> None:
    """reports/index.html from every run's JSON summary; ``latest`` is a summary just written (its row is taken
    from it, whatever the file's time stamp says)."""
    cache_path = store.path(REPORTS, RUNS_INDEX_CACHE)
    cached = _read_runs_cache(store, cache_path)
    entries = {}
    for info in _summary_files(store):
        stamp = [info.size, info.mtime_ns]
        entry = cached.get(info.base_name)
        if latest is not None and info.base_name == f"run-{latest['run_id']}.json":
            entry = {"file": stamp, "row": _index_row(latest)}
        elif entry is None or entry.get("file") != stamp:
            entry = {"file": stamp, "row": _index_row(_read_summary(store, info.path))}
        entries[info.base_name] = entry
    _write_text(store, cache_path, json.dumps(entries, ensure_ascii=False))
    runs = sorted((entry["row"] for entry in entries.values()), key=lambda r: r["run_id"], reverse=True)
    _write_text(store, store.path(REPORTS, "index.html"), index_html(runs))


def _index_row(summary: dict) -> dict:
    # a run that found nothing new has only its JSON summary
    report = f"run-{summary['run_id']}.{'html' if 'html' in summary.get('reports', {}) else 'json'}"
    return {"run_id": summary["run_id"], "report": report, "read": summary["read"], "written": summary["written"],
            "quarantined": summary["quarantined"], "ok": summary.get("reconciliation", {}).get("ok", False)}


def _read_runs_cache(store: Store, path: str) -> dict:
    try:
        with store.filesystem.open_input_stream(path) as handle:
            cached = json.loads(handle.read().decode("utf-8"))
        return cached if isinstance(cached, dict) else {}
    except (OSError, ValueError):  # missing (the first run), or damaged: rebuilt from the summaries
        return {}


def _summary_files(store: Store) -> list:
    selector = pafs.FileSelector(store.path(REPORTS), allow_not_found=True)
    return [info for info in store.filesystem.get_file_info(selector) if info.type == pafs.FileType.File
            and info.base_name.startswith("run-") and info.base_name.endswith(".json")]


def _read_summary(store: Store, path: str) -> dict:
    with store.filesystem.open_input_stream(path) as handle:
        return json.loads(handle.read().decode("utf-8"))


def _stored_summaries(store: Store) -> dict[str, dict]:
    found = {}
    for info in _summary_files(store):
        summary = _read_summary(store, info.path)
        found[summary["run_id"]] = summary
    return found


def publish_artifacts(summary: dict) -> None:
    """The summary as Prefect artifacts (markdown, table, link), when called inside a flow or task run."""
    from prefect.context import FlowRunContext, TaskRunContext

    if FlowRunContext.get() is None and TaskRunContext.get() is None:
        return  # `newsclean report` outside a flow: the files are the report
    from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

    create_markdown_artifact(markdown=summary_markdown(summary), key="clean-news-summary",
                             description="clean-news run summary")
    stored = summary.get("stored", {})
    table = [{"what": "read", "documents": summary["read"]}, {"what": "written", "documents": summary["written"]},
             {"what": "quarantined", "documents": summary["quarantined"]},
             {"what": "already stored", "documents": summary.get("already_stored", 0)}]
    table += [{"what": f"quarantined: {reason}", "documents": n}
              for reason, n in stored.get("quarantine_by_reason", {}).items()]
    table += [{"what": f"site: {site}", "documents": sum(c.values()) - c.get("with_warnings", 0)}
              for site, c in list(stored.get("per_site", {}).items())[:TOP_N]]
    create_table_artifact(table=table, key="clean-news-counts", description="documents by outcome, reason and site")
    target = summary["reports"]["html"]
    link = target if "://" in target else f"file://{target}"
    create_link_artifact(link=link, link_text=f"run report {summary['run_id']}", key="clean-news-report",
                         description="self-contained HTML run report with charts")


def write_run_report(store: Store, summary: dict, validator) -> dict:
    """Data Docs, the HTML/JSON/Markdown run report and Prefect artifacts; return the summary with report paths.

    ``validator``: the run's :class:`flows.validation.LazyValidator` or an ``ArticleValidator`` (both give
    ``rules``, ``not_checked`` and ``build_docs``)."""
    store.filesystem.create_dir(store.path(REPORTS), recursive=True)
    _build_data_docs(store, validator)
    summary = {**summary, "not_checked": list(validator.not_checked)}
    summary = publish_report(store, summary, rule_rows(validator.rules.values()))
    publish_artifacts(summary)
    return summary


def rebuild_reports(out: str, *, seeds: str | None = None) -> dict:
    """``newsclean report DIR``: rebuild every run's report and the Data Docs from the stored output.

    Figures the flow alone knew (files skipped, rewrites, timings) come from the run's earlier JSON
    summary when it exists; everything else is recomputed from Parquet. Data Docs are rebuilt by
    validating each run's stored rows again with the current seeds.
    """
    store = Store.open(out)
    previous = _stored_summaries(store)
    run_ids = sorted(set(previous) | _stored_run_ids(store))
    replaced = replaced_by_full_runs(previous)
    validator = _revalidate(store, run_ids, seeds)
    rules = rule_rows(validator.rules.values())
    rebuilt = []
    for run_id in run_ids:
        summary = previous.get(run_id) or _summary_from_store(store, run_id, out)
        summary = {**summary, "not_checked": list(validator.not_checked),
                   "rebuilt_at": datetime.now(timezone.utc).isoformat()}
        rebuilt.append(publish_report(store, summary, rules, replaced_by=replaced.get(run_id)))
    return {"out": out, "runs": [s["run_id"] for s in rebuilt], "index": store.path(REPORTS, "index.html"),
            "data_docs": store.path(REPORTS, DATA_DOCS, "index.html"),
            "adds_up": all(s["reconciliation"]["ok"] for s in rebuilt)}


def _stored_run_ids(store: Store) -> set[str]:
    ids: set[str] = set()
    for name in (ARTICLES, QUARANTINE):
        table = _table(store, name, ["run_id"])
        if table is not None:
            ids.update(v for v in pc.unique(table.column("run_id")).to_pylist() if v)
    return ids


def _summary_from_store(store: Store, run_id: str, out: str) -> dict:
    """A run summary from its rows alone (its JSON summary is gone): flow-only figures are unknown."""
    facts = run_facts(store, run_id)
    return {"run_id": run_id, "out": out, "sources": [], "read": facts["articles_rows"] + facts["quarantine_rows"],
            "written": facts["articles_rows"], "quarantined": facts["quarantine_rows"], "already_stored": 0,
            "quarantine_reasons": facts["quarantine_by_reason"], "rule_failures": {}, "rewrites": [],
            "seconds": None, "ingested_at": ""}


def _revalidate(store: Store, run_ids: list[str], seeds: str | None):
    """Data Docs rebuilt from the GX project's stored validation results; runs with none stored (an output
    made before the project existed, or whose gx/ was removed) are validated again from their stored rows."""
    from expectations.articles import ArticleValidator, validation_frame
    from flows.seeds import load_references
    from flows.validation import copy_gx_project, suite_inputs

    # GX works on local folders only: for an object store the project is built in a temporary one
    local_root = store.root if store.is_local else tempfile.mkdtemp(prefix="newsclean-gx-")
    if not store.is_local:
        copy_gx_project(store, local_root, down=True)
    docs_dir = f"{local_root}/{REPORTS}/{DATA_DOCS}"
    validator = ArticleValidator(suite_inputs(load_references(seeds)), docs_dir=docs_dir, project_root=local_root)
    stored = {key.run_id.run_name for key in validator.context.validation_results_store.list_keys()}
    for run_id in run_ids:
        rows = _validation_rows(store, run_id) if run_id not in stored else None
        if rows:
            validator.validate(validation_frame(rows), run_name=run_id)
    shutil.rmtree(docs_dir, ignore_errors=True)
    validator.build_docs(everything=True)
    if not store.is_local:
        store.filesystem.delete_dir_contents(store.path(REPORTS, DATA_DOCS), missing_dir_ok=True)
        copy_gx_project(store, local_root, down=False)
        shutil.rmtree(local_root, ignore_errors=True)
    return validator


def _validation_rows(store: Store, run_id: str) -> list[dict]:
    """The rows the run validated: its articles plus what validation sent to quarantine."""
    names = [f.name for f in ARTICLES_SCHEMA]
    articles = _table(store, ARTICLES, names, run_id)
    rows = articles.to_pylist() if articles is not None else []
    quarantine = _table(store, QUARANTINE, names + ["stage"], run_id)
    for row in quarantine.to_pylist() if quarantine is not None else []:
        if row.pop("stage", None) == "validate":
            rows.append({name: row.get(name) for name in names})
    return rows
