"""Validation of each commit by the articles suite, with the GX project built lazily (flow and reports share it)."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from typing import TYPE_CHECKING

import pyarrow.fs as pafs

from flows.report_pages import DATA_DOCS, REPORTS
from flows.store import Store
from transforms.pipeline import References

if TYPE_CHECKING:  # imported where used: GX and pandas cost seconds at start-up
    from expectations.articles import ArticleValidator, SuiteInputs


GX_PROJECT = "gx"  # the GX project (suite, Checkpoint, validation results) under the output


class LazyValidator:
    """The GX validator, built on first use: importing GX costs about 3 s, and a run with nothing new needs none.

    Its GX project is DIR/gx and its Data Docs DIR/reports/data_docs (see ``expectations.articles``). GX
    works on local folders only: for an object store both are copied down to a temporary build folder
    first and copied back up after the Data Docs are built.
    """

    def __init__(self, inputs: SuiteInputs, store: Store):
        self.inputs, self.store = inputs, store
        self.project_root = store.root if store.is_local else tempfile.mkdtemp(prefix="newsclean-gx-")
        self.docs_dir = os.path.join(self.project_root, REPORTS, DATA_DOCS)
        self._validator: ArticleValidator | None = None
        self._preparing: threading.Thread | None = None

    def prepare_in_background(self) -> None:
        """Import GX and build the suite while the workers clean the first batch."""
        self._preparing = threading.Thread(target=self._build, name="newsclean-gx", daemon=True)
        self._preparing.start()

    def _build(self) -> None:
        if self._validator is None:
            from expectations.articles import ArticleValidator

            if not self.store.is_local:
                copy_gx_project(self.store, self.project_root, down=True)
            self._validator = ArticleValidator(self.inputs, docs_dir=self.docs_dir, project_root=self.project_root)

    def _ready(self) -> ArticleValidator:
        if self._preparing is not None:
            self._preparing.join()
            self._preparing = None
        self._build()
        return self._validator

    def validate(self, frame, *, run_name: str | None = None):
        return self._ready().validate(frame, run_name=run_name)

    def validate_rows(self, rows, *, run_name: str | None = None):
        """A verdict per articles-table row (:meth:`ArticleValidator.validate_rows`)."""
        return self._ready().validate_rows(rows, run_name=run_name)

    @property
    def rules(self) -> dict:
        """The suite's rules by name, as the run report lists them."""
        return self._ready().rules

    @property
    def not_checked(self) -> list[str]:
        """What the suite cannot check with this run's seeds, one line each (see ``expectations.articles``)."""
        from expectations.articles import not_checked  # here, not at the top: it imports pandas (0.35 s)

        return not_checked(self.inputs)

    def build_docs(self) -> None:
        """Data Docs with this run's validation results (and the suite page even when nothing was validated)."""
        self._ready().build_docs()
        if not self.store.is_local:
            copy_gx_project(self.store, self.project_root, down=False)
            shutil.rmtree(self.project_root, ignore_errors=True)


def suite_inputs(refs: References) -> SuiteInputs:
    """What the suite needs from the seeds: chrome residue patterns and the alias variants."""
    # residue_regexes is optional so the flow also runs with a lexicon that has none.
    from expectations.articles import SuiteInputs

    residue = getattr(refs.lexicon, "residue_regexes", None)
    return SuiteInputs(chrome_residue=residue() if residue else (), alias_variants=refs.aliases.variants())


def copy_gx_project(store: Store, local_root: str, *, down: bool) -> None:
    """Copy an object-store output's GX project (gx/) and Data Docs between it and a local build folder.

    GX reads and writes local folders only; ``down`` before a run, up after its Data Docs are built.
    """
    local = pafs.LocalFileSystem()
    for part in (GX_PROJECT, f"{REPORTS}/{DATA_DOCS}"):
        remote, here = store.path(*part.split("/")), f"{local_root}/{part}"
        if down:
            if store.filesystem.get_file_info(remote).type == pafs.FileType.Directory:
                pafs.copy_files(remote, here, source_filesystem=store.filesystem, destination_filesystem=local)
        elif local.get_file_info(here).type == pafs.FileType.Directory:
            pafs.copy_files(here, remote, source_filesystem=local, destination_filesystem=store.filesystem)
