#!/usr/bin/env python3
"""A held-out check for the vector encoders that involves no test vector: 500 of the 11,314
20 Newsgroups *train* MiniLM vectors (numpy default_rng(7)) become queries, the other 10,814
the database and training set; the exact cosine top-100 of each query is the ground truth.

Usage: Tools/eval/make_heldout_split.py OUT_DIR [DATA_DIR]
Writes OUT_DIR/db.fvecs, q.fvecs and truth.ivecs, for
  twentyq eval-vectors --database OUT_DIR/db.fvecs --queries OUT_DIR/q.fvecs --truth OUT_DIR/truth.ivecs ...
"""
import os
import sys

import numpy as np


def write_vecs(path, m, dtype):
    m = np.ascontiguousarray(m, dtype)
    out = np.empty((m.shape[0], m.shape[1] + 1), np.int32)
    out[:, 0] = m.shape[1]
    out[:, 1:] = m.view(np.int32)
    out.tofile(path)


def main():
    out = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    data = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "..", "shared", "data")
    raw = np.fromfile(os.path.join(data, "embeddings-minilm", "20news-train.fvecs"), dtype=np.int32)
    d = raw[0]
    x = raw.reshape(-1, d + 1)[:, 1:].view(np.float32)
    held = np.random.default_rng(7).choice(len(x), 500, replace=False)
    keep = np.setdiff1d(np.arange(len(x)), held)
    db, q = x[keep], x[held]
    os.makedirs(out, exist_ok=True)
    write_vecs(os.path.join(out, "db.fvecs"), db, np.float32)
    write_vecs(os.path.join(out, "q.fvecs"), q, np.float32)
    nd = db / np.linalg.norm(db, axis=1, keepdims=True)
    nq = q / np.linalg.norm(q, axis=1, keepdims=True)
    truth = np.argsort(-(nq @ nd.T), axis=1, kind="stable")[:, :100]
    write_vecs(os.path.join(out, "truth.ivecs"), truth, np.int32)
    print(f"{out}: {len(db)} database vectors, {len(q)} queries, truth top-100", file=sys.stderr)


if __name__ == "__main__":
    main()
