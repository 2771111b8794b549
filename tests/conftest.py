"""Shared fixtures: an isolated Prefect home and server for the session, paths to the seeds."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED_ARTICLES = ROOT / "seeds" / "articles"
SHARED = ROOT.parent / "shared"

# Before anything imports prefect: a private PREFECT_HOME so results and the database never leak
# between runs or into the user's home, and the offline/quiet defaults the CLI uses.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="newsclean-prefect-")
from flows.settings import apply_prefect_defaults  # noqa: E402

apply_prefect_defaults()


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
