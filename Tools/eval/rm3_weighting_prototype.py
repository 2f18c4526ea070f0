#!/usr/bin/env python3
"""Prototype: how RM3 weights its feedback documents, chosen on training-side sets.

Anserini's RM3 (the form shipped until 2026-12-04) weights each of the first round's best
documents by its BM25 score itself; Lavrenko and Croft's relevance model weights it by the
query's likelihood under it, P(Q | D), which Indri computes as exp(its log-likelihood score).
This compares, on the two training-side sets of rm3_weight_prototype.py (MedQuAD questions,
Wikipedia titles) and on Cranfield (the dev set, printed, not used to choose), exhaustive BM25
(k1 1.2, b 0.75, analyzer as shipped), fbDocs 10, fbTerms 10, weight 0.5:
  score:          weight = BM25 score (Anserini);
  new-terms-only: as score, the query's own terms left out of the relevance model;
  idf-weighted:   as score, each term of the relevance model times its IDF;
  likelihood-T:   weight = exp((score - best score) / T), T = 1 the relevance model's form
                  with BM25 read as a log-likelihood; T = 0.5, 2, 4 only to show how much the
                  result hangs on that reading (not to choose T).

  python3 Tools/eval/rm3_weighting_prototype.py DATA_DIR TITLES_DIR      (numpy, scipy, nltk)
One JSON line per set x variant (and exhaustive BM25 without feedback): MAP@100, P@10, R@100.
"""
import json, os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stemmer_prototype as spt  # noqa: E402
import projection_prototype as pp  # noqa: E402

VARIANTS = ["score", "new-terms-only", "idf-weighted", "likelihood-1", "likelihood-0.5", "likelihood-2", "likelihood-4"]


def run(name, docs, queries, relevant):
    lexical = spt.Lexical(docs, queries, pp.stem)
    line = pp.measure(lexical.first, relevant); line.update({"set": name, "variant": "bm25, no feedback"})
    print(json.dumps(line), flush=True)
    for variant in VARIANTS:
        weigh, shape = (lambda w: w), (lambda model, own: model)
        if variant.startswith("likelihood"):
            t = float(variant.split("-")[1])
            weigh = lambda w, t=t: np.exp((w - w.max()) / t)
        if variant == "new-terms-only":
            shape = lambda model, own: np.where(own > 0, 0, model)
        if variant == "idf-weighted":
            shape = lambda model, own: model * lexical.idf
        models = [lexical.relevance_model(i, weigh=weigh, shape=shape) for i in range(len(queries))]
        line = pp.measure(lexical.expanded_scores(models), relevant); line.update({"set": name, "variant": variant})
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    spt.each_set(run)
