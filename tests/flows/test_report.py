"""The run report: self-contained HTML with charts, JSON/Markdown, Data Docs, Prefect artifacts, rebuild, Chromium."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from flows.report import charts, rebuild_reports, reconcile

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
CHARTS = ("body_length", "removed_share", "per_site", "entities")


def summary_html(seeds_run) -> str:
    return seeds_run[1]["reports"]["html"]


def _page(summary) -> str:
    return Path(summary["reports"]["html"]).read_text(encoding="utf-8")


def test_every_run_writes_html_json_markdown_and_data_docs(seeds_run):
    out, summary = seeds_run
    reports = summary["reports"]
    for key in ("html", "json", "summary", "data_docs", "index"):
        assert Path(reports[key]).is_file(), key
    stored = json.loads(Path(reports["json"]).read_text(encoding="utf-8"))
    assert stored["run_id"] == summary["run_id"] and stored["reconciliation"]["ok"]
    assert summary["run_id"] in (out / "reports" / "index.html").read_text(encoding="utf-8")


def test_report_is_self_contained_with_charts(seeds_run):
    _, summary = seeds_run
    page = _page(summary)
    assert len(re.findall(r'<img src="data:image/svg\+xml;base64,', page)) >= len(CHARTS)
    assert not re.search(r'(src|href)="(https?:)?//', page), "the report must not load anything from the network"
    assert "<link" not in page and "<script src" not in page
    for heading in ("Documents", "Quarantine", "Per site", "Chrome removed", "Names normalized",
                    "Field completeness", "Validation"):
        assert f"<h2>{heading}" in page, heading
    assert f"read {summary['read']:,} = written {summary['written']:,}" in page


def test_figures_come_from_the_stored_rows(seeds_run):
    _, summary = seeds_run
    stored = summary["stored"]
    assert stored["articles_rows"] == summary["written"] and stored["quarantine_rows"] == summary["quarantined"]
    assert stored["field_completeness"]["doc_id"] == 1.0
    assert stored["chrome_lines_removed"] == sum(stored["chrome_by_rule"].values()) > 0
    assert sum(c.get("written", 0) for c in stored["per_site"].values()) == summary["written"]


def test_reconcile_flags_counts_that_do_not_add_up():
    facts = {"articles_rows": 3, "quarantine_rows": 1}
    assert reconcile({"read": 4, "written": 3, "quarantined": 1, "already_stored": 0}, facts)["ok"]
    assert not reconcile({"read": 5, "written": 3, "quarantined": 1, "already_stored": 0}, facts)["ok"]
    assert not reconcile({"read": 4, "written": 4, "quarantined": 0, "already_stored": 0}, facts)["articles_match"]


def test_the_runs_index_reads_only_summaries_that_are_new_or_rewritten(tmp_path):
    """Each run rebuilds reports/index.html; reading every earlier summary again grew with every run (0.46 s at
    5,000 runs). A summary whose size and time stamp are unchanged is listed from reports/.runs-index.json."""
    import os

    from flows.report import RUNS_INDEX_CACHE, write_runs_index
    from flows.store import Store

    reports, store = tmp_path / "reports", Store.open(str(tmp_path))
    reports.mkdir()

    def summary(run_id: str, written: int) -> dict:
        return {"run_id": run_id, "read": written, "written": written, "quarantined": 0, "reports": {},
                "reconciliation": {"ok": True}}

    def write(run_id: str, written: int) -> Path:
        path = reports / f"run-{run_id}.json"
        path.write_text(json.dumps(summary(run_id, written)), encoding="utf-8")
        return path

    def listed() -> dict[str, str]:
        rows = re.findall(r"<tr><td><a href='[^']+'>([^<]+)</a></td><td class=n>([^<]+)</td>",
                          (reports / "index.html").read_text(encoding="utf-8"))
        return dict(rows)

    first, second = write("20261201T000000Z-aaaaaa", 5), write("20261202T000000Z-bbbbbb", 7)
    write_runs_index(store)
    assert listed() == {"20261201T000000Z-aaaaaa": "5", "20261202T000000Z-bbbbbb": "7"}
    # Unchanged size and time stamp: not read again (this one could not be parsed).
    stamp = first.stat()
    first.write_text("x" * stamp.st_size, encoding="utf-8")
    os.utime(first, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    write("20261203T000000Z-cccccc", 9)
    write_runs_index(store)
    assert listed()["20261201T000000Z-aaaaaa"] == "5" and listed()["20261203T000000Z-cccccc"] == "9"
    # Rewritten (another size), named as the one just written, or a damaged cache: read again.
    second.write_text(json.dumps(summary("20261202T000000Z-bbbbbb", 70)), encoding="utf-8")
    write_runs_index(store, latest=summary("20261203T000000Z-cccccc", 90))
    assert listed()["20261202T000000Z-bbbbbb"] == "70" and listed()["20261203T000000Z-cccccc"] == "90"
    write("20261201T000000Z-aaaaaa", 6)
    (reports / RUNS_INDEX_CACHE).write_text("{not json", encoding="utf-8")
    write_runs_index(store)
    assert listed() == {"20261201T000000Z-aaaaaa": "6", "20261202T000000Z-bbbbbb": "70",
                        "20261203T000000Z-cccccc": "9"}


def test_charts_skip_empty_data():
    empty = {"word_counts": [], "removed_shares": [], "per_site": {}, "quarantine_by_reason": {}, "entities": []}
    assert charts(empty) == {}


def test_prefect_artifacts_markdown_table_and_link(seeds_run):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
    by_key = {a.key: a for a in artifacts if a.key}
    assert {"clean-news-summary", "clean-news-counts", "clean-news-report"} <= set(by_key)
    assert by_key["clean-news-summary"].type == "markdown" and by_key["clean-news-counts"].type == "table"
    # Prefect 3 stores a link artifact as Markdown "[text](link)"
    assert f"(file://{summary_html(seeds_run)})" in by_key["clean-news-report"].data


def test_rebuild_reports_from_the_output_alone(seeds_run, tmp_path):
    out, summary = seeds_run
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    shutil.rmtree(copy / "reports")  # everything under reports/ must come back from the Parquet
    result = rebuild_reports(str(copy))
    assert summary["run_id"] in result["runs"] and result["adds_up"]
    page = (copy / "reports" / f"run-{summary['run_id']}.html").read_text(encoding="utf-8")
    assert "the counts add up" in page and page.count("data:image/svg+xml") >= len(CHARTS)
    docs = copy / "reports" / "data_docs" / "index.html"
    assert docs.is_file() and summary["run_id"] in docs.read_text(encoding="utf-8")


def test_report_command_names_a_folder_that_holds_no_output(seeds_run, tmp_path, capsys):
    from flows.cli import main

    missing = tmp_path / "typo"
    assert main(["report", str(missing)]) == 2 and not missing.exists()  # not created on the way
    assert "no articles, quarantine or reports there" in capsys.readouterr().err
    copy = tmp_path / "out"
    shutil.copytree(seeds_run[0], copy)
    assert main(["report", str(copy)]) == 0
    assert "counts add up: yes" in capsys.readouterr().out


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: run scripts/install_chromium.sh")
def test_report_renders_in_headless_chromium(seeds_run, tmp_path):
    _, summary = seeds_run
    url = Path(summary["reports"]["html"]).as_uri()
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    # The page marks itself once loaded: data-rendered="ok:N" when all N chart images decoded.
    dom = subprocess.run([str(CHROMIUM), *flags, "--virtual-time-budget=5000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = re.search(r'data-rendered="([^"]*)"', dom.stdout).group(1)
    assert rendered.startswith("ok:") and int(rendered[3:]) >= len(CHARTS), rendered
    shot = tmp_path / "report.png"
    done = subprocess.run([str(CHROMIUM), *flags, "--window-size=1200,2400", f"--screenshot={shot}", url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.std() > 0.05  # not a blank page


def test_report_after_a_full_run_adds_up(prefect_harness, corpus, capsys):
    """A --full run rebuilds the tables under its own run id: the earlier runs' rows are replaced, not lost,
    and `newsclean report` must not call that a mismatch (it said "counts add up: NO" and exited 1)."""
    from flows.clean_news import clean_news
    from flows.cli import main
    from tests.conftest import write_corpus

    source, out = corpus
    clean_news(sources=[str(source)], out=str(out))
    write_corpus(source, 2, start=100)
    clean_news(sources=[str(source)], out=str(out))
    full = clean_news(sources=[str(source)], out=str(out), full=True)
    result = rebuild_reports(str(out))
    assert len(result["runs"]) == 3 and result["adds_up"]
    stored = json.loads(Path(out / "reports" / f"run-{result['runs'][0]}.json").read_text(encoding="utf-8"))
    assert stored["reconciliation"]["replaced_by"] == full["run_id"]
    assert main(["report", str(out)]) == 0
    assert "counts add up: yes" in capsys.readouterr().out
