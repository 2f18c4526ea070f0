#!/usr/bin/env python3
"""Prototype (NumPy): are random sign projections of a TF-IDF vector (SimHash, Charikar 2002)
better codes for typed queries than the shipped trained model?

Codes alone on Cranfield (the ad-hoc dev set), nothing fitted on Cranfield: the IDF comes
from the first 60,000 passages of ../shared/data/general (shuffled with seed 1), terms are
hashed into 2^18 buckets (so no vocabulary limit), the analyzer follows LexicalAnalyzer
(lower-cased runs of letters and digits, NLTK stop words, Harman's S stemmer), weighting is
sublinear TF-IDF scaled to unit length (as Vocabulary.tfidf), the projection is Gaussian with
seed 7. Reported: MAP cut at 100 and R@100 under Hamming ranking and under the asymmetric score
(query projection against document signs), with exhaustive BM25 (k1 1.2, b 0.75) and exact
TF-IDF cosine as anchors computed here. The -1 judgements are dropped, as in `twentyq eval`.

Usage: python3 Tools/eval/projection_prototype.py [../shared/data]  (about 1 minute; JSON lines)
"""
import glob, gzip, json, re, sys, zlib
import numpy as np, scipy.sparse as sp

DATA = (sys.argv[1] if len(sys.argv) > 1 else "../shared/data").rstrip("/") + "/"
STOP = set("""i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself
yourselves he him his himself she she's her hers herself it it's its itself they them their theirs
themselves what which who whom this that that'll these those am is are was were be been being have has
had having do does did doing a an the and but if or because as until while of at by for with about
against between into through during before after above below to from up down in out on off over under
again further then once here there when where why how all any both each few more most other some such no
nor not only own same so than too very s t can will just don don't should should've now d ll m o re ve y
ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't
ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn wasn't weren weren't won
won't wouldn wouldn't""".split())
BUCKETS = 1 << 18


def stem(t):
    if len(t) <= 3: return t
    if t.endswith("ies") and not t.endswith(("eies", "aies")): return t[:-3] + "y"
    if t.endswith("es") and not t.endswith(("aes", "ees", "oes")): return t[:-1]
    if t.endswith("s") and not t.endswith(("us", "ss")): return t[:-1]
    return t


def terms(text):
    return [stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP]


def counts(texts, sublinear=True):
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        c = {}
        for t in terms(text):
            k = zlib.crc32(t.encode()) & (BUCKETS - 1)
            c[k] = c.get(k, 0) + 1
        for k, v in c.items():
            rows.append(i); cols.append(k); vals.append(1 + np.log(v) if sublinear else v)
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(texts), BUCKETS), dtype=np.float32)


def cranfield():
    docs, field = [], None
    for line in open(DATA + "cranfield/cran.all.1400"):
        if line.startswith(".I"): docs.append([]); field = None; continue
        if line[:2] in (".T", ".A", ".B", ".W"): field = line[:2]; continue
        if field in (".T", ".W"): docs[-1].append(line)
    queries, field = [], None
    for line in open(DATA + "cranfield/cran.qry"):
        if line.startswith(".I"): queries.append([]); field = None; continue
        if line.startswith(".W"): field = "W"; continue
        if field: queries[-1].append(line)
    relevant = {}
    for line in open(DATA + "cranfield/cranqrel"):
        q, d, g = line.split()
        if int(g) > 0: relevant.setdefault(int(q) - 1, set()).add(int(d) - 1)
    return [" ".join(d) for d in docs], [" ".join(q) for q in queries], relevant


def measure(scores, relevant):
    """MAP cut at 100, P@10 and R@100 of the rows of `scores` (queries with a relevant document)."""
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


def scores_report(name, scores, relevant, p10=False):
    """One JSON line: MAP cut at 100 and R@100 (and P@10 when asked) of the rows of `scores`."""
    m = measure(scores, relevant)
    line = {"dataset": "cranfield", "method": name, "queries": m["queries"], "map@100": m["map@100"]}
    if p10: line["p@10"] = m["p@10"]
    line["r@100"] = m["r@100"]
    print(json.dumps(line), flush=True)


def unit(m):
    n = np.sqrt(np.asarray(m.multiply(m).sum(1)).ravel()) + 1e-12
    return sp.diags(1 / n) @ m


def main():
    docs, queries, relevant = cranfield()
    general = []
    for f in sorted(glob.glob(DATA + "general/*.jsonl.gz")):
        general += [json.loads(l)["text"] for l in gzip.open(f, "rt")]
    np.random.default_rng(1).shuffle(general)
    general = general[:60000]
    df = np.asarray((counts(general) > 0).sum(0)).ravel()
    idf = (np.log((len(general) + 1) / (df + 1)) + 1).astype(np.float32)

    # Anchors: exhaustive BM25 (collection statistics) and exact TF-IDF cosine (general IDF).
    raw = counts(docs, sublinear=False).tocoo()
    n = len(docs); cdf = np.bincount(raw.col, minlength=BUCKETS)
    bidf = np.log(1 + (n - cdf + 0.5) / (cdf + 0.5)).astype(np.float32)
    length = np.bincount(raw.row, weights=raw.data, minlength=n); avg = length.mean()
    w = raw.data * 2.2 / (raw.data + 1.2 * (0.25 + 0.75 * length[raw.row] / avg)) * bidf[raw.col]
    bm25 = sp.csr_matrix((w, (raw.row, raw.col)), shape=raw.shape)
    present = counts(queries); present.data[:] = 1
    scores_report("exhaustive BM25", (present @ bm25.T).toarray(), relevant)
    D = unit(counts(docs).multiply(idf).tocsr()); Q = unit(counts(queries).multiply(idf).tocsr())
    scores_report("exact TF-IDF cosine (general IDF)", (Q @ D.T).toarray(), relevant)

    rng = np.random.default_rng(7)
    for bits in (128, 256, 384, 512):
        P = rng.standard_normal((BUCKETS, bits)).astype(np.float32)
        dp, qp = D @ P, Q @ P
        db, qb = (dp > 0).astype(np.float32), (qp > 0).astype(np.float32)
        scores_report(f"sign projection {bits} bits, Hamming", -(qb @ (1 - db).T + (1 - qb) @ db.T), relevant)
        scores_report(f"sign projection {bits} bits, asymmetric", qp @ (2 * db - 1).T, relevant)


if __name__ == "__main__":
    main()
