#!/usr/bin/env python3
"""Quick quality score of the HTML path on ../shared/bench/html, next to bare trafilatura on the same pages.

Runs the pipeline functions (decode_document -> clean_article -> structure_article) over every ``*.html.gz``,
writes ``{file stem without .html.gz: body}`` to a predictions JSON, scores it with the benchmark's own
score.py, and does the same for ``trafilatura.extract`` with default settings. It also prints the share of
pages with a non-empty title, language and site for both, and how many pages have an author that is really
the site's name.

Usage: .venv/bin/python scripts/score_html.py [--bench DIR] [--out PRED.json] [--worst N] [--no-chrome]
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from flows.seeds import load_references  # noqa: E402
from transforms.decode import looks_like_html  # noqa: E402
from transforms.html import extract_html  # noqa: E402
from transforms.names import AliasTable  # noqa: E402
from transforms.pipeline import StepInputs, decode_document, run_steps, structure_article  # noqa: E402
from transforms.records import RawDocument  # noqa: E402

DEFAULT_BENCH = ROOT.parent / "shared" / "bench"
SUFFIX = ".html.gz"


def read_pages(bench_html: Path) -> dict[str, bytes]:
    """Raw page bytes per file stem (the name without .html.gz)."""
    return {path.name[: -len(SUFFIX)]: gzip.decompress(path.read_bytes()) for path in sorted(bench_html.glob(f"*{SUFFIX}"))}


def run_pipeline(pages: dict[str, bytes], *, chrome: bool = True) -> dict[str, object]:
    """Articles through the same functions the flow calls; format_hint is left empty so HTML is found by content."""
    refs = replace(load_references(ROOT / "seeds"), aliases=AliasTable.from_rows([]))
    articles = {}
    for stem, raw in pages.items():
        article = decode_document(RawDocument(source_uri=f"{stem}{SUFFIX}", raw=raw))
        if chrome:
            articles[stem] = run_steps(article, StepInputs(refs))
        else:  # the extractor alone, without the plain-text second pass
            page = extract_html(article.text)
            articles[stem] = structure_article(replace(article, body=page.body, title=page.title, authors=page.authors,
                                                       url=page.url, site=page.hostname, site_name=page.site_name),
                                               refs=refs)
    return articles


def run_trafilatura(pages: dict[str, bytes], texts: dict[str, str]) -> dict[str, dict]:
    """Bare trafilatura with defaults on the same decoded pages: body from extract(), metadata from bare_extraction()."""
    out = {}
    for stem in pages:
        body = trafilatura.extract(texts[stem]) or ""
        document = trafilatura.bare_extraction(texts[stem], with_metadata=True)
        fields = document.as_dict() if document is not None else {}
        out[stem] = {"body": body, "title": fields.get("title"), "language": fields.get("language"),
                     "site": fields.get("hostname") or fields.get("sitename"), "author": fields.get("author") or ""}
    return out


def score(pred: dict[str, str], bench: Path, out: Path, worst: int) -> str:
    out.write_text(json.dumps(pred, ensure_ascii=False), encoding="utf-8")
    command = [sys.executable, str(bench / "score.py"), str(out), "--gold", str(bench / "ground-truth.json")]
    if worst:
        command += ["--worst", str(worst)]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def site_keys(*names: str | None) -> set[str]:
    keys = set()
    for name in filter(None, names):
        keys.add(re.sub(r"[^a-z0-9]", "", name.lower()))
        if "." in name:
            keys.add(re.sub(r"[^a-z0-9]", "", name.lower().removeprefix("www.").split(".")[0]))
    return {k for k in keys if len(k) >= 3}


def author_is_site(author: str, keys: set[str]) -> bool:
    squeezed = re.sub(r"[^a-z0-9]", "", author.lower())
    return bool(squeezed) and any(squeezed == k or squeezed in k or k in squeezed for k in keys)


def share(values) -> str:
    values = list(values)
    return f"{sum(map(bool, values)) / len(values):.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--out", type=Path, default=Path("/tmp/newsclean-bench-html-pred.json"))
    ap.add_argument("--worst", type=int, default=0)
    ap.add_argument("--no-chrome", action="store_true", help="score the extractor without the chrome second pass")
    a = ap.parse_args()

    pages = read_pages(a.bench / "html")
    articles = run_pipeline(pages, chrome=not a.no_chrome)
    missed = [stem for stem, raw in pages.items() if not looks_like_html(raw[:4096])]
    texts = {stem: article.text for stem, article in articles.items()}
    bare = run_trafilatura(pages, texts)

    print(f"pages={len(pages)} not recognised as HTML by content: {len(missed)} {missed[:5]}")
    print(f"quarantined: {sum(a.quarantined for a in articles.values())}")
    print("pipeline:   ", score({s: a.body for s, a in articles.items()}, a.bench, a.out, a.worst))
    print("trafilatura:", score({s: b["body"] for s, b in bare.items()}, a.bench, a.out.with_suffix(".bare.json"), 0))
    print(f"{'share with':12s} {'title':>6s} {'language':>9s} {'site':>6s} {'authors':>8s} {'author=site':>12s}")
    print(f"{'pipeline':12s} {share(a.title for a in articles.values()):>6s} {share(a.language for a in articles.values()):>9s}"
          f" {share(a.site for a in articles.values()):>6s} {share(a.authors for a in articles.values()):>8s}"
          f" {sum(any(author_is_site(x, site_keys(a.site, a.site_name)) for x in a.authors) for a in articles.values()):>12d}")
    print(f"{'trafilatura':12s} {share(b['title'] for b in bare.values()):>6s} {share(b['language'] for b in bare.values()):>9s}"
          f" {share(b['site'] for b in bare.values()):>6s} {share(b['author'] for b in bare.values()):>8s}"
          f" {sum(any(author_is_site(x, site_keys(b['site'])) for x in b['author'].split(';')) for b in bare.values()):>12d}")


if __name__ == "__main__":
    main()
