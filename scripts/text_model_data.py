#!/usr/bin/env python3
"""Training and evaluation data for the plain-text line model: pages rendered to text by several renderers.

The corpora in ``../shared/corpora`` are HTML with a gold body, title, author and date. Users' plain text comes
from many HTML-to-text renderers, so every page is rendered by each of :data:`RENDERERS` and cached (gzip JSON
under ``.cache/text_model/``, gitignored) so training and evaluation do not render again.

Usage: .venv/bin/python scripts/text_model_data.py [--corpus wcxb|fundus|bench ...] [--renderer NAME ...]

``bench`` is rendered only for the final held-out figure (scripts/eval_text_model.py); its ground truth is never
read here.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
BENCH = SHARED / "bench"
CACHE = ROOT / ".cache" / "text_model"


@dataclass
class Page:
    """One labelled page of a corpus: its site (the cross-validation group) and gold fields."""

    corpus: str
    page_id: str
    site: str
    page_type: str
    html_path: Path
    body: str
    title: str
    authors: list[str]
    date: str | None
    country: str = ""


def wcxb_pages() -> list[Page]:
    folder = CORPORA / "wcxb-dev"
    meta = json.loads((folder / "metadata.json").read_text())["files"]
    pages = []
    for truth_path in sorted((folder / "ground-truth").glob("*.json")):
        page_id = truth_path.stem
        record = json.loads(truth_path.read_text())
        truth = record["ground_truth"]
        # 139 pages are missing from metadata.json: their domain comes from the URL, their type from the record
        info = meta.get(page_id) or {"domain": _domain(record.get("url", "")), "page_type": _page_type(record)}
        author = truth.get("author") or ""
        authors = [a.strip() for a in author.replace(" and ", ",").split(",") if a.strip()] if author else []
        pages.append(Page("wcxb", page_id, info["domain"], info["page_type"], folder / "html" / f"{page_id}.html.gz",
                          truth.get("main_content") or "", truth.get("title") or "", authors,
                          (truth.get("publish_date") or None)))
    return pages


def _domain(url: str) -> str:
    from urllib.parse import urlsplit
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def _page_type(record: dict) -> str:
    import ast
    try:
        internal = record.get("_internal") or "{}"
        internal = ast.literal_eval(internal) if isinstance(internal, str) else internal
        return internal["page_type"]["primary"]
    except (ValueError, SyntaxError, KeyError, TypeError):
        return "unknown"


def fundus_pages() -> list[Page]:
    folder = CORPORA / "fundus-dev"
    pages = []
    for truth_path in sorted((folder / "ground-truth").glob("*/*.json")):
        truth = json.loads(truth_path.read_text())
        country = truth_path.parent.name
        publisher = truth_path.stem.rsplit("_", 3)[0]
        authors = truth.get("authors") or []
        if isinstance(authors, str):  # stored as a Python list's repr
            import ast
            try:
                authors = ast.literal_eval(authors)
            except (ValueError, SyntaxError):
                authors = [authors]
        published = truth.get("published")
        pages.append(Page("fundus", f"{country}/{truth_path.stem}", f"{country}/{publisher}", "article",
                          folder / "html" / country / f"{truth_path.stem}.html.gz", truth.get("articleBody") or "",
                          truth.get("title") or "", [a for a in authors if a],
                          str(published)[:10] if published else None, country))
    return pages


def bench_ids() -> list[str]:
    return sorted(path.name.removesuffix(".html.gz") for path in (BENCH / "html").glob("*.html.gz"))


def read_html(path: Path) -> str:
    raw = gzip.decompress(path.read_bytes())
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes
        best = from_bytes(raw).best()
        return str(best) if best else raw.decode("utf-8", "replace")


def _tree(html: str):
    import lxml.html
    tree = lxml.html.fromstring(html.encode("utf-8"))
    for bad in tree.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    return tree


def render_html_text(html: str) -> str:
    import html_text
    return html_text.extract_text(html, guess_layout=True)


def render_inscriptis(html: str) -> str:
    import inscriptis
    return inscriptis.get_text(html)


def render_lxml(html: str) -> str:
    return _tree(html).text_content()


def render_bs4(html: str) -> str:
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(html, "lxml")
    for bad in soup(["script", "style", "noscript", "template"]):
        bad.decompose()
    return soup.get_text("\n")


def render_html2txt(html: str) -> str:
    import trafilatura
    return trafilatura.html2txt(html) or ""


def render_html2text(html: str) -> str:
    import html2text
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    return converter.handle(html)


RENDERERS = {
    "html_text": render_html_text,
    "inscriptis": render_inscriptis,
    "lxml": render_lxml,
    "bs4": render_bs4,
    "html2txt": render_html2txt,
    "html2text": render_html2text,
}


def cache_file(corpus: str, renderer: str) -> Path:
    return CACHE / "rendered" / f"{corpus}.{renderer}.json.gz"


def rendered(corpus: str, renderer: str) -> dict[str, str]:
    """{page id: text} for a corpus and renderer, rendering (and caching) on first use."""
    path = cache_file(corpus, renderer)
    if path.exists():
        return json.loads(gzip.decompress(path.read_bytes()))
    if corpus == "bench":
        sources = {page_id: BENCH / "html" / f"{page_id}.html.gz" for page_id in bench_ids()}
    else:
        sources = {page.page_id: page.html_path for page in (wcxb_pages() if corpus == "wcxb" else fundus_pages())}
    render = RENDERERS[renderer]
    texts = {}
    began = time.monotonic()
    for page_id, html_path in sources.items():
        try:
            texts[page_id] = render(read_html(html_path))
        except Exception as error:  # a renderer that fails on a page gives no text for it (counted below)
            print(f"  {corpus}/{renderer}: {page_id} failed: {type(error).__name__}: {error}"[:200], file=sys.stderr)
            texts[page_id] = ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps(texts, ensure_ascii=False).encode("utf-8")))
    print(f"{corpus}/{renderer}: {len(texts)} pages in {time.monotonic() - began:.0f} s", flush=True)
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", nargs="*", default=["wcxb", "fundus", "bench"])
    ap.add_argument("--renderer", nargs="*", default=list(RENDERERS))
    args = ap.parse_args()
    for corpus in args.corpus:
        for renderer in args.renderer:
            rendered(corpus, renderer)


if __name__ == "__main__":
    main()
