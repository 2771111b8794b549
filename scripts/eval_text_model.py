#!/usr/bin/env python3
"""Quality of the plain-text strippers (the line model and the rule stripper), all figures in one command.

1. Held out: ``../shared/bench`` body F1 (the benchmark's scorer) on its text (html-text) and on its HTML
   rendered by inscriptis, lxml's ``text_content()`` and trafilatura's one-line ``html2txt``; lost articles (text
   F1 < 0.3 where the HTML path scores >= 0.8). The bench's ground truth is read here only to score.
2. Cross-validation grouped by site on ``../shared/corpora`` (out-of-fold predictions of
   ``scripts/train_text_model.py --cv``, cached): F1 for Fundus English / other languages and WCXB articles, per
   renderer, the same pages through the rule stripper, lost articles, and fields (title, authors, date).

Usage: .venv/bin/python scripts/eval_text_model.py [--bench-only | --cv-only] [--stripper model|rules|both]
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.text_model_data import BENCH, CACHE, bench_ids, fundus_pages, read_html, rendered, wcxb_pages  # noqa: E402
from scripts.train_text_model import _bench_scorer, body_of, prf, tokens  # noqa: E402
from flows.models import WordfreqFunctionWords  # noqa: E402
from transforms.chrome.features import SHAPE_NAMES, LineCache  # noqa: E402
from transforms.chrome.model import BODY, LineModel, fields_from_labels, strip_with_model  # noqa: E402
from transforms.chrome.rules import strip_chrome  # noqa: E402
from flows.models import FastTextLanguageIdentifier  # noqa: E402
from transforms.structure import detect_language  # noqa: E402

LANGUAGE = FastTextLanguageIdentifier()
FUNCTION = WordfreqFunctionWords()

MODEL_FILE = ROOT / "transforms" / "chrome" / "line_model.json"
BENCH_RENDERERS = ("html_text", "inscriptis", "lxml", "html2txt")
LOST_TEXT, LOST_HTML = 0.3, 0.8
LEXICON_COLUMN = SHAPE_NAMES.index("lexicon_rule")


def html_path_bodies(corpus: str, sources: dict[str, Path]) -> dict[str, str]:
    """The HTML path's body (trafilatura, as the pipeline runs it) per page, cached."""
    path = CACHE / f"html-path.{corpus}.json.gz"
    if path.exists():
        return json.loads(gzip.decompress(path.read_bytes()))
    from transforms.html import extract_html
    bodies = {}
    for page_id, html_path in sources.items():
        try:
            bodies[page_id] = extract_html(read_html(html_path)).body
        except Exception:  # a page the HTML path cannot read scores 0 there
            bodies[page_id] = ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps(bodies).encode("utf-8")))
    return bodies


def lexicon():
    from flows.seeds import load_references
    return load_references(ROOT / "seeds").lexicon


def strip_all(texts: dict[str, str], stripper: str, model: LineModel | None, lex) -> dict[str, object]:
    out = {}
    cache = LineCache()
    for key, text in texts.items():
        if stripper == "model":
            language = detect_language(" ".join(text.split())[:3000], LANGUAGE)
            out[key] = strip_with_model(text, model=model, lexicon=lex, language=language, cache=cache)
        else:
            out[key] = strip_chrome(text, lexicon=lex)
    return out


def bench_figures(strippers: list[str]) -> None:
    gold = json.loads((BENCH / "ground-truth.json").read_text(encoding="utf-8"))
    ids = bench_ids()
    html_bodies = html_path_bodies("bench", {i: BENCH / "html" / f"{i}.html.gz" for i in ids})
    html_f1 = prf([(gold[i]["articleBody"], html_bodies.get(i, "")) for i in ids])
    print(f"bench HTML path (trafilatura): F1 {html_f1[2]:.3f}")
    model = LineModel.from_json(MODEL_FILE.read_text(encoding="utf-8"), FUNCTION) if "model" in strippers else None
    lex = lexicon()
    for renderer in BENCH_RENDERERS:
        if renderer == "html_text":  # the bench's own text files
            texts = {i: (BENCH / "text" / f"{i}.txt").read_text(encoding="utf-8", errors="replace") for i in ids}
        else:
            texts = rendered("bench", renderer)
        for stripper in strippers:
            began = time.process_time()
            out = strip_all(texts, stripper, model, lex)
            seconds = time.process_time() - began
            p, r, f1, per_doc = prf([(gold[i]["articleBody"], out[i].body) for i in ids])
            lost = sum(1 for k, i in enumerate(ids) if per_doc[k] < LOST_TEXT and html_f1[3][k] >= LOST_HTML)
            print(f"bench {renderer:10s} {stripper:5s}: F1 {f1:.3f} (P {p:.3f} R {r:.3f}), lost articles {lost}, "
                  f"{len(ids) / seconds:.0f} docs/s incl. language detection", flush=True)


def _title_right(predicted: str | None, gold: str) -> bool:
    a, b = set(tokens(predicted or "")), set(tokens(gold))
    return bool(a and b) and len(a & b) / len(a | b) >= 0.8


def _authors_right(predicted, gold: list[str]) -> bool:
    wanted = {" ".join(tokens(name)) for name in gold}
    return any(" ".join(tokens(name)) in wanted for name in predicted)


def _document_score(gold: str, predicted: str) -> tuple[float | None, float | None]:
    """One document's (precision, recall) as the benchmark's scorer counts them."""
    score = _bench_scorer()
    _, _, _, rows = score.score({"d": {"articleBody": gold}}, {"d": predicted})
    return rows["d"]


def _aggregate(rows: list[tuple[float | None, float | None]]) -> tuple[float, float, float, list[float]]:
    """The benchmark's averages over per-document (precision, recall): macro P, macro R, their F1, F1 per doc."""
    precisions = [p for p, _ in rows if p is not None]
    recalls = [r for _, r in rows if r is not None]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    per_doc = [2 * (p or 0) * (r or 0) / ((p or 0) + (r or 0)) if (p or 0) + (r or 0) else 0.0 for p, r in rows]
    return precision, recall, f1, per_doc


def report_cv(data, probabilities: np.ndarray, fold_of_doc: np.ndarray, strippers=("model", "rules")) -> float:
    """Print cross-validated figures from out-of-fold probabilities; return the body threshold chosen on them."""
    pages = {page.page_id: page for page in wcxb_pages() + fundus_pages()}
    html_bodies = {**html_path_bodies("wcxb", {p.page_id: p.html_path for p in pages.values() if p.corpus == "wcxb"}),
                   **html_path_bodies("fundus", {p.page_id: p.html_path for p in pages.values()
                                                 if p.corpus == "fundus"})}
    bounds = np.r_[0, np.flatnonzero(np.diff(data.doc)) + 1, len(data.doc)]
    spans = list(zip(bounds[:-1], bounds[1:]))

    def group(doc) -> str:
        if doc["corpus"] == "fundus":
            return "fundus-en" if doc["language"] == "en" else "fundus-other"
        return "wcxb-article" if doc["page_type"] == "article" else "wcxb-other"

    # the body threshold: the best overall F1 on the out-of-fold predictions of a seeded sample of the corpora's
    # renderings (scoring all of them for every candidate costs minutes)
    sample = [k for k in np.random.default_rng(17).permutation(len(data.docs))[:1500]
              if group(data.docs[k]) != "wcxb-other"]
    best = (0.0, 0.5)
    for threshold in (0.35, 0.5, 0.65):
        pairs = [(pages[data.docs[k]["page_id"]].body,
                  body_of(data.docs[k], probabilities[spans[k][0]:spans[k][1], BODY]
                          * (1.0 - data.features[spans[k][0]:spans[k][1], LEXICON_COLUMN]), threshold))
                 for k in sample]
        best = max(best, (prf(pairs)[2], threshold))
    threshold = best[1]
    print(f"cross-validated by site ({fold_of_doc.max() + 1} folds); body threshold {threshold} (best on the folds)")
    html_score = {key: prf([(pages[key].body, body)])[3][0] for key, body in html_bodies.items()}
    lex = lexicon()
    results: dict[tuple[str, str, str], list] = defaultdict(list)
    fields: dict[tuple[str, str], list] = defaultdict(list)
    for doc, (s, e) in zip(data.docs, spans):
        page = pages[doc["page_id"]]
        text = "\n".join(("\n" if doc["above"][i] else "") + line for i, line in enumerate(doc["lines"]))
        probs = probabilities[s:e].copy()
        probs[:, BODY] *= 1.0 - data.features[s:e, LEXICON_COLUMN]  # a lexicon line goes whatever the model says
        bodies = {"model": body_of(doc, probs[:, BODY], threshold)}
        if "rules" in strippers:
            ruled = strip_chrome(text, lexicon=lex)
            bodies["rules"] = ruled.body
            fields[("rules", "title")].append(_title_right(ruled.title, page.title))
            if page.authors:
                fields[("rules", "authors")].append(_authors_right(ruled.authors, page.authors))
            if page.date:
                fields[("rules", "date")].append(ruled.published == page.date)
        for stripper, body in bodies.items():
            precision, recall = _document_score(page.body, body)
            for key in (group(doc), "all"):
                for renderer in (doc["renderer"], "all"):
                    results[(stripper, key, renderer)].append((precision, recall, html_score[page.page_id]))
        # model fields, as strip_with_model reads them from the labels
        lines = doc["lines"]
        candidates = [i for i in range(len(lines)) if probs[i, BODY] < threshold]
        first_body = next((i for i in range(len(lines)) if probs[i, BODY] >= threshold), len(lines))
        title, names, published = fields_from_labels(lines, probs, candidates, first_body,
                                                     function=FUNCTION(doc["language"]), language=doc["language"])
        fields[("model", "title")].append(_title_right(title, page.title))
        if page.authors:
            fields[("model", "authors")].append(_authors_right(names, page.authors))
        if page.date:
            fields[("model", "date")].append(published == page.date)
    for key in ("fundus-en", "fundus-other", "wcxb-article", "wcxb-other", "all"):
        for renderer in ("all", "html_text", "inscriptis", "lxml", "bs4", "html2txt", "html2text"):
            row = []
            for stripper in strippers:
                items = results.get((stripper, key, renderer))
                if not items:
                    continue
                p, r, f1, per_doc = _aggregate([(precision, recall) for precision, recall, _ in items])
                lost = sum(1 for (_, _, h), f in zip(items, per_doc) if f < LOST_TEXT and h >= LOST_HTML)
                row.append(f"{stripper} F1 {f1:.3f} (P {p:.3f} R {r:.3f}) lost {lost}")
            if row:
                print(f"  {key:13s} {renderer:10s} n={len(results[(strippers[0], key, renderer)]):5d}: "
                      + " | ".join(row))
    for stripper in strippers:
        print(f"  fields ({stripper}): " + ", ".join(
            f"{name} {np.mean(fields[(stripper, name)]):.1%} of {len(fields[(stripper, name)])}"
            for name in ("title", "authors", "date") if fields[(stripper, name)]))
    return threshold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench-only", action="store_true")
    ap.add_argument("--cv-only", action="store_true")
    ap.add_argument("--stripper", choices=("model", "rules", "both"), default="both")
    ap.add_argument("--oof", type=Path, default=CACHE / "oof.npz",
                    help="out-of-fold predictions written by scripts/train_text_model.py --cv")
    args = ap.parse_args()
    strippers = ["model", "rules"] if args.stripper == "both" else [args.stripper]
    if not args.cv_only:
        bench_figures(strippers)
    if not args.bench_only:
        from scripts.train_text_model import build_dataset
        oof = args.oof
        if not oof.exists():
            print("no out-of-fold predictions cached: run scripts/train_text_model.py --cv first", file=sys.stderr)
            sys.exit(2)
        saved = np.load(oof)
        report_cv(build_dataset(), saved["second"], saved["fold"], tuple(strippers))


if __name__ == "__main__":
    main()
