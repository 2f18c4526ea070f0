#!/usr/bin/env python3
"""Prototype (negative): RM3's share of the original query chosen per query by how much the
first round trusts its best document.

RM3 as shipped (likelihood-weighted, originalQueryWeight 0.5) costs MAP on questions that want
one passage (MedQuAD) and gains on topical or multi-passage queries (Wikipedia titles,
Cranfield). A rule without fitted constants was tried: the feedback documents' weights
p_i = exp(s_i - s_max) / sum are already there; when the best document holds nearly all of it
(p_top -> 1, one document matters) keep the query whole, when the weight is spread keep RM3's
0.5:
  lam = 0.5 + 0.5 p_top;  lam = 1 - 0.5 (N_eff - 1) / 9 with N_eff = 1 / sum p_i^2;
  lam = max(0.5, p_top).
Exhaustive BM25 (k1 1.2, b 0.75, analyzer as shipped), fbDocs 10, fbTerms 10, on the two
training-side sets of rm3_weight_prototype.py (MedQuAD questions, Wikipedia titles) and
Cranfield (the dev set, printed, not used to choose).

  python3 Tools/eval/rm3_adaptive_prototype.py DATA_DIR TITLES_DIR      (numpy, scipy, nltk)
One JSON line per set: MAP@100 without feedback, with RM3 at 0.5, with each rule; mean p_top
and N_eff.
"""
import json, os, sys

import numpy as np, scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stemmer_prototype as spt  # noqa: E402
import projection_prototype as pp  # noqa: E402


def run(name, docs, queries, relevant):
    lexical = spt.Lexical(docs, queries, pp.stem)
    models = [lexical.relevance_model(i, weigh=lambda w: np.exp(w - w.max())) for i in range(len(queries))]
    p_top, n_eff = np.ones(len(queries)), np.ones(len(queries))
    for i in range(len(queries)):
        w = lexical.first[i][np.argsort(-lexical.first[i], kind="stable")[:10]].astype(np.float64)
        if w.max() <= 0: continue
        p = np.exp(w - w.max()); p /= p.sum()
        p_top[i], n_eff[i] = p[0], 1 / (p * p).sum()
    feedback = sp.csr_matrix(np.array(models))

    def expanded(lam):
        return ((sp.diags(lam) @ lexical.qshare + sp.diags(1 - lam) @ feedback) @ lexical.bm25.T).toarray()

    line = {"set": name, "no feedback": pp.measure(lexical.first, relevant)["map@100"],
            "rm3 0.5": pp.measure(lexical.expanded_scores(models, 0.5), relevant)["map@100"]}
    for label, lam in (("0.5 + 0.5 p_top", 0.5 + 0.5 * p_top), ("1 - 0.5 (N_eff - 1) / 9", 1 - 0.5 * (n_eff - 1) / 9),
                       ("max(0.5, p_top)", np.maximum(0.5, p_top))):
        line[label] = pp.measure(expanded(lam), relevant)["map@100"]
    line.update({"mean p_top": round(float(p_top.mean()), 3), "mean N_eff": round(float(n_eff.mean()), 2)})
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    spt.each_set(run)
