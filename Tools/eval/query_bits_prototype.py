#!/usr/bin/env python3
"""Prototype (NumPy) of the query bits (`LexicalProjection`) before they were built in Swift:
+-1 (Rademacher) sign projections of hashed TF-IDF at 384 to 768 bits, three seeds each, scored
asymmetrically (query projections against document signs), with and without Rocchio feedback in
code space (the first round's 10 best codes averaged, mixed half and half with the query, both
at unit length: RM3's published constants, not tuned).

Codes alone on Cranfield, nothing fitted on Cranfield: the analyzer, hashing and IDF (60,000
general passages) are those of Tools/eval/projection_prototype.py.

Usage: python3 Tools/eval/query_bits_prototype.py [../shared/data]  (about 2 minutes; JSON lines)
"""
import gzip, glob, json, os, sys
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import projection_prototype as pp  # noqa: E402

DATA = (sys.argv[1] if len(sys.argv) > 1 else "../shared/data").rstrip("/") + "/"
pp.DATA = DATA


def main():
    docs, queries, relevant = pp.cranfield()
    general = []
    for f in sorted(glob.glob(DATA + "general/*.jsonl.gz")):
        general += [json.loads(line)["text"] for line in gzip.open(f, "rt")]
    np.random.default_rng(1).shuffle(general)
    general = general[:60000]
    df = np.asarray((pp.counts(general) > 0).sum(0)).ravel()
    idf = (np.log((len(general) + 1) / (df + 1)) + 1).astype(np.float32)
    D = pp.unit(pp.counts(docs).multiply(idf).tocsr())
    Q = pp.unit(pp.counts(queries).multiply(idf).tocsr())
    for bits in (384, 512, 640, 768):
        for seed in (7, 8, 9):
            P = np.sign(np.random.default_rng(seed).standard_normal((pp.BUCKETS, bits)).astype(np.float32))
            qp = Q @ P
            db = np.where(D @ P > 0, 1.0, -1.0).astype(np.float32)
            first = qp @ db.T
            pp.scores_report(f"+-1 projection {bits} bits, seed {seed}, asymmetric", first, relevant, p10=True)
            centroid = db[np.argsort(-first, 1)[:, :10]].mean(1)
            mixed = 0.5 * qp / np.linalg.norm(qp, axis=1, keepdims=True) + 0.5 * centroid / np.linalg.norm(centroid, axis=1, keepdims=True)
            pp.scores_report(f"+-1 projection {bits} bits, seed {seed}, asymmetric + code feedback", mixed @ db.T, relevant, p10=True)


if __name__ == "__main__":
    main()
