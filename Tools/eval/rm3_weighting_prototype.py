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

import numpy as np, scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stemmer_prototype as spt  # noqa: E402
import projection_prototype as pp  # noqa: E402
import rm3_weight_prototype as rw  # noqa: E402

VARIANTS = ["score", "new-terms-only", "idf-weighted", "likelihood-1", "likelihood-0.5", "likelihood-2", "likelihood-4"]


def run(name, docs, queries, relevant):
    vocab = {}
    d = spt.matrix(spt.analyze(docs, pp.stem), vocab)
    q = spt.matrix(spt.analyze(queries, pp.stem), vocab)
    v = len(vocab)
    tf = sp.csr_matrix((np.array(d[2], np.float32), (d[0], d[1])), shape=(len(docs), v))
    qtf = sp.csr_matrix((np.array(q[2], np.float32), (q[0], q[1])), shape=(len(queries), v))
    n = len(docs)
    df = np.bincount(tf.indices, minlength=v)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
    length = np.asarray(tf.sum(1)).ravel(); avg = length.mean()
    coo = tf.tocoo()
    w = coo.data * 2.2 / (coo.data + 1.2 * (0.25 + 0.75 * length[coo.row] / avg)) * idf[coo.col]
    bm25 = sp.csr_matrix((w, (coo.row, coo.col)), shape=tf.shape).tocsc()
    qshare = (sp.diags(1 / np.asarray(qtf.sum(1)).ravel().clip(1)) @ qtf).tocsr()
    first = (qtf.sign() @ bm25.T).toarray()
    shares = (sp.diags(1 / length.clip(1)) @ tf).tocsr()
    line = rw.measure(first, relevant); line.update({"set": name, "variant": "bm25, no feedback"})
    print(json.dumps(line), flush=True)
    for variant in VARIANTS:
        rows = []
        for i in range(len(queries)):
            top = np.argsort(-first[i], kind="stable")[:10]
            weights = first[i][top].astype(np.float64)
            own = qshare[i].toarray().ravel()
            if weights.sum() <= 0: rows.append(own); continue
            if variant.startswith("likelihood"):
                weights = np.exp((weights - weights.max()) / float(variant.split("-")[1]))
            model = np.asarray(shares[top].T @ weights).ravel()
            if variant == "new-terms-only": model[own > 0] = 0
            if variant == "idf-weighted": model = model * idf
            keep = np.argsort(-model, kind="stable")[:10]
            fb = np.zeros(v)
            if model[keep].sum() > 0: fb[keep] = model[keep] / model[keep].sum()
            rows.append(0.5 * own + 0.5 * fb)
        scores = (sp.csr_matrix(np.array(rows)) @ bm25.T).toarray()
        line = rw.measure(scores, relevant); line.update({"set": name, "variant": variant})
        print(json.dumps(line), flush=True)


def main():
    data, titles_dir = sys.argv[1].rstrip("/"), sys.argv[2]
    run("medquad", *spt.medquad(data))
    run("titles", *spt.titles(titles_dir))
    run("cranfield", *pp.cranfield())


if __name__ == "__main__":
    main()
