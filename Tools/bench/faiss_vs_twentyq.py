"""Exact Hamming k-NN: faiss.IndexBinaryFlat vs `twentyq bench search`, in one run.

Both search N random codes of B bits with Q queries (half random codes, half database codes
with ~10% of bits flipped, as `twentyq bench search` makes them) for the k nearest. The two
alternate, R repetitions each per thread count; medians and the ratio twentyq / FAISS are
printed as one JSON object. `--kernels best,avx2` times each named twentyq kernel build in the
same alternation (one row per thread count and kernel, each against the FAISS runs of its own
repetitions). FAISS time covers `index.search` only; twentyq's covers the search
only (its JSON `seconds`), never code generation or process start.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import time

import faiss
import numpy as np


def faiss_search(codes, queries, k, threads):
    faiss.omp_set_num_threads(threads)
    index = faiss.IndexBinaryFlat(codes.shape[1] * 8)
    index.add(codes)
    start = time.perf_counter()
    index.search(queries, k)
    return time.perf_counter() - start


def twentyq_search(binary, args, threads, db=None, kernel="best"):
    source = ["--db", db] if db else ["--count", str(args.count), "--bits", str(args.bits)]
    out = subprocess.run(
        [binary, "bench", "search", *source, "--queries", str(args.queries), "-k", str(args.k),
         "--threads", str(threads), "--seed", str(args.seed), "--kernel", kernel, "--verify", "2", "--json"],
        check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["verified"], "twentyq results differ from the reference"
    return result


def make_data(args):
    rng = np.random.default_rng(args.seed)
    nbytes = args.bits // 8
    codes = rng.integers(0, 256, size=(args.count, nbytes), dtype=np.uint8)
    half = args.queries // 2
    random_q = rng.integers(0, 256, size=(args.queries - half, nbytes), dtype=np.uint8)
    near = codes[rng.integers(0, args.count, size=half)].copy()
    bits = np.unpackbits(near, axis=1)
    for row in bits:
        flip = rng.choice(args.bits, size=args.bits // 10, replace=False)
        row[flip] ^= 1
    return codes, np.vstack([random_q, np.packbits(bits, axis=1)])


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--twentyq", required=True)
    p.add_argument("--count", type=int, default=1_000_000)
    p.add_argument("--bits", type=int, default=256)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--db", help="also time twentyq on this LMDB index (same count and bits)")
    p.add_argument("--kernels", default="best", help="twentyq kernel builds to time, comma-separated (best, avx512, avx2, popcnt)")
    args = p.parse_args()
    if args.bits % 8:
        p.error("--bits must be a multiple of 8 for FAISS")

    codes, queries = make_data(args)
    rows = []
    kernels = args.kernels.split(",")
    for threads in [int(t) for t in args.threads.split(",")]:
        f_times = {kernel: [] for kernel in kernels}
        t_times = {kernel: [] for kernel in kernels}
        d_times, used = [], {}
        for _ in range(args.reps):  # alternate, so drifts in machine load hit both
            for kernel in kernels:
                f_times[kernel].append(faiss_search(codes, queries, args.k, threads))
                result = twentyq_search(args.twentyq, args, threads, kernel=kernel)
                t_times[kernel].append(result["seconds"])
                used[kernel] = result["kernel"]
            if args.db:
                d_times.append(twentyq_search(args.twentyq, args, threads, db=args.db)["seconds"])
        for kernel in kernels:
            rows.append(compare(args, threads, kernel, used[kernel], f_times[kernel], t_times[kernel],
                                d_times if kernel == kernels[0] else []))
    print(json.dumps({
        "benchmark": "exact k-NN, faiss.IndexBinaryFlat vs twentyq",
        "date": datetime.date.today().isoformat(), "machine": f"{cpu_name()}, {os.cpu_count()} cpus",
        "faiss_version": faiss.__version__, "faiss_options": faiss.get_compile_options(),
        "count": args.count, "bits": args.bits,
        "queries": args.queries, "k": args.k, "reps": args.reps, "results": rows,
    }, indent=1))


def compare(args, threads, kernel, used, f_times, t_times, d_times):
    f, t = statistics.median(f_times), statistics.median(t_times)
    row = {
        "threads": threads, "kernel": kernel, "kernel_used": used,
        "faiss_seconds": f, "twentyq_seconds": t,
        "faiss_qps": args.queries / f, "twentyq_qps": args.queries / t,
        "faiss_gcodes_per_s": args.count * args.queries / f / 1e9,
        "twentyq_gcodes_per_s": args.count * args.queries / t / 1e9,
        "ratio_qps": f / t,
        "faiss_runs": f_times, "twentyq_runs": t_times,
    }
    if d_times:
        d = statistics.median(d_times)
        row.update({"twentyq_lmdb_seconds": d, "twentyq_lmdb_qps": args.queries / d, "ratio_lmdb_qps": f / d,
                    "twentyq_lmdb_runs": d_times})
    return row


if __name__ == "__main__":
    main()
