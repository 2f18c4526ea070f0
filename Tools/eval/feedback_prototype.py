#!/usr/bin/env python3
"""Prototype (NumPy): pseudo-relevance feedback on Cranfield over exhaustive BM25.

Asks, before anything is built in Swift, whether a second round after BM25 helps typed
queries, and which kind: RM3 on terms (Lavrenko and Croft 2001, Anserini's form: the first
round's fbDocs best documents, each document's term shares weighted by its BM25 score, the
fbTerms strongest terms mixed with the query's own shares at originalQueryWeight), or feedback
through the codes (each document scored by its mean number of agreeing bits with the first
round's best documents' codes, min-max normalised and mixed with BM25, or fused by RRF). The
analyzer, BM25 (k1 1.2, b 0.75) and the Cranfield reader are projection_prototype.py's. RM3 is
run at Anserini's defaults (10, 10, 0.5) and at a few neighbours of them, to see whether the
gain hinges on the constants; nothing here chooses the shipped constants.

Usage (the codes are the shipped model's, made by the real CLI):
  python3 Tools/eval/feedback_prototype.py DATA_DIR --write-docs cran.jsonl   # ids "0".."1399"
  twentyq index --db cran-idx cran.jsonl && twentyq export --db cran-idx > codes.jsonl
  python3 Tools/eval/feedback_prototype.py DATA_DIR codes.jsonl
Prints one JSON line per method: MAP@100, P@10, R@100.
"""
import json, os, sys

import numpy as np, scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import projection_prototype as pp  # noqa: E402  (reads DATA_DIR from sys.argv[1])


def report(name, scores, relevant):
    pp.scores_report(name, scores, relevant, p10=True)


def main():
    docs, queries, relevant = pp.cranfield()
    n = len(docs)
    if sys.argv[2] == "--write-docs":
        with open(sys.argv[3], "w") as f:
            for i, text in enumerate(docs): f.write(json.dumps({"id": str(i), "text": text}) + "\n")
        return
    codes = None
    for line in open(sys.argv[2]):
        r = json.loads(line)
        bits = 4 * len(r["code"])
        if codes is None: codes = np.zeros((n, bits), dtype=np.float32); present = np.zeros(n, bool)
        i = int(r["id"])
        codes[i] = [int(c) for c in bin(int(r["code"], 16))[2:].zfill(bits)]
        present[i] = True
    raw = pp.counts(docs, sublinear=False).tocoo()
    cdf = np.bincount(raw.col, minlength=pp.BUCKETS)
    idf = np.log(1 + (n - cdf + 0.5) / (cdf + 0.5))
    length = np.bincount(raw.row, weights=raw.data, minlength=n); avg = length.mean()
    w = raw.data * 2.2 / (raw.data + 1.2 * (0.25 + 0.75 * length[raw.row] / avg)) * idf[raw.col]
    bm25 = sp.csr_matrix((w, (raw.row, raw.col)), shape=raw.shape)
    qtf = pp.counts(queries, sublinear=False).tocsr()
    first = (qtf.sign() @ bm25.T).toarray()
    report("exhaustive BM25", first, relevant)

    tf = pp.counts(docs, sublinear=False).tocsr()
    shares = sp.diags(1 / np.asarray(tf.sum(1)).ravel().clip(1)) @ tf

    def rm3(fb_docs, fb_terms, original):
        rows = []
        for q in range(len(queries)):
            top = [d for d in np.argsort(-first[q], kind="stable")[:fb_docs] if first[q, d] > 0]
            model = np.asarray((sp.diags(first[q, top]) @ shares[top]).sum(0)).ravel()
            keep = np.argsort(-model, kind="stable")[:fb_terms]
            expansion = np.zeros(pp.BUCKETS); expansion[keep] = model[keep]
            expansion /= max(expansion.sum(), 1e-12)
            own = qtf[q].toarray().ravel(); own /= max(own.sum(), 1)
            rows.append(original * own + (1 - original) * expansion)
        return (sp.csr_matrix(np.array(rows)) @ bm25.T).toarray()

    for fb_docs, fb_terms, original in ((10, 10, 0.5), (5, 10, 0.5), (20, 20, 0.5), (10, 20, 0.5), (10, 10, 0.7)):
        report(f"BM25 + RM3 fbDocs {fb_docs} fbTerms {fb_terms} originalQueryWeight {original}", rm3(fb_docs, fb_terms, original), relevant)

    agree = codes @ codes.T + (1 - codes) @ (1 - codes).T
    agree[:, ~present] = 0

    def minmax(x):
        lo, hi = x.min(1, keepdims=True), x.max(1, keepdims=True)
        return (x - lo) / (hi - lo + 1e-12)

    def ranks(x): return np.argsort(np.argsort(-x, 1, kind="stable"), 1) + 1

    for base_name, base in (("BM25", first), ("BM25 + RM3 (10, 10, 0.5)", rm3(10, 10, 0.5))):
        for f in (5, 10):
            top = np.argsort(-base, 1, kind="stable")[:, :f]
            feedback = np.stack([agree[t].mean(0) for t in top])
            report(f"{base_name} + code feedback from {f} documents, half and half (min-max)", 0.5 * minmax(base) + 0.5 * minmax(feedback), relevant)
            report(f"{base_name} + code feedback from {f} documents, RRF c=60", 1 / (60 + ranks(base)) + 1 / (60 + ranks(feedback)), relevant)


if __name__ == "__main__":
    main()
