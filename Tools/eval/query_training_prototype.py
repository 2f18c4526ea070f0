#!/usr/bin/env python3
"""Prototype (NumPy): codes trained for queries, without labels (issue #15, item 4).

Starts from the sign projection of projection_prototype.py (hashed sublinear TF-IDF, 2^18
buckets, Gaussian projection with seed 7: Cranfield codes alone MAP 0.197 at 256 bits,
asymmetric) and trains the projection W so that a pseudo-query's float logits score its own
passage's (relaxed) code above the other passages of the batch: in-batch softmax over the
asymmetric score q W . tanh(a d W), the contrastive recipe of dense retrievers, on
../shared/data/general only. Pseudo-queries, drawn from each passage with a seeded generator:
3 to 6 of its terms sampled by TF-IDF weight, or (Wikipedia) its title. Constants (learning rate,
temperature, epochs) are chosen on a held-out part of the same pseudo-query task (2,000
general passages never trained on, their pseudo-queries against 20,000 passages), never on
Cranfield, which is scored once at the end with the chosen setting (and the untrained start).

Usage: python3 Tools/eval/query_training_prototype.py [../shared/data]  (JSON lines)
"""
import glob, gzip, json, os, sys, time, zlib
import numpy as np, scipy.sparse as sp

sys.path.insert(0, os.path.dirname(__file__))
from projection_prototype import BUCKETS, counts, cranfield, scores_report, terms, unit  # noqa: E402

DATA = (sys.argv[1] if len(sys.argv) > 1 else "../shared/data").rstrip("/") + "/"
BITS = 256


def pseudo_queries(texts, ids, idf, rng):
    """One pseudo-query per passage: a Wikipedia title (first passage), else 3-6 of its terms by TF-IDF weight."""
    out = []
    for text, pid in zip(texts, ids):
        if pid.startswith("wikipedia:") and pid.endswith("-0") and ". " in text[:120] and rng.random() < 0.5:
            out.append(text.split(". ", 1)[0]); continue
        ts = list(dict.fromkeys(terms(text)))
        if not ts: out.append(""); continue
        w = np.array([idf[zlib.crc32(t.encode()) & (BUCKETS - 1)] for t in ts], dtype=np.float64) ** 2
        n = min(len(ts), int(rng.integers(3, 7)))
        pick = rng.choice(len(ts), size=n, replace=False, p=w / w.sum())
        out.append(" ".join(ts[i] for i in pick))
    return out


def mrr(Q, D, W, a):
    """Held-out pseudo-queries (row i's passage is D row i): MRR@100 and R@100 of the asymmetric score."""
    q = Q @ W; d = np.sign(D @ W); d[d == 0] = 1
    s = q @ d.T
    own = s[np.arange(len(s)), np.arange(len(s))]
    rank = (s > own[:, None]).sum(1)
    return float(np.mean(np.where(rank < 100, 1 / (rank + 1), 0))), float(np.mean(rank < 100))


def train(Qt, Dt, W0, lr, temperature, epochs, a, rng, batch=512, log=None):
    W = W0.copy()
    n = Qt.shape[0]
    scale = 1 / (temperature * np.sqrt(W.shape[1]))
    for epoch in range(epochs):
        order = rng.permutation(n)
        loss_sum = 0.0
        for s in range(0, n - batch + 1, batch):
            idx = order[s:s + batch]
            Qb, Db = Qt[idx], Dt[idx]
            cols = np.union1d(Qb.indices, Db.indices)
            Qs, Ds, Ws = Qb[:, cols], Db[:, cols], W[cols]
            qv = Qs @ Ws; dv = Ds @ Ws
            dt = np.tanh(a * dv)
            S = (qv @ dt.T) * scale
            S -= S.max(1, keepdims=True)
            P = np.exp(S); P /= P.sum(1, keepdims=True)
            loss_sum += -np.mean(np.log(P[np.arange(batch), np.arange(batch)] + 1e-12))
            G = P; G[np.arange(batch), np.arange(batch)] -= 1; G /= batch
            dq = (G @ dt) * scale
            ddv = ((G.T @ qv) * scale) * a * (1 - dt * dt)
            grad = Qs.T @ dq + Ds.T @ ddv
            W[cols] = Ws - lr * grad
        if log: log(epoch, loss_sum / max(1, n // batch))
    return W


def main():
    t0 = time.time()
    passages = []
    for f in sorted(glob.glob(DATA + "general/*.jsonl.gz")):
        passages += [json.loads(l) for l in gzip.open(f, "rt")]
    rng = np.random.default_rng(1)
    rng.shuffle(passages)
    general = [p["text"] for p in passages[:60000]]
    df = np.asarray((counts(general) > 0).sum(0)).ravel()
    idf = (np.log((len(general) + 1) / (df + 1)) + 1).astype(np.float32)

    def tfidf(texts):
        return unit(counts(texts).multiply(idf).tocsr()).astype(np.float32).tocsr()

    train_p, held_p = passages[:60000], passages[60000:62000]
    qrng = np.random.default_rng(3)
    Dt = tfidf([p["text"] for p in train_p]); Qt = tfidf(pseudo_queries([p["text"] for p in train_p], [p["id"] for p in train_p], idf, qrng))
    Dh = tfidf([p["text"] for p in held_p]); Qh = tfidf(pseudo_queries([p["text"] for p in held_p], [p["id"] for p in held_p], idf, qrng))
    W0 = np.random.default_rng(7).standard_normal((BUCKETS, BITS)).astype(np.float32)
    print(json.dumps({"stage": "data", "train": Qt.shape[0], "held_out": Qh.shape[0], "seconds": round(time.time() - t0, 1)}), flush=True)
    m, r = mrr(Qh, Dh, W0, 1.0)
    print(json.dumps({"stage": "held-out pseudo-queries", "setting": "untrained projection", "mrr@100": round(m, 4), "r@100": round(r, 4)}), flush=True)

    best = (m, "untrained", W0)
    for lr, temperature, epochs in [(0.5, 0.05, 2), (2.0, 0.05, 2), (0.5, 0.1, 2), (2.0, 0.1, 4), (50.0, 0.05, 2), (200.0, 0.05, 2), (1000.0, 0.05, 2), (200.0, 0.05, 6)]:
        W = train(Qt, Dt, W0, lr, temperature, epochs, 1.0, np.random.default_rng(11))
        m, r = mrr(Qh, Dh, W, 1.0)
        setting = f"lr {lr}, temperature {temperature}, epochs {epochs}"
        print(json.dumps({"stage": "held-out pseudo-queries", "setting": setting, "mrr@100": round(m, 4), "r@100": round(r, 4),
                          "seconds": round(time.time() - t0, 1)}), flush=True)
        if m > best[0]: best = (m, setting, W)

    # Cranfield, once: the untrained start and the setting chosen on the held-out pseudo-queries.
    docs, queries, relevant = cranfield()
    D = tfidf(docs); Q = tfidf(queries)
    for name, W in [("untrained projection", W0), ("trained: " + best[1], best[2])]:
        dp, qp = D @ W, Q @ W
        db = (dp > 0).astype(np.float32)
        scores_report(f"{BITS} bits, {name}, asymmetric", qp @ (2 * db - 1).T, relevant, p10=True)
        qb = (qp > 0).astype(np.float32)
        scores_report(f"{BITS} bits, {name}, Hamming", -(qb @ (1 - db).T + (1 - qb) @ db.T), relevant)


if __name__ == "__main__":
    main()
