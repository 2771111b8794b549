"""Finding input files under the SOURCE arguments and reading them into RawDocuments.

Nothing here raises on bad input: an unreadable file, a truncated .gz or a broken .jsonl
line becomes a RawDocument with ``read_error`` set, so it lands in quarantine with its reason.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from transforms.records import RawDocument

TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl",)
# Documents above this many bytes are quarantined as too_large instead of cleaned: no news
# article is that long, and a runaway input must not stall a batch.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
# Bytes of a too_large document kept in quarantine's `raw` (the file itself stays where it is).
TOO_LARGE_RAW_KEPT = 1024 * 1024


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file found under a SOURCE; ``problem`` is set when it must not be read (a symlink leaving the source).

    The location is the string the file was found under, not a ``Path``: a run lists every input up
    front, and 200,000 ``Path`` objects (each with its list of parts) took 133 MB and most of a
    four-second directory walk.
    """

    location: str
    size: int
    mtime_ns: int
    problem: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.location)


class SourceError(ValueError):
    """A SOURCE argument that does not exist; the message names it."""


def format_of(path: str | Path) -> str | None:
    """``text``, ``html`` or ``jsonl`` from the file name (``.gz`` allowed), None for other files.

    >>> format_of(Path("a/b.HTML.gz")), format_of("x.jsonl"), format_of(Path("x.png"))
    ('html', 'jsonl', None)
    """
    name = os.path.basename(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = os.path.splitext(name)[1]
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    return None


def discover(sources: Iterable[str | Path]) -> list[InputFile]:
    """Every input file under ``sources``, sorted; folders are searched recursively.

    A named file is taken whatever its extension; in folders only known extensions count.
    Symlinks are not followed out of their SOURCE folder: such a link is listed with a problem.
    Locations are spelled as ``Path`` would spell them ("./a/" gives "a/x.txt"), so ledger keys
    and source URIs match those of earlier versions.
    """
    found: dict[str, InputFile] = {}
    for source in sources:
        root = os.path.normpath(os.fspath(source))
        if not os.path.exists(root) and not os.path.islink(root):
            raise SourceError(f"{source}: no such file or folder; check the SOURCE argument")
        if not os.path.isdir(root):  # a file, or a FIFO or device named on the command line
            found.setdefault(root, _input_file(root))
            continue
        resolved_root = os.path.realpath(root)

        def unreadable_folder(error: OSError) -> None:
            # os.walk skips a folder it cannot list; it becomes an input with a problem, so it is counted and reported.
            path = os.path.normpath(error.filename or root)
            why = "permission denied" if isinstance(error, PermissionError) else error.strerror or type(error).__name__
            found.setdefault(path, InputFile(path, 0, 0, problem=f"unreadable_folder: {why}"))

        for folder, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable_folder):
            dirnames.sort()
            linked_dirs = sorted(d for d in dirnames if os.path.islink(os.path.join(folder, d)))
            for name in sorted(filenames) + linked_dirs:
                path = os.path.join(folder, name)
                known = format_of(name) is not None
                is_link = os.path.islink(path)
                if not known and not is_link:
                    continue
                if is_link:
                    target = os.path.realpath(path)
                    if not _within(target, resolved_root):
                        found.setdefault(path, InputFile(path, 0, 0, problem="symlink_outside_source"))
                        continue
                    if os.path.isdir(target) or not known:
                        continue  # the folder inside the source is walked anyway
                found.setdefault(path, _input_file(path))
    return sorted(found.values(), key=lambda item: item.location)


def _within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or inside it (both resolved).

    >>> _within("/a/b/c", "/a/b"), _within("/a/bc", "/a/b"), _within("/a", "/")
    (True, False, True)
    """
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _input_file(path: str) -> InputFile:
    try:
        info = os.stat(path)
    except OSError as error:
        return InputFile(path, 0, 0, problem=f"unreadable: {error.strerror or error}")
    if not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode):
        # Opening a FIFO blocks until a writer comes (forever, holding the output's lock); a device can
        # stream without end. Only regular files are read.
        return InputFile(path, 0, info.st_mtime_ns, problem=f"not_a_regular_file: {_file_kind(info.st_mode)}")
    return InputFile(path, info.st_size, info.st_mtime_ns)


def _file_kind(mode: int) -> str:
    """
    >>> _file_kind(stat.S_IFIFO), _file_kind(stat.S_IFSOCK), _file_kind(stat.S_IFCHR | 0o644)
    ('fifo', 'socket', 'character device')
    """
    kinds = ((stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "folder"))
    return next((name for test, name in kinds if test(mode)), "special file")


def display_path(location: str) -> str:
    """A path as valid Unicode for tables and reports: bytes of a file name that are not UTF-8 (which Python
    keeps as lone surrogates) are written as ``\\xNN``; the real name stays in ``InputFile.location``.

    >>> display_path(os.fsdecode(b"in/caf\\xe9.txt")), display_path("in/café.txt")
    ('in/caf\\\\xe9.txt', 'in/café.txt')
    """
    if not _SURROGATE.search(location):
        return location
    return os.fsencode(location).decode("utf-8", errors="backslashreplace")


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> tuple[str, bool]:
    """``text`` with lone surrogates (which no UTF-8 file, Parquet column or validator accepts) replaced by
    U+FFFD, and whether any was.

    >>> valid_unicode("Flood \\ud800 barrier"), valid_unicode("fine")
    (('Flood \\ufffd barrier', True), ('fine', False))
    """
    if not _SURROGATE.search(text):
        return text, False
    return _SURROGATE.sub("\ufffd", text), True


class NotRegularFile(OSError):
    """An input that is not a regular file by the time it is opened (a FIFO, a device, a socket)."""


@contextmanager
def open_regular(item: InputFile) -> Iterator[BinaryIO]:
    """The file opened for reading, only if it is a regular file: checked on the open descriptor, so a file
    replaced by a FIFO after the directory walk is refused too (and opening never blocks on one)."""
    fd = os.open(item.location, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(f"not_a_regular_file: {_file_kind(mode)}")
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


class _HashingReader(io.RawIOBase):
    """A read-only stream that hashes every byte read through it (the compressed bytes of a .gz)."""

    def __init__(self, stream: BinaryIO):
        self.stream, self.sha256 = stream, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        buffer[:len(data)] = data
        self.sha256.update(data)
        return len(data)


@dataclass
class FileRead:
    """What reading one input file gave: its documents (streamed), then its SHA-256 and document count.

    ``sha256`` is the hex digest of the file's bytes (of the compressed file for a .gz), or "" when the file
    was not read to its end (above the size limit, or unreadable): a run never reads past the limit.
    """

    item: InputFile
    max_document_bytes: int = MAX_DOCUMENT_BYTES
    sha256: str = ""
    documents: int = 0

    @property
    def uri(self) -> str:
        return display_path(self.item.location)

    def content_sha256(self) -> str:
        """The SHA-256 of the whole file, read in chunks (for the ledger's same-content check before parsing a
        .jsonl); "" when it cannot be read."""
        try:
            with open_regular(self.item) as handle:
                return hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError:
            return ""

    def documents_of(self) -> Iterator[RawDocument]:
        """The documents in the file: one for .txt/.html, one per line for .jsonl; counted as they go."""
        for doc in self._documents():
            self.documents += 1
            yield doc

    def _documents(self) -> Iterator[RawDocument]:
        item, uri = self.item, self.uri
        site = os.path.basename(os.path.dirname(uri)) or None
        renamed = ("file_name_escaped",) if uri != item.location else ()
        if item.problem:
            yield RawDocument(source_uri=uri, raw=b"", folder_site=site, read_error=item.problem, repairs=renamed)
            return
        kind = format_of(item.location) or "text"
        gzipped = item.location.lower().endswith(".gz")
        limit = self.max_document_bytes
        try:
            with open_regular(item) as handle:
                hashing = _HashingReader(handle)
                stream = gzip.GzipFile(fileobj=io.BufferedReader(hashing), mode="rb") if gzipped else handle
                if kind == "jsonl":
                    # sha256: the caller hashes a .jsonl whole before parsing it (see content_sha256)
                    yield from _read_jsonl(uri, stream, site, limit, renamed)
                    if not self.documents:  # accounted for like an empty text file, not silently nowhere
                        yield RawDocument(source_uri=uri, raw=b"", folder_site=site, read_error="empty: no JSON lines",
                                          repairs=renamed)
                    return
                data = stream.read(limit + 1)
                if len(data) > limit:
                    yield RawDocument(source_uri=uri, raw=data[:TOO_LARGE_RAW_KEPT], format_hint=kind, folder_site=site,
                                      read_error="too_large", repairs=renamed)
                    return
                if gzipped:
                    hashing.read()  # anything after the last member, so the digest is the whole file's
                    self.sha256 = hashing.sha256.hexdigest()
                    yield RawDocument(source_uri=uri, raw=data, format_hint=kind, folder_site=site, repairs=renamed)
                else:
                    self.sha256 = hashlib.sha256(data).hexdigest()
                    yield RawDocument(source_uri=uri, raw=data, format_hint=kind, folder_site=site,
                                      sha256=self.sha256, repairs=renamed)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            reason = "truncated_gzip" if isinstance(error, EOFError) else "bad_gzip"
            yield RawDocument(source_uri=uri, raw=_head(item, limit), folder_site=site, read_error=reason,
                              repairs=renamed)
        except OSError as error:
            yield RawDocument(source_uri=uri, raw=b"", folder_site=site, read_error=_os_reason(error), repairs=renamed)


def _head(item: InputFile, limit: int) -> bytes:
    """Up to ``limit`` bytes from the start of the file (kept in quarantine for a file that did not decompress)."""
    try:
        with open_regular(item) as handle:
            return handle.read(min(limit, TOO_LARGE_RAW_KEPT) if item.size > limit else limit)
    except OSError:
        return b""


def read_input(item: InputFile, *, max_document_bytes: int = MAX_DOCUMENT_BYTES) -> Iterator[RawDocument]:
    """The documents in one input file: one for .txt/.html, one per line for .jsonl.

    Never more than ``max_document_bytes`` (plus one line of a .jsonl) are held: a larger document is
    quarantined as ``too_large`` with its first TOO_LARGE_RAW_KEPT bytes, and the rest is not read.
    """
    return FileRead(item, max_document_bytes).documents_of()


def read_jsonl_data(uri: str, data: bytes, *, max_document_bytes: int = MAX_DOCUMENT_BYTES) -> Iterator[RawDocument]:
    """The documents of .jsonl bytes held in memory (the Python API's documents), read as a file's lines are."""
    site = os.path.basename(os.path.dirname(uri)) or None
    return _read_jsonl(uri, io.BytesIO(data), site, max_document_bytes)


def read_bytes(item: InputFile, max_bytes: int = MAX_DOCUMENT_BYTES) -> bytes | OSError:
    """Up to ``max_bytes`` of the file's bytes, or the error that kept us from them."""
    try:
        with open_regular(item) as handle:
            return handle.read(max_bytes)
    except OSError as error:
        return error


# Bytes read at a time past the size limit of a .jsonl line, to find where the line ends.
_SKIP_CHUNK = 1024 * 1024


def _read_jsonl(uri: str, stream: BinaryIO, site: str | None, limit: int,
                repairs: tuple[str, ...] = ()) -> Iterator[RawDocument]:
    """One document per line, reading one line at a time (a line above ``limit`` is skipped to its end)."""
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        line_uri = f"{uri}#{number}"
        if len(line) > limit and not line.endswith(b"\n"):
            kept = line[:TOO_LARGE_RAW_KEPT]
            del line
            while True:  # the rest of the line is read and dropped, a chunk at a time
                rest = stream.readline(_SKIP_CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield RawDocument(source_uri=line_uri, raw=kept, folder_site=site, read_error="too_large", repairs=repairs)
            continue
        if not line.strip():
            continue
        yield _jsonl_document(line_uri, line.rstrip(b"\r\n"), site, limit, repairs)


def _jsonl_document(line_uri: str, line: bytes, site: str | None, limit: int,
                    repairs: tuple[str, ...]) -> RawDocument:
    """One .jsonl line as a document; every field made valid Unicode, the URL checked, the size limit applied."""
    def bad(reason: str) -> RawDocument:
        return RawDocument(source_uri=line_uri, raw=line, folder_site=site, read_error=reason, repairs=repairs)

    try:
        record = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return bad("bad_json_line")
    except RecursionError:  # [[[[...]]]] deeper than the interpreter's stack
        return bad("bad_json_line: nested too deeply")
    if not isinstance(record, dict):
        return bad("bad_json_line")
    html, text = record.get("html"), record.get("text")
    content = html if isinstance(html, str) and html.strip() else text
    if not isinstance(content, str):
        return bad("no_text_field")
    is_html = content is html
    fields = {name: _str_or_none(record.get(name)) for name in ("url", "site", "published", "title")}
    fixed = False
    for name, value in fields.items():
        if value is not None:
            fields[name], changed = valid_unicode(value)
            fixed |= changed
    content, changed = valid_unicode(content)
    if fixed or changed:
        repairs = (*repairs, "invalid_unicode")
    if fields["url"] is not None:
        problem = url_problem(fields["url"])
        if problem:
            return bad(f"bad_url: {problem}")
    raw = content.encode("utf-8")
    if len(raw) > limit:
        return RawDocument(source_uri=line_uri, raw=raw[:TOO_LARGE_RAW_KEPT], folder_site=site, read_error="too_large",
                           repairs=repairs)
    return RawDocument(source_uri=line_uri, raw=raw, format_hint="html" if is_html else "text", folder_site=site,
                       repairs=repairs, **fields)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be parsed (the message of urllib's error), None when it can.

    >>> url_problem("http://[::1/x"), url_problem("https://kyivpost.com/a?b=1"), url_problem("http://h:99999/")
    ('Invalid IPv6 URL', None, 'Port out of range 0-65535')
    """
    try:
        parts = urlsplit(url if "//" in url else f"//{url}")
        parts.hostname, parts.port  # noqa: B018 (each may raise on a malformed host or port)
    except ValueError as error:
        return str(error)[:200]
    return None


def _str_or_none(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _os_reason(error: OSError) -> str:
    if isinstance(error, NotRegularFile):
        return str(error)
    if isinstance(error, PermissionError):
        return "unreadable: permission denied"
    if isinstance(error, IsADirectoryError):
        return "unreadable: is a directory"
    return f"unreadable: {error.strerror or type(error).__name__}"


def read_sources(sources: Iterable[str | Path]) -> Iterator[RawDocument]:
    """Every document under ``sources``, file by file (for commands that do not need batches)."""
    for item in discover(sources):
        yield from read_input(item)
