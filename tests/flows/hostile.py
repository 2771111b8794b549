"""A generator of hostile inputs: every kind of input that once crashed, hung or blocked a run.

``build_hostile_folder(folder)`` writes them under ``folder`` and returns one :class:`Case` per input
path, with where it must end (``articles`` or ``quarantine``) and, for a quarantined one, a reason it
must carry. The kinds of ``tests/goldens/bad_inputs`` are included (their committed files are copied,
the generated ones made by the same functions). Anyone can rerun them::

    .venv/bin/python -m tests.flows.hostile /tmp/hostile      # writes the folder and lists the cases
    .venv/bin/newsclean run /tmp/hostile --out /tmp/hostile-out

The cases that only the kernel can make real for a non-root user (an unreadable folder) are listed
with ``simulate`` set: the test makes the kernel's answer for them (tests run as root, which reads
anything).
"""
from __future__ import annotations

import gzip
import json
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.cases import ROOT  # noqa: E402
BAD_INPUTS = ROOT / "tests" / "goldens" / "bad_inputs"
PROSE = (BAD_INPUTS / "files" / "nul_bytes.txt").read_bytes().replace(b"\x00", b"")


@dataclass(frozen=True)
class Case:
    label: str
    path: str  # the input path as the run names it in source_uri (a .jsonl line: path#line)
    expect: str  # "articles" or "quarantine"
    reason: str = ""  # a quarantine reason that must be among the row's reasons (a prefix is enough)
    repair: str = ""  # a repair that must be among the article's repairs
    simulate: str = ""  # how the test makes this case real (see the module docstring)


def _prose(tag: str) -> str:
    """Distinct article text per case, so no two cases are exact copies of each other."""
    text = PROSE.decode("utf-8")
    return f"The river desk filed this report about {tag} on Thursday.\n\n{text}"


def _jsonl_line(tag: str, **fields) -> str:
    return json.dumps({"text": _prose(tag), **fields})


def gzip_bomb(path: Path, *, compressed_mb: float = 2.0) -> int:
    """A .txt.gz of zeros whose compressed size is about ``compressed_mb``; returns the decompressed size."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip container
    zeros = bytes(1 << 20)
    written = expanded = 0
    with path.open("wb") as handle:
        while written < compressed_mb * 1024 * 1024:
            chunk = packer.compress(zeros)
            handle.write(chunk)
            written += len(chunk)
            expanded += len(zeros)
        handle.write(packer.flush())
    return expanded


def sparse_file(path: Path, size: int) -> None:
    """A file of ``size`` bytes that takes no disk space (a hole): reading it costs memory, not disk."""
    with path.open("wb") as handle:
        handle.truncate(size)


def build_hostile_folder(folder: Path, *, bomb_mb: float = 0.25, sparse_bytes: int = 600 * 1024 * 1024) -> list[Case]:
    """Write every hostile input under ``folder`` (created) and return the cases."""
    from tests.flows.test_bad_inputs import CASES as BAD_CASES, GENERATORS

    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def add(label: str, name: str, expect: str, reason: str = "", repair: str = "", simulate: str = "",
            line: int | None = None) -> None:
        path = os.path.join(folder, name)
        cases.append(Case(label, f"{path}#{line}" if line else path, expect, reason, repair, simulate))

    # The bad inputs of issue 6, in a sub-folder of their own (their names are fixed by the goldens).
    bad = folder / "bad_inputs"
    bad.mkdir(exist_ok=True)
    for case in BAD_CASES:
        name = case["file"].split("#")[0]
        target = bad / name
        if not (target.exists() or target.is_symlink()):
            if case.get("generate") == "symlink_outside":  # its target beside the source folder, not inside it
                outside = folder.parent / "outside"
                outside.mkdir(exist_ok=True)
                (outside / "secret.txt").write_bytes(b"This file lives outside the SOURCE and must never be read.\n")
                target.symlink_to(outside / "secret.txt")
            elif case.get("generate"):
                GENERATORS[case["generate"]](target)
            else:
                target.write_bytes((BAD_INPUTS / "files" / name).read_bytes())
        simulate = "permission_denied" if case.get("generate") == "unreadable" else ""
        add(case["label"], f"bad_inputs/{case['file']}", case["expect"], case.get("reason", ""), simulate=simulate)

    # Fields of a .jsonl line that once crashed the whole run.
    (folder / "ipv6_url.jsonl").write_text(_jsonl_line("a broken IPv6 URL", url="http://[::1/x") + "\n")
    add("url with a broken IPv6 host", "ipv6_url.jsonl", "quarantine", reason="bad_url", line=1)
    for field in ("site", "title", "url"):
        # json.dumps would escape the lone surrogate as \ud800 anyway; written by hand to be sure.
        value = {"site": "river\\ud800news.example", "title": "Flood \\ud800 barrier",
                 "url": "https://river-news.example/a/\\ud800"}[field]
        line = '{"text": %s, "%s": "%s"}\n' % (json.dumps(_prose(f"a lone surrogate in {field}")), field, value)
        (folder / f"surrogate_{field}.jsonl").write_text(line, encoding="ascii")
        add(f"lone surrogate in a .jsonl {field}", f"surrogate_{field}.jsonl", "articles", repair="invalid_unicode",
            line=1)
    (folder / "surrogate_text.jsonl").write_text(
        '{"text": %s}\n' % json.dumps(_prose("a lone surrogate \ud800 in the text")), encoding="ascii")
    add("lone surrogate in a .jsonl text", "surrogate_text.jsonl", "articles", repair="invalid_unicode", line=1)
    (folder / "deep_arrays.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n" + _jsonl_line("deep arrays") + "\n")
    add(".jsonl line of 100,000 nested arrays", "deep_arrays.jsonl", "quarantine", reason="bad_json_line", line=1)
    add(".jsonl good line after the nested arrays", "deep_arrays.jsonl", "articles", line=2)
    (folder / "bad_date.jsonl").write_text(
        _jsonl_line("an impossible date", published="99999-99-99T99:99:99+99:99") + "\n"
        + _jsonl_line("a date as a number", published=12) + "\n"
        + _jsonl_line("the first day of year one", published="0001-01-01T00:00:00+05:00") + "\n"
        + _jsonl_line("the last second of year 9999", published="9999-12-31T23:59:59-05:00") + "\n")
    add(".jsonl published that is no date", "bad_date.jsonl", "articles", line=1)
    add(".jsonl published that is a number", "bad_date.jsonl", "articles", line=2)
    add(".jsonl published before year 1 in UTC", "bad_date.jsonl", "quarantine", reason="published_in_range", line=3)
    add(".jsonl published after year 9999 in UTC", "bad_date.jsonl", "quarantine", reason="published_in_range",
        line=4)

    (folder / "empty.jsonl").write_text("\n\n")
    add(".jsonl with no lines", "empty.jsonl", "quarantine", reason="empty")
    cut = gzip.compress((_jsonl_line("a truncated gzip feed, line one") + "\n" + _jsonl_line("line two") * 40).encode())
    (folder / "cut.jsonl.gz").write_bytes(cut[: len(cut) * 3 // 4])
    add("truncated .jsonl.gz: the line before the cut", "cut.jsonl.gz", "articles", line=1)
    add("truncated .jsonl.gz: the cut itself", "cut.jsonl.gz", "quarantine", reason="truncated_gzip")
    (folder / "oversize_line.jsonl").write_text('{"text": "%s"}\n' % ("word " * (17 * 1024 * 1024 // 5))
                                                + _jsonl_line("the line after an oversize one") + "\n")
    add(".jsonl line above the size limit", "oversize_line.jsonl", "quarantine", reason="too_large", line=1)
    add(".jsonl line after an oversize one", "oversize_line.jsonl", "articles", line=2)

    # File names and file kinds.
    os.symlink("loop.txt", folder / "loop.txt")
    add("symlink to itself", "loop.txt", "quarantine", reason="unreadable")
    os.symlink("nowhere.txt", folder / "dangling.txt")
    add("symlink to nothing", "dangling.txt", "quarantine", reason="unreadable")
    latin1_name = os.fsdecode(b"caf\xe9-news.txt")  # not UTF-8: a surrogate escape in the str name
    with open(os.path.join(os.fsencode(folder), b"caf\xe9-news.txt"), "wb") as handle:
        handle.write(_prose("a file name in Latin-1").encode("utf-8"))
    add("file name with bytes that are not UTF-8", latin1_name, "articles", repair="file_name_escaped")
    os.mkfifo(folder / "pipe.txt")
    add("FIFO in the source folder", "pipe.txt", "quarantine", reason="not_a_regular_file")
    locked = folder / "locked_folder"
    locked.mkdir(exist_ok=True)
    (locked / "inside.txt").write_text(_prose("a file in an unreadable folder"))
    add("unreadable sub-folder", "locked_folder", "quarantine", reason="unreadable_folder", simulate="folder_denied")

    # Bytes and sizes.
    gzip_bomb(folder / "bomb.txt.gz", compressed_mb=bomb_mb)
    add("gzip bomb", "bomb.txt.gz", "quarantine", reason="too_large")
    sparse_file(folder / "sparse.txt", sparse_bytes)
    add("sparse file far above the size limit", "sparse.txt", "quarantine", reason="too_large")
    text = ("Erdoğan’s envoy met the café owners of Kyiv’s old town — “a good start”, she said.\n\n"
            + _prose("a few bad bytes in UTF-8")).encode("utf-8")
    (folder / "utf8_bad_bytes.txt").write_bytes(text[:120] + b"\xff\xfe" + text[120:])
    add("UTF-8 with a few bad bytes", "utf8_bad_bytes.txt", "articles", repair="replaced_undecodable")
    (folder / "html_in_gz.html.gz").write_bytes(gzip.compress(
        f"<html><body><article><p>{_prose('a gzipped page')}</p></article></body></html>".encode()))
    add("gzipped HTML page", "html_in_gz.html.gz", "articles")
    return cases


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.flows.hostile FOLDER", file=sys.stderr)
        return 2
    for case in build_hostile_folder(Path(argv[0])):
        print(f"{case.expect:10}  {case.reason or case.repair or '-':28}  {case.label}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
