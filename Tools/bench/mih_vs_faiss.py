"""Single-query k-NN over the same binary codes with FAISS: IndexBinaryFlat (the exact scan,
and the ground truth), IndexBinaryMultiHash (multi-index hashing, exact only within its
substring flips `nflip`, raised from 0 until recall reaches 1.0 or a pass takes two minutes) and IndexBinaryHNSW (a graph, approximate; built on both
cores). One JSON line per configuration. Every index answers one query at a time on one
thread (TwentyQ's multi-index search runs each query on one thread too).

Recall@k is tie-aware: a returned code counts when its distance is no worse than the true
k-th distance (ids among equal distances are arbitrary).

Usage: mih_vs_faiss.py CODES.jsonl QUERIES.jsonl [--k 10] [--m M] [--queries N]
CODES/QUERIES: JSONL with "id" and "code" (hex, bit 0 last), as `twentyq export` writes.
"""
import argparse
import json
import time

import faiss
import numpy as np


def load(path, limit=None):
    codes = []
    with open(path) as f:
        for line in f:
            codes.append(json.loads(line)["code"])
            if limit and len(codes) >= limit:
                break
    # "bit 0 last": the hex string is the code's words, most significant first; reversing the
    # bytes gives bit 0 in the lowest bit of byte 0, as FAISS (and TwentyQ) lay codes out.
    raw = np.frombuffer(bytes.fromhex("".join(codes)), dtype=np.uint8).reshape(len(codes), -1)
    return np.ascontiguousarray(raw[:, ::-1])


def timed(index, queries, k):
    distances = np.empty((len(queries), k), dtype=np.int32)
    ids = np.empty((len(queries), k), dtype=np.int64)
    start = time.perf_counter()
    for q in range(len(queries)):
        d, i = index.search(queries[q:q + 1], k)
        distances[q], ids[q] = d[0], i[0]
    seconds = time.perf_counter() - start
    return distances, ids, seconds


def recall(distances, truth, k):
    kth = truth[:, k - 1:k]
    return float(np.mean(np.sum((distances <= kth) & (distances >= 0), axis=1) / k))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("codes")
    parser.add_argument("queries")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--m", type=int, help="substrings for IndexBinaryMultiHash (default: bits / log2 count)")
    parser.add_argument("--queries-limit", type=int, default=1000)
    parser.add_argument("--skip-hnsw", action="store_true")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    db = load(args.codes)
    queries = load(args.queries, args.queries_limit)
    n, bits = db.shape[0], db.shape[1] * 8
    common = {"count": n, "bits": bits, "queries": len(queries), "k": args.k, "threads": 1}

    flat = faiss.IndexBinaryFlat(bits)
    flat.add(db)
    truth, _, seconds = timed(flat, queries, args.k)
    print(json.dumps({**common, "index": "faiss.IndexBinaryFlat", "qps": len(queries) / seconds, "recall": 1.0}), flush=True)

    m = args.m or max(1, round(bits / np.log2(n)))
    b = bits // m
    start = time.perf_counter()
    mih = faiss.IndexBinaryMultiHash(bits, m, b)
    mih.add(db)
    build = time.perf_counter() - start
    # More flips until recall reaches 1.0 or a pass over the queries takes over two minutes.
    for nflip in range(0, b + 1):
        mih.nflip = nflip
        got, _, seconds = timed(mih, queries, args.k)
        r = recall(got, truth, args.k)
        print(json.dumps({**common, "index": "faiss.IndexBinaryMultiHash", "nhash": m, "b": b, "nflip": nflip,
                          "build_seconds": build, "qps": len(queries) / seconds, "recall": r}), flush=True)
        if r >= 1.0 or seconds > 120:
            break
    if args.skip_hnsw:
        return

    faiss.omp_set_num_threads(2)  # building uses both cores; searching stays on one
    start = time.perf_counter()
    hnsw = faiss.IndexBinaryHNSW(bits, 32)
    hnsw.hnsw.efConstruction = 40
    hnsw.add(db)
    build = time.perf_counter() - start
    faiss.omp_set_num_threads(1)
    for ef in (16, 64, 256):
        hnsw.hnsw.efSearch = ef
        got, _, seconds = timed(hnsw, queries, args.k)
        print(json.dumps({**common, "index": "faiss.IndexBinaryHNSW", "M": 32, "efConstruction": 40, "efSearch": ef,
                          "build_seconds": build, "qps": len(queries) / seconds, "recall": recall(got, truth, args.k)}), flush=True)


if __name__ == "__main__":
    main()
