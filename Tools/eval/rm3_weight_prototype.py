#!/usr/bin/env python3
"""Prototype: how much of the typed query RM3 should keep, chosen on training-side sets.

RM3 (the default second round, `RelevanceFeedback`) mixes the query's own term shares with the
first round's relevance model at originalQueryWeight 0.5, Anserini's published default. On
MedQuAD's questions (stemmer_prototype.py's medquad set: NIH questions as typed queries, their
answers as documents) that costs 0.054 MAP against BM25 alone, through the real CLI as well:
the question's aspect word ("symptoms", "treatment") is one term among the disease's many, and
the first round's ten best are the same disease's other answers. On the Wikipedia titles set
it gains 0.018. This sweeps the weight (and fbTerms 10 / 20) over both training-side sets, the
analyzer as shipped (S stemmer), exhaustive BM25 (k1 1.2, b 0.75), fbDocs 10; Cranfield (the
dev set) is printed beside them, not used to choose.

  python3 Tools/eval/rm3_weight_prototype.py DATA_DIR TITLES_DIR      (numpy, scipy, nltk)
One JSON line per set x fbTerms x weight: MAP@100, P@10, R@100; then per (fbTerms, weight) the
mean MAP of the two training-side sets.
"""
import json, os, sys

import numpy as np, scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stemmer_prototype as spt  # noqa: E402
import projection_prototype as pp  # noqa: E402

WEIGHTS = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def sweep(name, docs, queries, relevant, table):
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
    for fb_terms in (10, 20):
        models = []
        for i in range(len(queries)):
            top = np.argsort(-first[i], kind="stable")[:10]
            weights = first[i][top]
            fb = np.zeros(v, np.float32)
            if weights.sum() > 0:
                model = np.asarray(shares[top].T @ weights).ravel()
                keep = np.argsort(-model, kind="stable")[:fb_terms]
                fb[keep] = model[keep] / model[keep].sum()
            else:
                fb = qshare[i].toarray().ravel()
            models.append(fb)
        fbm = sp.csr_matrix(np.array(models))
        for weight in WEIGHTS:
            mixed = weight * qshare + (1 - weight) * fbm
            scores = (mixed @ bm25.T).toarray()
            line = measure(scores, relevant)
            line.update({"set": name, "fb_terms": fb_terms, "original_weight": weight})
            print(json.dumps(line), flush=True)
            table.setdefault((fb_terms, weight), {})[name] = line["map@100"]


def measure(scores, relevant):
    aps, recalls, precisions = [], [], []
    for q in range(scores.shape[0]):
        rel = relevant.get(q)
        if not rel: continue
        top = np.argsort(-scores[q], kind="stable")[:100]
        hits, s = 0, 0.0
        for i, d in enumerate(top):
            if d in rel: hits += 1; s += hits / (i + 1)
        aps.append(s / len(rel)); recalls.append(hits / len(rel)); precisions.append(len(set(top[:10].tolist()) & rel) / 10)
    return {"queries": len(aps), "map@100": round(float(np.mean(aps)), 4), "p@10": round(float(np.mean(precisions)), 4),
            "r@100": round(float(np.mean(recalls)), 4)}


def main():
    data, titles_dir = sys.argv[1].rstrip("/"), sys.argv[2]
    table = {}
    sweep("medquad", *spt.medquad(data), table)
    sweep("titles", *spt.titles(titles_dir), table)
    sweep("cranfield", *pp.cranfield(), table)
    for (fb_terms, weight), maps in sorted(table.items()):
        print(json.dumps({"fb_terms": fb_terms, "original_weight": weight,
                          "training_side_mean_map": round((maps["medquad"] + maps["titles"]) / 2, 4),
                          "cranfield_map": maps["cranfield"]}))


if __name__ == "__main__":
    main()
