#!/usr/bin/env python3
"""NumPy prototype of the vector encoder's training (VectorTrainer), to try architectures
before building them in Swift: one ternary layer (the shipped encoder), a ternary layer with
finer scale groups, and two ternary layers (a product through a float hidden layer).

Same objective, sampling and schedule as VectorTrainer: similarity distillation (KL between
softmax(cosine / 0.05) and softmax(beta * Hamming similarity)) over a pool of anchors, sampled
float neighbours and random vectors; straight-through sign via tanh; balance penalty; AdamW
with warm-up and cosine decay; latent float weights quantised in every forward pass.

Usage: Tools/eval/vector_prototype.py --arch linear|groups|two --bits 384 [--hidden 768]
       [--group 64] [--weights ternary|float] [--queries test|heldout]
Prints one JSON line: tie-aware recall@10 of the float top-10.
"""
import argparse, json, os, sys, time
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "..", "shared", "data", "embeddings-minilm")


def fvecs(path):
    a = np.fromfile(path, dtype=np.int32)
    d = a[0]
    return a.reshape(-1, d + 1)[:, 1:].view(np.float32).copy()


def ivecs(path):
    a = np.fromfile(path, dtype=np.int32)
    d = a[0]
    return a.reshape(-1, d + 1)[:, 1:].copy()


def normalize(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def quantize(w, fmt, group):
    """Dequantised low-bit weights (rows x cols): absmean scale per row (or per `group` columns)."""
    if fmt == "float":
        return w
    r, c = w.shape
    g = group or c
    wg = w.reshape(r, c // g, g)
    s = np.maximum(np.abs(wg).mean(axis=2, keepdims=True), 1e-8)
    q = np.clip(np.round(wg / s), -1, 1)
    return (q * s).reshape(r, c)


def itq(x, bits, iters=50, seed=42):
    mean = x.mean(0)
    xc = x - mean
    cov = xc.T @ xc
    vals, vecs = np.linalg.eigh(cov)
    p = vecs[:, ::-1][:, :bits]
    y = xc @ p
    rng = np.random.default_rng(seed)
    r, _ = np.linalg.qr(rng.standard_normal((bits, bits)))
    for _ in range(iters):
        z = np.sign(y @ r); z[z == 0] = 1
        u, _, vt = np.linalg.svd(y.T @ z)
        r = u @ vt
    w = (p @ r).T
    return w.astype(np.float32), (-(w @ mean)).astype(np.float32)


class Adam:
    def __init__(self, shape, wd):
        self.m = np.zeros(shape, np.float32); self.v = np.zeros(shape, np.float32); self.wd = wd

    def step(self, w, g, lr, t):
        self.m = 0.9 * self.m + 0.1 * g
        self.v = 0.999 * self.v + 0.001 * g * g
        u = (self.m / (1 - 0.9 ** t)) / (np.sqrt(self.v / (1 - 0.999 ** t)) + 1e-8)
        w -= lr * (u + self.wd * w)


def train(x, args):
    n, d = x.shape
    bits = args.bits
    rng = np.random.default_rng(args.seed)
    w0, b0 = itq(x, min(bits, d))
    # Layers: list of latent matrices; forward h = x W1^T (+ b1), logits = h W2^T + b
    if args.arch == "two":
        h = args.hidden
        a = rng.standard_normal((h, d)).astype(np.float32)
        q, _ = np.linalg.qr(a)  # h x d orthonormal columns
        w1 = q.T.copy().T  # h x d, W1^T W1 = I
        w2 = (w0 @ w1.T)  # bits x h: product w2 w1 = w0
        layers = [w1.astype(np.float32) * np.sqrt(h / d), (w2 / np.sqrt(h / d)).astype(np.float32)]
    else:
        layers = [w0]
    b = b0.copy()
    # unit logit deviation
    z = forward(x[:4000], layers, args)[0] + b
    sd = z.std()
    layers[-1] /= sd; b /= sd
    sims = x @ x.T
    np.fill_diagonal(sims, -np.inf)
    nbrs = np.argpartition(-sims, 50, axis=1)[:, :50]
    del sims
    opts = [Adam(l.shape, args.wd) for l in layers] + [Adam(b.shape, 0)]
    log_beta, bm, bv = np.log(20.0), 0.0, 0.0
    for step in range(1, args.steps + 1):
        anchors = rng.choice(n, 256, replace=False)
        pool = np.concatenate([anchors, nbrs[anchors][np.arange(256)[:, None], rng.integers(0, 50, (256, 4))].ravel(),
                               rng.integers(0, n, 512)])
        xa, xp = x[anchors], x[pool]
        qs = [quantize(l, args.weights, args.group) for l in layers]
        za, ha = forward(xa, layers, args, qs); zp, hp = forward(xp, layers, args, qs)
        za += b; zp += b
        ca, cp = np.where(za > 0, 1.0, -1.0).astype(np.float32), np.where(zp > 0, 1.0, -1.0).astype(np.float32)
        ta, tp = np.tanh(za), np.tanh(zp)
        s = ca @ cp.T / bits
        t = xa @ xp.T / 0.05
        mask = anchors[:, None] == pool[None, :]
        beta = np.exp(log_beta)
        lt = np.where(mask, -np.inf, t); ls = np.where(mask, -np.inf, beta * s)
        lt = lt - lt.max(1, keepdims=True); lt -= np.log(np.exp(lt).sum(1, keepdims=True))
        ls = ls - ls.max(1, keepdims=True); ls -= np.log(np.exp(ls).sum(1, keepdims=True))
        pt, qq = np.exp(lt), np.exp(ls)
        g = np.where(mask, 0, (qq - pt) / 256).astype(np.float32)
        gbeta = float((g * s).sum() * beta)
        g = g * beta / bits
        da = g @ cp; dp = g.T @ ca
        means = ta.mean(0)
        da = (da + args.balance * 2 * means / (256 * bits)) * (1 - ta * ta)
        dp = dp * (1 - tp * tp)
        grads = backward([xa, xp], [ha, hp], [da, dp], layers, qs, args)
        gb = da.sum(0) + dp.sum(0)
        lr = lr_at(step, args)
        bm = 0.9 * bm + 0.1 * gbeta; bv = 0.999 * bv + 0.001 * gbeta ** 2
        log_beta -= 10 * lr * (bm / (1 - 0.9 ** step)) / (np.sqrt(bv / (1 - 0.999 ** step)) + 1e-8)
        for l, gr, o in zip(layers, grads, opts):
            o.step(l, gr, lr, step)
        opts[-1].step(b, gb, lr, step)
    qs = [quantize(l, args.weights, args.group) for l in layers]
    return lambda v: (forward(v, layers, args, qs)[0] + b) > 0


def forward(x, layers, args, qs=None):
    qs = qs or [quantize(l, args.weights, args.group) for l in layers]
    if len(qs) == 1:
        return x @ qs[0].T, None
    h = x @ qs[0].T
    return h @ qs[1].T, h


def backward(xs, hs, ds, layers, qs, args):
    if len(layers) == 1:
        return [sum(d.T @ x for d, x in zip(ds, xs))]
    g2 = sum(d.T @ h for d, h in zip(ds, hs))
    g1 = sum((d @ qs[1]).T @ x for d, x in zip(ds, xs))
    return [g1, g2]


def lr_at(step, args):
    if step <= 100:
        return args.lr * step / 100
    p = min(1, (step - 100) / max(1, args.steps - 100))
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * p)))


def recall(codes_db, codes_q, truth, k=10):
    db = np.packbits(codes_db, axis=1); q = np.packbits(codes_q, axis=1)
    lut = np.array([bin(i).count("1") for i in range(256)], np.uint8)
    total = 0
    for i in range(len(q)):
        dist = lut[np.bitwise_xor(db, q[i])].sum(1, dtype=np.int32)
        kth = np.partition(dist, k - 1)[k - 1]
        total += int((dist[truth[i, :k]] <= kth).sum())
    return total / (len(q) * k)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="linear"); ap.add_argument("--bits", type=int, default=384)
    ap.add_argument("--hidden", type=int, default=768); ap.add_argument("--group", type=int, default=0)
    ap.add_argument("--weights", default="ternary"); ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--lr", type=float, default=3e-3); ap.add_argument("--wd", type=float, default=0)
    ap.add_argument("--balance", type=float, default=1.0); ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--queries", default="test")
    args = ap.parse_args()
    np.random.seed(args.seed)
    t0 = time.time()
    db = normalize(fvecs(os.path.join(DATA, "20news-train.fvecs")))
    if args.queries == "test":
        q = normalize(fvecs(os.path.join(DATA, "20news-test.fvecs")))[:500]
        truth = ivecs(os.path.join(DATA, "20news-test-vs-train.cosine-gt100.ivecs"))[:500]
    else:  # 500 train rows held out (seed 7), as in EVALUATION.md's held-out check
        rng = np.random.default_rng(7)
        held = rng.choice(len(db), 500, replace=False)
        keep = np.setdiff1d(np.arange(len(db)), held)
        q, db = db[held], db[keep]
        truth = np.argsort(-(q @ db.T), axis=1)[:, :10]
    encode = train(db.astype(np.float32), args)
    r = recall(encode(db), encode(q), truth)
    out = dict(vars(args)); out.update(recall_at_10=round(r, 4), seconds=round(time.time() - t0, 1))
    print(json.dumps(out)); sys.stdout.flush()


if __name__ == "__main__":
    main()
