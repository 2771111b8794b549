#!/usr/bin/env python3
"""Rebuild the plain-text line model (transforms/chrome/line_model.json) from ../shared/corpora, seeded.

Steps: every corpus page (WCXB dev, Fundus dev) rendered to text by each renderer of scripts/text_model_data.py;
each line labelled body / title / byline / date / chrome by aligning it with the page's gold fields
(:func:`label_lines`); features as the stripper computes them; two LightGBM stages (lines, then smoothing over
the first stage's out-of-fold probabilities, folds grouped by site). ``--cv`` also prints the cross-validated
figures (folds grouped by site) for the model and for the rule stripper on the same pages.

Usage: .venv/bin/python scripts/train_text_model.py [--cv] [--no-write] [--folds 4]
Nothing here reads ../shared/bench.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import inspect
import json
import pickle
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.text_model_data import CACHE, Page, fundus_pages, rendered, wcxb_pages  # noqa: E402
from transforms.chrome.features import FEATURE_NAMES, LineCache, page_features, page_lines, page_shapes  # noqa: E402
from transforms.chrome.model import (  # noqa: E402
    BODY, BYLINE, CHROME, DATE, LABELS, SMOOTH_NAMES, TITLE, LineModel, smoothing_features,
)
from transforms.chrome.segments import segment_text  # noqa: E402
from flows.models import FastTextLanguageIdentifier  # noqa: E402
from transforms.structure import detect_language  # noqa: E402

LANGUAGE = FastTextLanguageIdentifier()

MODEL_FILE = ROOT / "transforms" / "chrome" / "line_model.json"
FEATURE_CODE = [ROOT / "transforms" / "chrome" / name for name in ("features.py", "segments.py")]
TRAIN_RENDERERS = ("html_text", "inscriptis", "lxml", "bs4", "html2txt", "html2text")
SEED = 17
# The shipped model's size: few, small trees, because prediction time grows with the number of trees a line passes
# through (scripts/bench_chrome.py --stripper model); --cv prints what fewer or more cost in F1.
ROUNDS = 40
SMOOTH_ROUNDS = 15
LEAVES = 31
LEARNING_RATE = 0.2


def lightgbm_params(leaves: int = LEAVES, learning_rate: float = LEARNING_RATE) -> dict:
    return dict(objective="multiclass", num_class=len(LABELS), learning_rate=learning_rate, num_leaves=leaves,
                min_data_in_leaf=40, max_bin=63, feature_fraction=0.8, bagging_fraction=0.5, bagging_freq=1,
                lambda_l2=1.0, num_threads=1, seed=SEED, verbose=-1)


_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|\w+")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; each CJK character a token of its own (those scripts put no spaces).

    >>> tokens("The Bridge, 2024"), tokens("東京で雨")
    (['the', 'bridge', '2024'], ['東', '京', 'で', '雨'])
    """
    return _TOKEN.findall(text.lower())


@dataclass
class Gold:
    trigrams: set
    joined: str
    segments: set
    title: str
    title_len: int
    authors: list[list[str]]
    year: str | None
    day: int | None

    @classmethod
    def of(cls, page: Page) -> "Gold":
        body = tokens(page.body)
        title = tokens(page.title)
        return cls(set(zip(body, body[1:], body[2:])), " " + " ".join(body) + " ",
                   {" ".join(tokens(segment)) for segment in page.body.splitlines() if segment.strip()},
                   " ".join(title), len(title), [tokens(author) for author in page.authors if tokens(author)],
                   page.date[:4] if page.date else None, _day(page.date))


def _day(date: str | None) -> int | None:
    try:
        return int(date[8:10]) if date else None
    except ValueError:
        return None


def label_lines(lines: list[str], gold: Gold) -> np.ndarray:
    """Each line's label index by alignment with the gold fields (see the module docstring)."""
    labels = np.full(len(lines), CHROME, dtype=np.int8)
    short_candidates = []
    for i, line in enumerate(lines):
        words = tokens(line)
        joined = " ".join(words)
        n = len(words)
        if gold.title and (joined == gold.title or (n >= 3 and gold.title in joined and n <= gold.title_len + 8)
                           or (n >= 3 and f" {joined} " in f" {gold.title} " and n >= 0.7 * gold.title_len)):
            labels[i] = TITLE
            continue
        if n >= 3:
            grams = list(zip(words, words[1:], words[2:]))
            if sum(gram in gold.trigrams for gram in grams) >= 0.5 * len(grams):
                labels[i] = BODY
                continue
        elif n and joined in gold.segments:
            labels[i] = BODY
            continue
        elif n and f" {joined} " in gold.joined:
            short_candidates.append(i)
        if n <= 25 and gold.authors and any(
                f" {' '.join(author)} " in f" {joined} " for author in gold.authors):
            labels[i] = BYLINE
            continue
        if gold.year and n <= 15 and gold.year in line and re.search(rf"(?<!\d)0?{gold.day}(?!\d)", line.replace(gold.year, " ")):
            labels[i] = DATE
    for i in short_candidates:  # a short line inside the gold body counts when the lines around it do
        if labels[i] == CHROME:
            before = next((labels[j] for j in range(i - 1, -1, -1) if len(tokens(lines[j])) >= 3), CHROME)
            after = next((labels[j] for j in range(i + 1, len(lines)) if len(tokens(lines[j])) >= 3), CHROME)
            if before == BODY and after == BODY:
                labels[i] = BODY
    return labels


@dataclass
class Dataset:
    """Every (page, renderer) rendering's lines, features and labels, and what each row belongs to."""

    features: np.ndarray
    labels: np.ndarray
    doc: np.ndarray  # row -> rendering index
    docs: list[dict] = field(default_factory=list)  # page id, corpus, site, renderer, language, lines, row span


def build_dataset(renderers=TRAIN_RENDERERS) -> Dataset:
    # (named by the code that computes features and labels: a change there builds the dataset anew)
    code = hashlib.sha1(b"".join(path.read_bytes() for path in FEATURE_CODE)
                        + inspect.getsource(label_lines).encode() + inspect.getsource(Gold).encode()).hexdigest()[:10]
    cache_path = CACHE / f"dataset-{'-'.join(renderers)}-{code}.pkl.gz"
    if cache_path.exists():
        main = sys.modules["__main__"]  # a cache written when this script ran as __main__ names it there
        if not hasattr(main, "Dataset"):
            main.Dataset = Dataset
        return pickle.loads(gzip.decompress(cache_path.read_bytes()))
    from flows.seeds import load_references
    lexicon = load_references(ROOT / "seeds").lexicon
    pages = wcxb_pages() + fundus_pages()
    from flows.models import WordfreqFunctionWords
    function_words = WordfreqFunctionWords()
    line_cache = LineCache(limit=200_000)
    blocks, label_blocks, docs = [], [], []
    began = time.monotonic()
    for renderer in renderers:
        texts = {**rendered("wcxb", renderer), **rendered("fundus", renderer)}
        for page in pages:
            text = segment_text(texts.get(page.page_id) or "")
            lines, above, below, indents = page_lines(text)
            if not lines:
                continue
            language = detect_language(" ".join(lines)[:3000], LANGUAGE)
            keys, rules, tails = line_cache.describe(lines, lexicon)
            shapes = page_shapes(lines, function=function_words(language), rules=rules, tails=tails)
            blocks.append(page_features(lines, above, below, indents, shapes, keys))
            label_blocks.append(label_lines(lines, Gold.of(page)))
            docs.append(dict(page_id=page.page_id, corpus=page.corpus, site=page.site, page_type=page.page_type,
                             renderer=renderer, language=language, lines=lines, above=above))
        print(f"  features: {renderer} done, {time.monotonic() - began:.0f} s", flush=True)
    doc = np.concatenate([np.full(len(block), i, dtype=np.int32) for i, block in enumerate(blocks)])
    data = Dataset(np.vstack(blocks), np.concatenate(label_blocks), doc, docs)
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache_path.write_bytes(gzip.compress(pickle.dumps(data), compresslevel=3))
    return data


def site_folds(data: Dataset, folds: int) -> np.ndarray:
    """A fold per rendering: sites shuffled with the seed and dealt round-robin, so a site is in one fold only."""
    sites = sorted({doc["site"] for doc in data.docs})
    order = np.random.default_rng(SEED).permutation(len(sites))
    fold_of = {sites[j]: k % folds for k, j in enumerate(order)}
    return np.array([fold_of[doc["site"]] for doc in data.docs])


def train_stage(features: np.ndarray, labels: np.ndarray, rounds: int, names, params: dict) -> "lightgbm.Booster":
    import lightgbm
    dataset = lightgbm.Dataset(features, labels, feature_name=list(names), free_raw_data=True)
    return lightgbm.train(params, dataset, num_boost_round=rounds)


def smoothing_matrix(data: Dataset, first: np.ndarray) -> np.ndarray:
    out = np.empty((len(first), len(SMOOTH_NAMES)), dtype=np.float32)
    bounds = np.flatnonzero(np.diff(data.doc)) + 1
    for start, end in zip(np.r_[0, bounds], np.r_[bounds, len(first)]):
        out[start:end] = smoothing_features(first[start:end].astype(np.float32), data.features[start:end])
    return out


def out_of_fold(data: Dataset, fold_of_doc: np.ndarray, args) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold probabilities of both stages for every row (each fold predicted by models that never saw its
    sites). The smoothing stage of a fold is trained on the other folds' out-of-fold first-stage probabilities."""
    row_fold = fold_of_doc[data.doc]
    rng = np.random.default_rng(SEED)
    keep = rng.random(len(row_fold)) < args.sample
    params = lightgbm_params(args.leaves, args.learning_rate)
    first = np.zeros((len(row_fold), len(LABELS)), dtype=np.float32)
    for k in range(args.folds):
        began = time.monotonic()
        train = (row_fold != k) & keep
        model = train_stage(data.features[train], data.labels[train], args.rounds, FEATURE_NAMES, params)
        test = row_fold == k
        first[test] = model.predict(data.features[test], num_threads=1)
        print(f"  line stage, fold {k}: {train.sum():,} rows, {time.monotonic() - began:.0f} s", flush=True)
    smooth_in = smoothing_matrix(data, first)
    second = np.zeros_like(first)
    for k in range(args.folds):
        train = (row_fold != k) & keep
        model = train_stage(smooth_in[train], data.labels[train], args.smooth_rounds, SMOOTH_NAMES, params)
        second[row_fold == k] = model.predict(smooth_in[row_fold == k], num_threads=1)
    return first, second


# --- the alternative the issue names: a linear-chain CRF (python-crfsuite) over the same features ---

CRF_BINS = 8


def crf_attributes(features: np.ndarray, edges: list[np.ndarray]) -> list[list[str]]:
    """Each row's features as CRF attributes: the feature's quantile bin ("12:3"), so a linear CRF can weigh a
    feature's ranges apart (trees split on them; a CRF's score is a sum of weights)."""
    bins = np.column_stack([np.searchsorted(edge, features[:, j]) for j, edge in enumerate(edges)])
    names = [[f"{j}:{b}" for b in range(len(edge) + 1)] for j, edge in enumerate(edges)]
    return [[names[j][b] for j, b in enumerate(row)] for row in bins.tolist()]


def crf_edges(features: np.ndarray) -> list[np.ndarray]:
    quantiles = np.linspace(0, 1, CRF_BINS + 1)[1:-1]
    return [np.unique(np.quantile(column, quantiles)) for column in features.T]


def crf_out_of_fold(data: Dataset, fold_of_doc: np.ndarray, args, inputs: np.ndarray | None = None) -> np.ndarray:
    """Out-of-fold label marginals of a CRF (each fold's sites unseen), trained on a seeded sample of the other
    folds' renderings. ``inputs``: the rows' features (default the line features)."""
    import pycrfsuite
    inputs = data.features if inputs is None else inputs
    bounds = np.r_[0, np.flatnonzero(np.diff(data.doc)) + 1, len(data.doc)]
    rng = np.random.default_rng(SEED)
    chosen = rng.random(len(data.docs)) < args.crf_docs
    out = np.zeros((len(data.labels), len(LABELS)), dtype=np.float32)
    edges = crf_edges(inputs[rng.random(len(inputs)) < 0.05])
    for k in range(args.folds):
        began = time.monotonic()
        trainer = pycrfsuite.Trainer(verbose=False)
        trainer.set_params({"c1": args.crf_c1, "c2": args.crf_c2, "max_iterations": args.crf_iterations,
                            "feature.possible_transitions": True})
        count = 0
        for d in np.flatnonzero(chosen & (fold_of_doc != k)):
            s, e = bounds[d], bounds[d + 1]
            trainer.append(crf_attributes(inputs[s:e], edges), [LABELS[y] for y in data.labels[s:e]])
            count += 1
        path = str(CACHE / f"crf-fold{k}.crfsuite")
        trainer.train(path)
        tagger = pycrfsuite.Tagger()
        tagger.open(path)
        for d in np.flatnonzero(fold_of_doc == k):
            s, e = bounds[d], bounds[d + 1]
            tagger.set(crf_attributes(inputs[s:e], edges))
            out[s:e] = [[tagger.marginal(label, i) for label in LABELS] for i in range(e - s)]
        print(f"  CRF fold {k}: {count} renderings, {time.monotonic() - began:.0f} s", flush=True)
    return out


# --- scoring (the benchmark's metric: 4-token shingles, precision and recall averaged over documents) ---

def _bench_scorer():
    sys.path.insert(0, str(ROOT.parent / "shared" / "bench"))
    import score  # the benchmark's own scorer module (its functions only; no bench data is read)
    return score


def prf(pairs: list[tuple[str, str]]) -> tuple[float, float, float, list[float]]:
    """(precision, recall, F1, per-document F1) of (gold, predicted) bodies, the benchmark's way."""
    score = _bench_scorer()
    gold = {str(i): {"articleBody": g} for i, (g, _) in enumerate(pairs)}
    pred = {str(i): p for i, (_, p) in enumerate(pairs)}
    precision, recall, f1, rows = score.score(gold, pred)
    per_doc = [2 * (p or 0) * (r or 0) / ((p or 0) + (r or 0)) if (p or 0) + (r or 0) else 0.0
               for p, r in rows.values()]
    return precision, recall, f1, per_doc


def body_of(doc: dict, body_probability: np.ndarray, threshold: float) -> str:
    lines, above = doc["lines"], doc["above"]
    kept = [i for i in range(len(lines)) if body_probability[i] >= threshold]
    return "\n".join(("\n" if j and above[i] else "") + lines[i] for j, i in enumerate(kept)).strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cv", action="store_true", help="print cross-validated figures (grouped by site)")
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--sample", type=float, default=0.15, help="share of training rows used per model (speed)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--rounds", type=int, default=ROUNDS, help="boosting rounds of the line stage")
    ap.add_argument("--smooth-rounds", type=int, default=SMOOTH_ROUNDS, help="boosting rounds of the smoothing stage")
    ap.add_argument("--leaves", type=int, default=LEAVES, help="leaves per tree")
    ap.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    ap.add_argument("--rules", action="store_true", help="with --cv: the rule stripper's figures on the same pages too")
    ap.add_argument("--crf", choices=("none", "lines", "smoothing"), default="none",
                    help="with --cv: a CRF instead of the trees (lines: on the line features; smoothing: over the "
                         "line stage's out-of-fold probabilities, instead of the tree smoothing stage)")
    ap.add_argument("--crf-docs", type=float, default=0.25, help="share of renderings a CRF is trained on")
    ap.add_argument("--crf-c1", type=float, default=0.05)
    ap.add_argument("--crf-c2", type=float, default=0.01)
    ap.add_argument("--crf-iterations", type=int, default=100)
    ap.add_argument("--oof", type=Path, default=CACHE / "oof.npz", help="where --cv keeps its out-of-fold predictions")
    args = ap.parse_args()
    began = time.monotonic()
    data = build_dataset()
    counts = np.bincount(data.labels, minlength=len(LABELS))
    print(f"{len(data.docs)} renderings, {len(data.labels):,} lines: "
          + ", ".join(f"{label} {count:,}" for label, count in zip(LABELS, counts))
          + f" ({time.monotonic() - began:.0f} s)", flush=True)
    fold_of_doc = site_folds(data, args.folds)
    print(f"line stage {args.rounds} rounds, smoothing {args.smooth_rounds}, {args.leaves} leaves, "
          f"learning rate {args.learning_rate}, {args.folds} folds", flush=True)
    if args.crf == "lines":
        first = second = crf_out_of_fold(data, fold_of_doc, args)
    else:
        first, second = out_of_fold(data, fold_of_doc, args)
        if args.crf == "smoothing":
            second = crf_out_of_fold(data, fold_of_doc, args, smoothing_matrix(data, first))
    np.savez_compressed(args.oof, first=first, second=second, fold=fold_of_doc)
    threshold = 0.5
    if args.cv:
        import scripts.eval_text_model as evaluation
        threshold = evaluation.report_cv(data, second, fold_of_doc, ("model", "rules") if args.rules else ("model",))
    if args.no_write:
        return
    rng = np.random.default_rng(SEED)
    keep = rng.random(len(data.labels)) < args.sample
    params = lightgbm_params(args.leaves, args.learning_rate)
    line_stage = train_stage(data.features[keep], data.labels[keep], args.rounds, FEATURE_NAMES, params)
    smooth_in = smoothing_matrix(data, first)  # trained on out-of-fold probabilities, as it will see new pages
    smooth_stage = train_stage(smooth_in[keep], data.labels[keep], args.smooth_rounds, SMOOTH_NAMES, params)
    # the date, the seed and a digest of the trees: two models never share a version (the articles table records it)
    digest = hashlib.sha1((line_stage.model_to_string() + smooth_stage.model_to_string()).encode()).hexdigest()[:7]
    version = f"lines-{time.strftime('%Y%m%d')}-s{SEED}-{digest}"
    model = dict(version=version, labels=LABELS, features=FEATURE_NAMES, smooth_features=SMOOTH_NAMES,
                 body_threshold=threshold, title_threshold=LineModel.title_threshold,
                 byline_threshold=LineModel.byline_threshold, date_threshold=LineModel.date_threshold,
                 trained_on="WCXB dev (CC-BY-4.0), Fundus dev (MIT); renderers " + ", ".join(TRAIN_RENDERERS),
                 line_stage=line_stage.model_to_string(), smooth_stage=smooth_stage.model_to_string())
    MODEL_FILE.write_text(json.dumps(model), encoding="utf-8")
    LineModel.from_json(MODEL_FILE.read_text(encoding="utf-8"))  # it loads
    print(f"wrote {MODEL_FILE.relative_to(ROOT)} ({MODEL_FILE.stat().st_size / 1e6:.1f} MB), version {version}, "
          f"{time.monotonic() - began:.0f} s in all")


if __name__ == "__main__":
    main()
