"""The package: a built wheel holds the code and the seed tables, and runs from any folder once installed."""
from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEED_ARTICLES, api_env

BIN = Path(sys.executable).parent
PACKAGES = ("flows", "transforms", "expectations", "newsclean")


def _tracked(*paths: str) -> list[str]:
    listed = subprocess.run(["git", "ls-files", *paths], cwd=ROOT, capture_output=True, text=True, check=True)
    return listed.stdout.split()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip install .` would build: uv builds the sdist, then the wheel from the sdist."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([str(BIN / "uv"), "build", "--quiet", "--out-dir", str(out), str(ROOT)], check=True,
                   capture_output=True, timeout=300)
    return next(out.glob("newsclean-*.whl"))


def test_the_wheel_holds_every_module_and_seed_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    # Every file of the packages, data too (a new data folder must be named in pyproject's package-data).
    files = _tracked(*PACKAGES)
    assert any(path.endswith(".py") for path in files) and not [path for path in files if path not in names]
    seeds = _tracked("seeds")
    assert any(path.endswith(".csv") for path in seeds) and any("/articles/" in path for path in seeds)
    assert not [path for path in seeds if f"newsclean/{path}" not in names]
    assert "newsclean/py.typed" in names
    templates = _tracked("expectations/data_docs_templates")  # Data Docs pages render from these
    assert templates and not [path for path in templates if path not in names]


def test_the_installed_wheel_cleans_the_sample_articles_from_another_folder(wheel, tmp_path, prefect_harness):
    """A fresh virtualenv with only the wheel installed (its dependencies come from this one's site-packages
    through a .pth file: a full install from the registry takes 30 s or more) runs from a folder that is not
    the checkout; before the seeds were package data it failed with 'seed table not found'."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "newsclean-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(BIN / "uv"), "pip", "install", "--quiet", "--no-deps", "--python", str(python), str(wheel)],
                   check=True, capture_output=True, timeout=300)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = api_env()
    env.pop("PYTHONPATH")  # nothing from the checkout: only what the wheel installed
    env.pop("NEWSCLEAN_SEEDS", None)

    def newsclean(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(venv / "bin" / "newsclean"), *args], cwd=elsewhere, env=env, capture_output=True,
                              text=True, timeout=600)

    assert newsclean("--version").stdout.strip() == "newsclean 0.1.0"
    where = subprocess.run([str(python), "-c", "import flows.seeds, newsclean; "
                            "print(flows.seeds.DEFAULT_SEEDS_DIR); print(newsclean.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(path.startswith(site) for path in where), where  # the installed copy, not the checkout's

    run = newsclean("run", str(SEED_ARTICLES), "--out", "out", "--workers", "1")
    assert run.returncode == 0, run.stderr[-3000:]
    import duckdb

    glob = elsewhere / "out" / "articles" / "**" / "*.parquet"
    assert duckdb.sql(f"select count(*) from read_parquet('{glob}')").fetchall() == [(5,)]

    api = subprocess.run([str(python), "-c", "from newsclean import clean_text; "
                          "print(clean_text('Home | News\\n\\nThe council approved the budget on Monday.')['body'])"],
                         cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert api.stdout.strip() == "The council approved the budget on Monday.", api.stderr[-2000:]
