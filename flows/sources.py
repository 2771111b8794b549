"""Finding input files under the SOURCE arguments and reading them into RawDocuments.

Nothing here raises on bad input: an unreadable file, a truncated .gz or a broken .jsonl
line becomes a RawDocument with ``read_error`` set, so it lands in quarantine with its reason.
"""
from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

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
        if os.path.isfile(root):
            found.setdefault(root, _input_file(root))
            continue
        resolved_root = os.path.realpath(root)
        for folder, dirnames, filenames in os.walk(root, followlinks=False):
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
        stat = os.stat(path)
    except OSError as error:
        return InputFile(path, 0, 0, problem=f"unreadable: {error.strerror or error}")
    return InputFile(path, stat.st_size, stat.st_mtime_ns)


def read_input(item: InputFile, data: bytes | OSError | None = None, sha256: str = "") -> Iterator[RawDocument]:
    """The documents in one input file: one for .txt/.html, one per line for .jsonl.

    ``data`` is the file's bytes (or the error reading them) when the caller has read it already, and
    ``sha256`` their hex digest if known: a plain file's document id is that digest, not hashed again.
    """
    uri = item.location
    site = os.path.basename(os.path.dirname(uri)) or None
    if item.problem:
        yield RawDocument(source_uri=uri, raw=b"", folder_site=site, read_error=item.problem)
        return
    kind = format_of(uri) or "text"
    if data is None:
        data = read_bytes(item)
    if isinstance(data, OSError):
        yield RawDocument(source_uri=uri, raw=b"", folder_site=site, read_error=_os_reason(data))
        return
    if uri.lower().endswith(".gz"):
        sha256 = ""  # of the compressed file, not of the document
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as error:
            reason = "truncated_gzip" if isinstance(error, EOFError) else "bad_gzip"
            yield RawDocument(source_uri=uri, raw=data, folder_site=site, read_error=reason)
            return
    if kind == "jsonl":
        yield from _read_jsonl(uri, data, site)
        return
    yield _sized(RawDocument(source_uri=uri, raw=data, format_hint=kind, folder_site=site, sha256=sha256))


def read_bytes(item: InputFile) -> bytes | OSError:
    """The file's bytes, or the error that kept us from them (reported later as a quarantine reason)."""
    try:
        return item.path.read_bytes()
    except OSError as error:
        return error


def _read_jsonl(uri: str, data: bytes, site: str | None) -> Iterator[RawDocument]:
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        line_uri = f"{uri}#{number}"
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            yield RawDocument(source_uri=line_uri, raw=line, folder_site=site, read_error="bad_json_line")
            continue
        if not isinstance(record, dict):
            yield RawDocument(source_uri=line_uri, raw=line, folder_site=site, read_error="bad_json_line")
            continue
        html, text = record.get("html"), record.get("text")
        content = html if isinstance(html, str) and html.strip() else text
        if not isinstance(content, str):
            yield RawDocument(source_uri=line_uri, raw=line, folder_site=site, read_error="no_text_field")
            continue
        yield _sized(RawDocument(
            source_uri=line_uri,
            raw=content.encode("utf-8", errors="surrogatepass"),
            format_hint="html" if content is html else "text",
            folder_site=site,
            url=_str_or_none(record.get("url")),
            site=_str_or_none(record.get("site")),
            published=_str_or_none(record.get("published")),
            title=_str_or_none(record.get("title")),
        ))


def _sized(doc: RawDocument) -> RawDocument:
    if len(doc.raw) <= MAX_DOCUMENT_BYTES:
        return doc
    return RawDocument(source_uri=doc.source_uri, raw=doc.raw[:TOO_LARGE_RAW_KEPT], format_hint=doc.format_hint,
                       folder_site=doc.folder_site, read_error="too_large")


def _str_or_none(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _os_reason(error: OSError) -> str:
    if isinstance(error, PermissionError):
        return "unreadable: permission denied"
    if isinstance(error, IsADirectoryError):
        return "unreadable: is a directory"
    return f"unreadable: {error.strerror or type(error).__name__}"


def read_sources(sources: Iterable[str | Path]) -> Iterator[RawDocument]:
    """Every document under ``sources``, file by file (for commands that do not need batches)."""
    for item in discover(sources):
        yield from read_input(item)
