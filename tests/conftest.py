"""Shared fixtures: an isolated Prefect home and server for the session, paths to the seeds."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.cases import ROOT, SEED_ARTICLES, SHARED  # noqa: F401  (re-exported: tests import them from here too)

# Before anything imports prefect: a private PREFECT_HOME so results and the database never leak
# between runs or into the user's home, and the offline/quiet defaults the CLI uses.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="newsclean-prefect-")
from flows.settings import apply_prefect_defaults  # noqa: E402

apply_prefect_defaults()


def pytest_collection_modifyitems(config, items):
    """Tests that read the session's seeds run first, so it is the session's first flow run (report tests
    look its Prefect artifacts up by key); operations tests, which run many flows, last."""
    items.sort(key=lambda item: (item.path.parent.name == "ops",
                                 "seeds_run" not in getattr(item, "fixturenames", ())))


@pytest.fixture(scope="session", autouse=True)
def no_server_left_behind():
    """A local Prefect server that a command started in the session's PREFECT_HOME is stopped at the end (the
    tests that start their own stop them; this catches one a failing test left)."""
    yield
    from flows.server import stop

    stop(Path(os.environ["PREFECT_HOME"]))


@pytest.fixture(scope="session")
def prefect_harness():
    """A real Prefect API (temporary database, local server) for every flow run in the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def seeds_run(prefect_harness, tmp_path_factory):
    """One real clean-news run over the sample articles; tests read its output."""
    from flows.clean_news import clean_news

    out = tmp_path_factory.mktemp("seeds-run")
    summary = clean_news(sources=[str(SEED_ARTICLES)], out=str(out))
    return out, summary


_DIGITS = "zero one two three four five six seven eight nine".split()


def write_corpus(folder: Path, count: int, *, start: int = 0, site: str = "example-news") -> list[Path]:
    """``count`` distinct plain-text articles under ``folder/site``: the seed articles with a numbered lead line."""
    # The two sample articles without site chrome: a lead line added to a page with a header would
    # rightly be cut as chrome, leaving bodies identical (exact duplicates, not stored twice).
    seeds = sorted(SEED_ARTICLES.glob("*.txt"))[3:]
    target = folder / site
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(start, start + count):
        text = seeds[number % len(seeds)].read_text(encoding="utf-8")
        path = target / f"article-{number:05d}.txt"
        # Spelled out and in a full sentence: the stripper learns a site's short repeated lines (digits
        # folded to 0) as chrome, and a body that became identical to another would be an exact duplicate.
        spelled = " ".join(_DIGITS[int(digit)] for digit in str(number))
        # At the top: after the article, the stripper rightly cuts it with the related-stories tail.
        lead = f"The regional desk filed this as report {spelled} in its series on the peacekeeping talks."
        path.write_text(f"{lead}\n\n{text.strip()}\n", encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture
def corpus(tmp_path):
    """A folder with 24 distinct text articles; returns (source folder, output folder)."""
    source = tmp_path / "in"
    write_corpus(source, 24)
    return source, tmp_path / "out"


def read_table(out, table: str = "articles"):
    """A table of a local output as a pyarrow Table (the way an analyst's glob sees it)."""
    import pyarrow.dataset as ds

    from flows.store import ARTICLES_SCHEMA, QUARANTINE_SCHEMA

    folder = Path(out) / table
    schema = ARTICLES_SCHEMA if table == "articles" else QUARANTINE_SCHEMA
    files = sorted(str(p) for p in folder.glob("*/*.parquet")) if folder.exists() else []
    return ds.dataset(files, format="parquet", schema=schema).to_table()


def api_env() -> dict:
    """Environment for a subprocess that should talk to the session's Prefect test server."""
    from prefect.settings import get_current_settings

    env = dict(os.environ)
    env["PREFECT_API_URL"] = str(get_current_settings().api.url)
    env["PYTHONPATH"] = str(ROOT)
    return env
