"""Speed and memory benchmark of the real `newsclean run` (``make bench``); prints figures, asserts nothing.

Builds corpora from ../shared/bench (text copies and HTML pages; each copy gets a sentence naming its
number in words inside the article itself, in the longest line of a text page and the longest <p> of an
HTML page, so every cleaned body is distinct and nothing is dropped as an exact copy of a stored body), runs the CLI as a subprocess,
and reports documents/s and MB/s over the flow's own run time (Prefect start-up excluded; the
wall time is printed too), peak RSS of the whole process tree, and per-stage seconds.

Parts (all by default):
  text      the real pipeline on --text plain-text documents with --workers workers
  scaling   --scaling text documents (or HTML pages, --scaling-input html) with 1 and with 2 workers
  html      the real pipeline on --html pages, and a bare trafilatura.extract loop over the same
            pages on the same number of processes
  noop      --noop small files already in the ledger (the ledger is written directly, no cleaning):
            a run with nothing new, i.e. the stat-only skip
  overhead  --overhead documents through the flow with the per-document stages stubbed out:
            what reading, the ledger, worker IPC, validation and Parquet cost per document, and
            peak RSS at that scale; then a rerun with nothing new (the ledger's stat-only skip)
"""
from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT.parent / "shared" / "bench"
SITES = 20  # the copies are spread over this many site folders


def build_text(folder: Path, count: int) -> int:
    """``count`` distinct text documents from the bench text copies; returns total bytes."""
    sources = sorted((BENCH / "text").glob("*.txt"))
    texts = [p.read_bytes() for p in sources]
    return _write_copies(folder, count, texts, ".txt", _mark_text_page)


def build_html(folder: Path, count: int) -> int:
    sources = sorted((BENCH / "html").glob("*.html.gz"))
    pages = [gzip.decompress(p.read_bytes()) for p in sources]
    return _write_copies(folder, count, pages, ".html", _mark_html_page)


_DIGITS = "zero one two three four five six seven eight nine".split()
_PARAGRAPH = re.compile(rb"<p[\s>].*?</p>", re.S | re.I)


def _copy_sentence(number: int) -> bytes:
    """A sentence unique to copy ``number``, in words: a line or a numeral alone could be cut as chrome."""
    return f" This is bench copy {' '.join(_DIGITS[int(d)] for d in str(number))}. ".encode()


def _mark_text_page(body: bytes, number: int) -> bytes:
    """The copy sentence after the first sentence of a body line of the page, so the cleaner keeps it.

    The middle one of the long lines that end a sentence: the longest line is chrome on some pages (an
    archive list, a byline blurb) and a sentence put there is stripped with it.
    """
    lines = body.split(b"\n")
    index = _middle_prose(lines)
    lines[index] = _insert_after_sentence(lines[index], _copy_sentence(number))
    return b"\n".join(lines)


def _mark_html_page(page: bytes, number: int) -> bytes:
    """The copy sentence inside a body <p> element of the page (the middle long one), after its first sentence."""
    spans = [m.span() for m in _PARAGRAPH.finditer(page)]
    if not spans:
        return page + f"\n<p>{_copy_sentence(number).decode()}</p>\n".encode()
    start, end = spans[_middle_prose([page[a + 2:b - 4].split(b">", 1)[-1] for a, b in spans])]
    return page[:start] + _insert_after_sentence(page[start:end], _copy_sentence(number)) + page[end:]


def _middle_prose(texts: list[bytes]) -> int:
    """Index of the middle text among those over 120 bytes that end a sentence; else of the longest."""
    prose = [i for i, text in enumerate(texts) if len(text) > 120 and text.rstrip().endswith(_SENTENCE_ENDS)]
    return prose[len(prose) // 2] if prose else max(range(len(texts)), key=lambda i: len(texts[i]))


_SENTENCE_ENDS = (b".", b'."', ".\u201d".encode())


def _insert_after_sentence(text: bytes, sentence: bytes) -> bytes:
    cut = text.find(b". ")
    if cut < 0:
        return text + sentence
    return text[:cut + 1] + sentence.rstrip() + text[cut + 1:]


def _write_copies(folder: Path, count: int, bodies: list[bytes], suffix: str, mark) -> int:
    marker = folder / f".built-{count}"
    if marker.exists():
        return int(marker.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    total = 0
    for number in range(count):
        site = folder / f"site-{number % SITES:02d}" / f"{number // 1000:04d}"
        site.mkdir(parents=True, exist_ok=True)
        data = mark(bodies[number % len(bodies)], number)
        (site / f"doc-{number:07d}{suffix}").write_bytes(data)
        total += len(data)
    marker.write_text(str(total))
    return total


class TreeMemory:
    """Peak resident memory of a process and all its children, sampled every 0.2 s."""

    def __init__(self, pid: int):
        import psutil

        self.process, self.peak, self.peak_main, self.peak_pipeline = psutil.Process(pid), 0, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                main = self.process.memory_info().rss
                children = [(c.memory_info().rss, " ".join(c.cmdline())) for c in self.process.children(recursive=True)]
            except psutil.Error:
                main, children = 0, []
            total = main + sum(rss for rss, _ in children)
            # Without the embedded Prefect server (a uvicorn child), which a deployment talks to instead.
            pipeline = total - sum(rss for rss, command in children if "prefect.server" in command)
            self.peak, self.peak_main = max(self.peak, total), max(self.peak_main, main)
            self.peak_pipeline = max(self.peak_pipeline, pipeline)
            self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_cli(sources: list[Path], out: Path, *extra: str, preload: str | None = None, fresh: bool = True) -> dict:
    """Run `newsclean run` and return its JSON summary plus wall time and peak memory."""
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "scripts")])
    if preload:
        env["NEWSCLEAN_WORKER_PRELOAD"] = preload
    command = [sys.executable, "-m", "flows.cli", "run", *map(str, sources), "--out", str(out), *extra]
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(process.pid)
    stdout, stderr = process.communicate()
    memory.stop()
    if process.returncode:
        raise SystemExit(f"newsclean failed ({process.returncode}):\n{stderr[-3000:]}")
    wall = time.monotonic() - started
    run_id = stdout.split()[1].rstrip(":")
    summary = json.loads((out / "reports" / f"run-{run_id}.json").read_text())
    summary.update(wall=wall, peak_rss=memory.peak, peak_rss_main=memory.peak_main,
                   peak_rss_pipeline=memory.peak_pipeline)
    return summary


def describe(label: str, summary: dict, *, workers: int) -> float:
    docs, seconds = summary["read"], summary["seconds"]
    rate = docs / seconds if seconds else 0.0
    mb = summary.get("input_bytes", 0) / 1e6
    print(f"{label}: {docs} docs, {mb:.0f} MB in {seconds:.1f} s flow time ({summary['wall']:.1f} s wall) -> "
          f"{rate:,.0f} docs/s ({rate / workers:,.0f} per worker), {mb / seconds if seconds else 0:.1f} MB/s; "
          f"peak RSS {summary['peak_rss'] / 2**20:,.0f} MiB (without the embedded Prefect server "
          f"{summary['peak_rss_pipeline'] / 2**20:,.0f} MiB, main process {summary['peak_rss_main'] / 2**20:,.0f} MiB); "
          f"written {summary['written']}, quarantined {summary['quarantined']}")
    print(f"    stage seconds: {summary.get('stage_seconds')}")
    return rate


def _extract(page: bytes) -> int:
    import trafilatura

    return len(trafilatura.extract(page) or "")


def bare_trafilatura(folder: Path, processes: int) -> float:
    """Pages per second of trafilatura.extract over the same files on ``processes`` processes (reading included)."""
    paths = sorted(folder.rglob("*.html"))
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(_extract, [paths[0].read_bytes()] * processes)  # imports, outside the timing
        started = time.monotonic()
        pool.map(_extract, (p.read_bytes() for p in paths), chunksize=8)
        seconds = time.monotonic() - started
    rate = len(paths) / seconds
    print(f"bare trafilatura.extract, {processes} processes: {len(paths)} pages in {seconds:.1f} s -> {rate:,.1f} pages/s")
    return rate


def seed_ledger(folder: Path, out: Path) -> None:
    """Record every file under ``folder`` in a fresh ledger under ``out``, as if a run had processed them."""
    sys.path.insert(0, str(ROOT))
    from flows.ledger import Ledger, LedgerRow, file_sha256, ledger_key
    from flows.sources import discover
    from flows.store import Store

    shutil.rmtree(out, ignore_errors=True)
    rows = [LedgerRow(ledger_key(item), item.size, item.mtime_ns, file_sha256(item.path), 1) for item in discover([folder])]
    Ledger().commit(Store.open(str(out)), rows, run_id="00000000T000000Z-bench", batch=0)


def install_stub_stages() -> None:
    """Worker preload for the overhead part: per-document stages that do almost nothing."""
    from dataclasses import replace

    import transforms.pipeline as pipeline
    from transforms.records import Article

    def decode(doc):
        return Article(doc_id=doc.doc_id, source_uri=doc.source_uri, input_format="text", raw=doc.raw,
                       text=doc.raw.decode("utf-8", "replace"), site=doc.folder_site)

    pipeline.decode_document = decode
    pipeline.STEPS = (
        ("strip chrome", lambda a, inputs: replace(a, body=a.text[:2000], title="Title")),
        ("detect language", lambda a, inputs: replace(a, language="en")),
        ("normalize names", lambda a, inputs: replace(a, body_normalized=a.body)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "newsclean-bench")
    parser.add_argument("--text", type=int, default=50_000, help="text documents (default: 50000)")
    parser.add_argument("--scaling", type=int, default=20_000,
                        help="documents for the 1-vs-2 workers part (default: 20000; at 5,000 two runs gave 1.20x and 1.59x)")
    parser.add_argument("--scaling-input", choices=("text", "html"), default="text",
                        help="documents of the 1-vs-2 workers part (default: text)")
    parser.add_argument("--html", type=int, default=5_000, help="HTML pages (default: 5000)")
    parser.add_argument("--overhead", type=int, default=200_000, help="documents for the stubbed run (default: 200000)")
    parser.add_argument("--noop", type=int, default=100_000, help="files for the nothing-new rerun (default: 100000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--parts", default="text,scaling,html,noop,overhead")
    parser.add_argument("--quick", action="store_true", help="a tenth of every size")
    args = parser.parse_args()
    if args.quick:
        args.text, args.scaling, args.html, args.noop, args.overhead = (
            n // 10 for n in (args.text, args.scaling, args.html, args.noop, args.overhead))
    parts = set(args.parts.split(","))
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"cores: {os.cpu_count()}, workers: {args.workers}, work folder: {args.work}")

    if "text" in parts:
        build_text(args.work / "text", args.text)
        describe(f"text, {args.workers} workers", run_cli([args.work / "text"], args.work / "out-text",
                                                          "--workers", str(args.workers)), workers=args.workers)
    if "scaling" in parts:
        folder = args.work / f"scaling-{args.scaling_input}"
        (build_html if args.scaling_input == "html" else build_text)(folder, args.scaling)
        rates = {}
        for workers in (1, 2):
            summary = run_cli([folder], args.work / "out-scaling", "--workers", str(workers))
            describe(f"{args.scaling_input}, {workers} worker(s)", summary, workers=workers)
            stages = summary["stage_seconds"]
            rates[workers] = summary["read"] / (stages.get("learn_lines", 0) + stages.get("clean", 0))
            print(f"    CPU-bound stages (the two passes in the workers): {rates[workers]:,.0f} docs/s")
        print(f"2 workers vs 1: {rates[2] / rates[1]:.2f}x on the CPU-bound stages")
    if "html" in parts:
        build_html(args.work / "html", args.html)
        # The bare loop runs before and after the pipeline and the two are averaged: on a shared machine
        # one measurement alone can land in a busy or a quiet minute.
        bare_before = bare_trafilatura(args.work / "html", args.workers)
        summary = run_cli([args.work / "html"], args.work / "out-html", "--workers", str(args.workers))
        pipeline_rate = describe(f"html, {args.workers} workers", summary, workers=args.workers)
        bare = (bare_before + bare_trafilatura(args.work / "html", args.workers)) / 2
        print(f"html pipeline / bare trafilatura (mean of the two bare runs, {bare:,.1f} pages/s): "
              f"{pipeline_rate / bare:.2f}x")
    if "noop" in parts:
        folder, out = args.work / "noop", args.work / "out-noop"
        _write_copies(folder, args.noop, [b"A short line of text.\n"], ".txt", lambda body, n: body + f"{n}\n".encode())
        seed_ledger(folder, out)
        again = run_cli([folder], out, "--workers", str(args.workers), fresh=False)
        print(f"nothing new over {again['skipped_unchanged']:,} files in the ledger: {again['seconds']:.2f} s flow time "
              f"({again['wall']:.1f} s wall with Python and Prefect start-up)")
    if "overhead" in parts:
        build_text(args.work / "overhead", args.overhead)
        out = args.work / "out-overhead"
        describe(f"flow machinery only (stages stubbed), {args.workers} workers",
                 run_cli([args.work / "overhead"], out, "--workers", str(args.workers),
                         preload="bench_pipeline:install_stub_stages"), workers=args.workers)
        again = run_cli([args.work / "overhead"], out, "--workers", str(args.workers), fresh=False)
        print(f"rerun with nothing new over {again['skipped_unchanged']:,} processed files: {again['seconds']:.2f} s "
              f"flow time ({again['wall']:.1f} s wall with Python and Prefect start-up)")


if __name__ == "__main__":
    main()
