"""The GX project under the output: saved suite, Checkpoint and validation results; Data Docs that list every
run by its run id, render legibly offline in headless Chromium, and never run script from a document."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import write_corpus

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: run scripts/install_chromium.sh")

# Runs script when inserted as HTML: marks the page and renames it. Escaped, it is text on the page.
MARKER = "data-pwned"
PAYLOAD = f"<img src=x onerror=\"document.body.setAttribute('{MARKER}','1');document.title='PWNED'\">"


@pytest.fixture(scope="module")
def two_runs(prefect_harness, tmp_path_factory):
    """Two runs on one output; the second brings documents whose title, site and URL are an XSS payload
    (each fails a suite check, so its value is shown in Data Docs)."""
    from flows.clean_news import clean_news

    root = tmp_path_factory.mktemp("data-docs")
    source, out = root / "in", root / "out"
    write_corpus(source, 4)
    first = clean_news(sources=[str(source)], out=str(out))
    body = (source / "example-news" / "article-00001.txt").read_text(encoding="utf-8")
    hostile = {"text": "A different lead for this copy of the report.\n\n" + body, "title": PAYLOAD + " " + "t" * 400,
               "site": PAYLOAD, "url": PAYLOAD}
    (source / "hostile.jsonl").write_text(json.dumps(hostile) + "\n", encoding="utf-8")
    write_corpus(source, 2, start=10)
    second = clean_news(sources=[str(source)], out=str(out))
    return out, first, second


def _validation_pages(out: Path, run_id: str) -> list[Path]:
    return sorted((out / "reports" / "data_docs" / "validations" / "articles" / run_id).glob("*/*.html"))


def test_the_gx_project_lives_under_the_output(two_runs):
    out, first, second = two_runs
    gx = out / "gx"
    assert (gx / "great_expectations.yml").is_file()
    suite = json.loads((gx / "expectations" / "articles.json").read_text(encoding="utf-8"))
    columns = {e["kwargs"].get("column") for e in suite["expectations"]}
    assert "body" in columns and not columns & {"body_chars", "alias_candidates", "body_short_lines"}
    assert json.loads((gx / "checkpoints" / "articles.json").read_text(encoding="utf-8"))["name"] == "articles"
    for summary in (first, second):  # every commit's validation result is kept, under its run's id
        results = list((gx / "uncommitted" / "validations" / "articles" / summary["run_id"]).glob("*/*.json"))
        assert results, summary["run_id"]
        stored = json.loads(results[0].read_text(encoding="utf-8"))
        assert stored["meta"]["run_id"]["run_name"] == summary["run_id"]
        assert stored["meta"]["active_batch_definition"]["data_asset_name"] == "articles"


def test_the_project_is_reused_not_created_again(two_runs, tmp_path):
    """A third validator on the same project (as a third run would open it) adds to the history."""
    from expectations.articles import ArticleValidator, SuiteInputs, validation_frame
    from tests.expectations.test_articles_suite import good_row

    out = tmp_path / "out"
    shutil.copytree(two_runs[0], out)
    for run in ("again-1", "again-2"):
        validator = ArticleValidator(SuiteInputs(), docs_dir=str(out / "reports" / "data_docs"), project_root=str(out))
        assert validator.validate(validation_frame([good_row(0)]), run_name=run).critical == {}
        validator.build_docs()
    index = (out / "reports" / "data_docs" / "index.html").read_text(encoding="utf-8")
    for run in (two_runs[1]["run_id"], two_runs[2]["run_id"], "again-1", "again-2"):
        assert run in index
    assert list(validator.context.get_config().data_docs_sites) == ["newsclean"]  # GX's default site dropped


@pytest.mark.parametrize("run_id", ["20261207T154048Z-6380ad", "20261207T154048Z-0130ff", "not-a-run-id"])
def test_any_run_id_is_a_valid_gx_run_name(tmp_path, run_id):
    """GX reads a run name it is not given a time for as a date: ``...Z-6380ad`` became a UTC offset of -63:80 and
    failed the commit (seen in a full test run, about one run in ten). The run's start time is passed instead."""
    from expectations.articles import ArticleValidator, SuiteInputs, validation_frame
    from tests.expectations.test_articles_suite import good_row

    validator = ArticleValidator(SuiteInputs(), docs_dir=str(tmp_path / "docs"), project_root=str(tmp_path))
    assert validator.validate(validation_frame([good_row(0)]), run_name=run_id).critical == {}
    stored = list((tmp_path / "gx" / "uncommitted" / "validations" / "articles" / run_id).glob("*/*.json"))
    assert len(stored) == 1
    if run_id[0].isdigit():  # stored under the run's start time (``...Z-0130ff`` was read as 13:48 at offset +01:30)
        assert stored[0].parent.name.startswith("20261207T154048")


@pytest.mark.parametrize("removed", [("reports",), ("reports", "gx")], ids=["docs", "docs-and-project"])
def test_report_rebuilds_data_docs_from_the_project_or_the_stored_rows(two_runs, tmp_path, removed):
    """`newsclean report`: from the stored validation results; with gx/ gone, by validating the stored rows."""
    from flows.report import rebuild_reports

    out = tmp_path / "out"
    shutil.copytree(two_runs[0], out)
    for name in removed:
        shutil.rmtree(out / name)
    result = rebuild_reports(str(out))
    assert result["adds_up"]
    index = (out / "reports" / "data_docs" / "index.html").read_text(encoding="utf-8")
    for summary in two_runs[1:]:
        assert f"{summary['run_id']}" in index and _validation_pages(out, summary["run_id"])
    results = list((out / "gx" / "uncommitted" / "validations" / "articles").glob("*/*/*.json"))
    assert len({path.parent.parent.name for path in results}) == 2  # one set per run, none added twice


def test_data_docs_index_lists_every_run_by_its_run_id(two_runs):
    out, first, second = two_runs
    index = (out / "reports" / "data_docs" / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr>(.*?)</tr>", index, flags=re.S)
    for summary in (first, second):
        row = next(r for r in rows if f">{summary['run_id']}<" in r.replace("\n", "").replace(" ", ""))
        assert "articles" in row  # the data asset
        assert _validation_pages(out, summary["run_id"])
    # no script, stylesheet or image from a CDN: offline the index listed nothing (a script built its table)
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', index)


def test_values_from_documents_are_escaped_in_data_docs(two_runs):
    """Without a browser: the payload is never in a page as markup, only escaped."""
    out, _, second = two_runs
    pages = [out / "reports" / "data_docs" / "index.html", *_validation_pages(out, second["run_id"])]
    shown = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<img src=x" not in text, page
        shown += text.count("&lt;img src=x")
    assert shown >= 1  # the hostile site or URL is shown, as text


def _dump_dom(url: str, profile: Path) -> str:
    done = subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                           "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _screenshot(url: str, shot: Path, profile: Path, height: int = 1600):
    done = subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size=1200,{height}",
                           f"--screenshot={shot}", url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    from matplotlib.image import imread

    return imread(shot)


@needs_chromium
def test_data_docs_render_legibly_in_headless_chromium(two_runs, tmp_path):
    out, first, second = two_runs
    index = out / "reports" / "data_docs" / "index.html"
    dom = _dump_dom(index.as_uri(), tmp_path / "profile")
    text = re.sub(r"<[^>]+>", " ", dom)  # what a reader sees: both runs, by run id, with the asset
    assert first["run_id"] in text and second["run_id"] in text and "articles" in text
    pixels = _screenshot(index.as_uri(), tmp_path / "index.png", tmp_path / "profile")
    assert pixels.std() > 0.05  # not a blank page
    page = _validation_pages(out, first["run_id"])[0]
    dom = _dump_dom(page.as_uri(), tmp_path / "profile")
    assert first["run_id"] in dom and re.search(r"Data asset:\s*articles", re.sub(r"<[^>]+>", " ", dom))
    pixels = _screenshot(page.as_uri(), tmp_path / "validation.png", tmp_path / "profile", height=2400)
    assert pixels.std() > 0.05
    # text in more than a band of the page: rows of tables, not one line
    dark_rows = (pixels[..., :3].mean(axis=2) < 0.5).any(axis=1)
    assert dark_rows.sum() > 200


@needs_chromium
def test_no_script_from_a_document_runs_in_any_report_page(two_runs, tmp_path):
    out, _, second = two_runs
    pages = [out / "reports" / "data_docs" / "index.html", *_validation_pages(out, second["run_id"]),
             Path(second["reports"]["html"]), out / "reports" / "index.html"]
    shown = 0
    for page in pages:
        dom = _dump_dom(page.as_uri(), tmp_path / "profile")
        assert MARKER + '="1"' not in dom and "<title>PWNED" not in dom, page
        shown += dom.count("&lt;img src=x")
    assert shown >= 2  # the payload is on the pages, as text
