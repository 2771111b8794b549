"""`--out` that cannot take an output is refused with one line naming the fix, before any work starts."""
from __future__ import annotations

import pytest

from flows.cli import main
from tests.conftest import SEED_ARTICLES, read_table


@pytest.mark.parametrize("table", ["articles", "articles/dt=2026-01-01", "state", "reports"])
def test_out_inside_an_existing_output_is_refused(seeds_run, table, capsys):
    """It used to write a second output among the first one's files; DuckDB and pandas then failed on the table."""
    out, _ = seeds_run
    before = sorted(path.relative_to(out) for path in out.rglob("*"))
    assert main(["run", str(SEED_ARTICLES), "--out", str(out / table)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"is inside the output folder {out} (its {table.split('/')[0]}/)" in error
    assert sorted(path.relative_to(out) for path in out.rglob("*")) == before  # nothing written, nothing created
    assert read_table(out).num_rows == 5


def test_out_that_is_a_file_or_cannot_be_written_is_one_line(tmp_path, capsys):
    """Each used to end in a 15-line pyarrow traceback (FileExistsError, NotADirectoryError, FileNotFoundError)."""
    afile = tmp_path / "notes.txt"
    afile.write_text("not a folder")
    cases = {str(afile): "is a file, not a folder", str(afile / "out"): "is a file, not a folder",
             "/proc/newsclean-out": "cannot write there"}  # /proc takes no new folder, not even from root
    for out, reason in cases.items():
        assert main(["run", str(SEED_ARTICLES), "--out", out]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and error.startswith(f"newsclean: --out {out}") and reason in error, error
