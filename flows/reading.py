"""Reading the run's input files into bounded batches of documents, streamed.

A batch holds at most ``max_docs`` documents and about ``max_bytes`` bytes of them, however the inputs are
shaped: a .jsonl of millions of lines is spread over as many batches as it needs (its ledger row goes with
the batch holding its last line), and no file is read past the size limit of one document. Memory is thus
bounded by a batch, whatever the sizes on disk (a sparse 3 GB file, a gzip bomb).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from flows.ledger import Ledger, LedgerRow, ledger_key
from flows.sources import MAX_DOCUMENT_BYTES, FileRead, InputFile, format_of
from transforms.records import RawDocument


@dataclass
class ReadBatch:
    docs: list[RawDocument]
    ledger_rows: list[LedgerRow]
    files: list[InputFile] = field(default_factory=list)  # the files whose last document is in this batch
    unchanged_content: int = 0  # files whose stat changed but whose bytes did not


class BatchReader:
    """The documents of ``files`` that are new or changed, as :class:`ReadBatch` es, one per :meth:`next_batch`.

    ``done`` turns true once the batch holding the last document has been returned (one document is read
    ahead to know it).
    """

    def __init__(self, files: list[InputFile], ledger: Ledger, *, max_docs: int, max_bytes: int,
                 max_document_bytes: int = MAX_DOCUMENT_BYTES):
        self.ledger, self.max_docs, self.max_bytes = ledger, max(1, max_docs), max_bytes
        self.max_document_bytes = max_document_bytes
        self._files = iter(files)
        self._current: tuple[FileRead, Iterator[RawDocument]] | None = None
        self._ahead: RawDocument | None = None
        self._batch = ReadBatch(docs=[], ledger_rows=[])
        self.done = not files

    def next_batch(self) -> ReadBatch:
        batch, size = self._batch, 0
        if self._ahead is not None:
            batch.docs.append(self._ahead)
            size += len(self._ahead.raw)
            self._ahead = None
        while len(batch.docs) < self.max_docs and size < self.max_bytes and len(batch.files) < self.max_docs:
            doc = self._next_document()
            if doc is None:
                break
            batch.docs.append(doc)
            size += len(doc.raw)
        self._ahead = self._next_document()  # may finish files: their rows belong to this batch
        self.done = self._ahead is None
        self._batch = ReadBatch(docs=[], ledger_rows=[])
        return batch

    def _next_document(self) -> RawDocument | None:
        """The next document, finishing (and recording in the batch being filled) every file it passes."""
        while True:
            if self._current is None:
                item = next(self._files, None)
                if item is None:
                    return None
                self._current = self._open(item)
                if self._current is None:
                    continue
            read, documents = self._current
            doc = next(documents, None)
            if doc is not None:
                return doc
            self._finish(read)

    def _open(self, item: InputFile) -> tuple[FileRead, Iterator[RawDocument]] | None:
        """Start reading a file; None when its bytes hash as its ledger row says (recorded, not parsed)."""
        read = FileRead(item, self.max_document_bytes)
        if format_of(item.location) == "jsonl" and not item.problem:
            read.sha256 = read.content_sha256()  # hashed whole (in chunks) before any line is parsed
            if read.sha256 and self.ledger.same_content(ledger_key(item), read.sha256):
                self._finish(read, unchanged=True)
                return None
        documents = read.documents_of()
        if format_of(item.location) != "jsonl" and not item.problem:
            # A single-document file is read whole (within the limit) by its first document: its digest is known.
            doc = next(documents, None)
            if read.sha256 and self.ledger.same_content(ledger_key(item), read.sha256):
                self._finish(read, unchanged=True)
                return None
            documents = iter(() if doc is None else (doc,))
        return read, documents

    def _finish(self, read: FileRead, *, unchanged: bool = False) -> None:
        batch = self._batch
        batch.files.append(read.item)
        batch.unchanged_content += unchanged
        batch.ledger_rows.append(LedgerRow(ledger_key(read.item), read.item.size, read.item.mtime_ns, read.sha256,
                                           0 if unchanged else read.documents))
        self._current = None
