"""Rescored vector search over 1M stored vectors: twentyq against FAISS, same codes, same run.

Database: N unit vectors (default 1,000,000) synthesised from the 35,733 real all-MiniLM-L6-v2
vectors in ../shared/data/embeddings-minilm (20news train and test, STS-B sentences, Cranfield
documents): vector i = normalise(base[i mod 35,733] + gaussian noise of norm ~0.5), seed 0.
Each perturbed copy keeps a cosine of about 0.89 with its base, so the database has the
neighbourhood structure of real embeddings and no exact duplicates.
Queries: the first Q 20news test vectors (real, unperturbed).

Steps: train a B-bit ternary vector encoder on the 20news train vectors (`twentyq train
--vectors`), index the N vectors with int8 storage (`twentyq index --vectors --store-vectors
int8`: time, rate, disk), then time single queries: `twentyq bench vectors` (encode, scan
all codes for the k*oversample*shortlist Hamming-nearest, keep the k*oversample best by the
asymmetric score, read their int8 vectors from LMDB, re-rank) against
faiss.IndexBinaryFlat.search(1 query, k*oversample*shortlist) + numpy re-ranking of all of
them with an int8 matrix held in memory, over the same codes (exported from the index) and
queries. --shortlist 1 times the plain pipeline (Hamming-nearest rescored) on both sides.
"""
import argparse, json, os, subprocess, sys, time
import numpy as np

def fvecs(path):
    a = np.fromfile(path, dtype=np.int32)
    d = a[0]
    return a.reshape(-1, d + 1)[:, 1:].view(np.float32).copy()

def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return r.stdout

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--twentyq", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--work", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "twentyq-vectors-1m"))
    p.add_argument("--count", type=int, default=1_000_000)
    p.add_argument("--bits", type=int, default=256)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--oversample", type=int, default=4)
    p.add_argument("--shortlist", type=int, default=10)
    p.add_argument("--steps", type=int, default=1500)
    a = p.parse_args()
    emb = os.path.join(a.data, "embeddings-minilm")
    os.makedirs(a.work, exist_ok=True)
    out = {"date": time.strftime("%Y-%m-%d"), "count": a.count, "bits": a.bits, "k": a.k, "oversample": a.oversample,
           "shortlist": a.shortlist}

    base = np.concatenate([fvecs(os.path.join(emb, f)) for f in
                           ["20news-train.fvecs", "20news-test.fvecs", "stsb-sentences.fvecs", "cran-docs.fvecs"]])
    big = os.path.join(a.work, f"db-{a.count}.npy")
    if not os.path.exists(big):
        rng = np.random.default_rng(0)
        x = np.empty((a.count, base.shape[1]), dtype=np.float32)
        for s in range(0, a.count, 100_000):
            e = min(a.count, s + 100_000)
            v = base[np.arange(s, e) % len(base)] + rng.standard_normal((e - s, base.shape[1]), dtype=np.float32) * (0.5 / np.sqrt(base.shape[1]))
            x[s:e] = v / np.linalg.norm(v, axis=1, keepdims=True)
        np.save(big, x)
    queries = fvecs(os.path.join(emb, "20news-test.fvecs"))[: a.queries]
    qfile = os.path.join(a.work, "queries.npy")
    np.save(qfile, queries)

    model = os.path.join(a.work, f"model-{a.bits}.tqm")
    t = time.time()
    run([a.twentyq, "train", "--vectors", os.path.join(emb, "20news-train.fvecs"), "--bits", str(a.bits),
         "--steps", str(a.steps), "--out", model, "--json"])
    out["train_seconds"] = time.time() - t

    db = os.path.join(a.work, f"idx-{a.count}-{a.bits}")
    if os.path.exists(db):
        subprocess.run(["rm", "-rf", db], check=True)
    t = time.time()
    report = json.loads(run([a.twentyq, "index", "--db", db, "--vectors", big, "--model", model,
                             "--store-vectors", "int8", "--batch", "20000", "--json"]))
    out["index_seconds"] = time.time() - t
    out["index_vectors_per_second"] = a.count / out["index_seconds"]
    out["index_disk_bytes"] = os.path.getsize(os.path.join(db, "data.mdb"))

    bench = json.loads(run([a.twentyq, "bench", "vectors", "--db", db, "--queries", qfile, "-k", str(a.k),
                            "--oversample", str(a.oversample), "--shortlist", str(a.shortlist), "--json"]))
    out["twentyq"] = {key: bench[key] for key in ["median_ms", "p95_ms", "mean_ms", "first_query_ms"]}

    # The anchor: the same codes in faiss.IndexBinaryFlat, the same int8 vectors in memory.
    import faiss
    qdb = os.path.join(a.work, "queries-idx")
    subprocess.run(["rm", "-rf", qdb], check=True)
    run([a.twentyq, "index", "--db", qdb, "--vectors", qfile, "--model", model])
    def codes(index_dir, n):
        rows = {}
        for line in run([a.twentyq, "export", "--db", index_dir]).splitlines():
            o = json.loads(line)
            rows[int(o["id"])] = o["code"]
        return rows
    def to_bytes(hexcode):
        # The hex is bit B-1 first; any fixed bit order gives the same Hamming distances.
        return np.frombuffer(bytes.fromhex(hexcode), dtype=np.uint8)
    dbrows = codes(db, a.count)
    qrows = codes(qdb, a.queries)
    dbcodes = np.stack([to_bytes(dbrows[i]) for i in range(a.count)])
    qcodes = np.stack([to_bytes(qrows[i]) for i in range(a.queries)])
    x = np.load(big, mmap_mode="r")
    scale = np.abs(x).max(axis=1) / 127
    x8 = np.round(x / scale[:, None]).astype(np.int8)
    norms = np.linalg.norm(x8.astype(np.float32), axis=1)
    index = faiss.IndexBinaryFlat(a.bits)
    index.add(dbcodes)
    faiss.omp_set_num_threads(1)
    # With a shortlist, FAISS fetches the same k*oversample*shortlist Hamming-nearest and numpy
    # rescores all of them exactly (more arithmetic than twentyq's asymmetric step, as good or
    # better in quality): the anchor does at least the same work.
    m = a.k * a.oversample * a.shortlist
    lat = []
    for i in range(a.queries):
        t0 = time.perf_counter()
        _, ids = index.search(qcodes[i:i + 1], m)
        c = ids[0]
        s = (x8[c].astype(np.float32) @ queries[i]) / norms[c]
        top = c[np.argsort(-s, kind="stable")[: a.k]]
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    out["faiss"] = {"median_ms": lat[len(lat) // 2], "p95_ms": lat[len(lat) * 95 // 100], "mean_ms": sum(lat) / len(lat),
                    "version": faiss.__version__, "note": "IndexBinaryFlat, 1 OpenMP thread, int8 matrix in RAM"}
    out["median_ratio_faiss_over_twentyq"] = out["faiss"]["median_ms"] / out["twentyq"]["median_ms"]
    print(json.dumps(out))

if __name__ == "__main__":
    main()
