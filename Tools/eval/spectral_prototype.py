"""NumPy/scikit-learn prototype of the self-taught spectral targets (issue #3), to tell where
20 Newsgroups precision@100 is lost: in the targets, or in the encoder that learns them.

For each vocabulary it prints (JSON lines): exact TF-IDF cosine; the targets' own quality,
with the test codes made by Nystrom extension (average of the 20 nearest train documents'
embeddings, then the same ITQ rotation and medians); and a linear ridge regression from TF-IDF
to the +-1 target bits, both database and queries encoded by it (as the product encodes both).
Same protocol as `twentyq eval`: train = database, test = queries, tie-aware P@100.
Usage: python3 Tools/eval/spectral_prototype.py [DATA_DIR]   (needs scikit-learn; ~10 minutes)
"""
import gzip, json, sys
import numpy as np, scipy.sparse as sp, scipy.sparse.linalg as sla
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge

data = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
train, test = [], []
for line in gzip.open(f"{data}/20news/20news-bydate.jsonl.gz", "rt"):
    d = json.loads(line); t = d["text"]; i = t.find("\n\n")
    (train if d["split"] == "train" else test).append((t[i + 2:] if i >= 0 else "", d["label"]))
ltr = np.array([l for _, l in train]); lte = np.array([l for _, l in test])

def precision_float(q, db):
    out = []
    for s in range(0, q.shape[0], 1000):
        sim = (q[s:s + 1000] @ db.T).toarray()
        idx = np.argpartition(-sim, 100, axis=1)[:, :100]
        out.append((ltr[idx] == lte[s:s + 1000, None]).mean(1))
    return float(np.concatenate(out).mean())

def precision_hamming(qb, dbb, k=100):
    """Expected precision over all orders of the documents tied at the k-th distance."""
    qf = qb * 2.0 - 1; df = dbb * 2.0 - 1; nb = qb.shape[1]; out = []
    for s in range(0, len(qf), 500):
        dist = np.rint((nb - qf[s:s + 500] @ df.T) / 2)
        rel = ltr[None, :] == lte[s:s + 500, None]
        for r in range(len(dist)):
            d = dist[r]; kth = np.partition(d, k - 1)[k - 1]
            closer = d < kth; tie = d == kth
            out.append((rel[r][closer].sum() + (k - closer.sum()) * rel[r][tie].mean()) / k)
    return float(np.mean(out))

def knn(q, db, k, exclude_self):
    idx = np.zeros((q.shape[0], k), np.int64); sim = np.zeros((q.shape[0], k))
    for s in range(0, q.shape[0], 1000):
        m = (q[s:s + 1000] @ db.T).toarray()
        if exclude_self: m[np.arange(m.shape[0]), s + np.arange(m.shape[0])] = -1
        i = np.argpartition(-m, k, axis=1)[:, :k]
        idx[s:s + 1000] = i; sim[s:s + 1000] = np.take_along_axis(m, i, 1)
    return idx, sim

def itq(y, iterations=50, seed=0):
    mean = y.mean(0); yc = y - mean
    r = np.linalg.qr(np.random.RandomState(seed).randn(y.shape[1], y.shape[1]))[0]
    for _ in range(iterations):
        u, _, vt = np.linalg.svd(yc.T @ np.sign(yc @ r)); r = u @ vt
    return mean, r

bits, neighbors = 64, 20
for ngrams, size in [((1, 2), 10_000), ((1, 1), 10_000), ((1, 1), 20_000)]:
    vec = TfidfVectorizer(sublinear_tf=True, min_df=3, max_df=0.5, max_features=size, ngram_range=ngrams)
    xtr = vec.fit_transform([b for b, _ in train]); xte = vec.transform([b for b, _ in test])
    row = {"ngrams": list(ngrams), "vocabulary": size, "tfidf_cosine": precision_float(xte, xtr)}
    i, s = knn(xtr, xtr, neighbors, True)
    n = xtr.shape[0]
    w = sp.csr_matrix((s.ravel(), (np.repeat(np.arange(n), neighbors), i.ravel())), shape=(n, n))
    w = w.maximum(w.T); deg = np.asarray(w.sum(1)).ravel(); deg[deg == 0] = 1e-9
    a = sp.diags(deg ** -0.5) @ w @ sp.diags(deg ** -0.5)
    vals, vecs = sla.eigsh(a, k=bits + 1, which="LA", v0=np.ones(n))
    y = vecs[:, np.argsort(-vals)][:, 1:]
    mean, rot = itq(y); yr = (y - mean) @ rot; med = np.median(yr, 0); targets = yr > med
    ti, ts = knn(xte, xtr, neighbors, False)
    ts = np.maximum(ts, 1e-9)
    yte = (ts[:, :, None] * y[ti]).sum(1) / ts.sum(1, keepdims=True)
    row["targets_nystrom"] = precision_hamming(((yte - mean) @ rot) > med, targets)
    ridge = Ridge(alpha=3).fit(xtr, targets * 2.0 - 1)
    row["ridge_on_targets"] = precision_hamming(ridge.predict(xte) > 0, ridge.predict(xtr) > 0)
    print(json.dumps(row), flush=True)
