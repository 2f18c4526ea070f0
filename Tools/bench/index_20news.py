"""End-to-end CLI timings on 20 Newsgroups (issue #4), printed as one JSON object:
  - `twentyq index` of all 18,846 message bodies (header block dropped) into a fresh index,
    documents per second from the command's own summary (process start excluded) and wall time;
  - a single text query, wall-clock including process start (median of 20 runs);
  - `twentyq search --queries` with the 7,532 test messages at k = 100, wall-clock;
  - re-running the same `index` command: every document must come back unchanged;
  - with --anchor OTHER_BINARY: the batch again, run by run alternated with the anchor binary on
    the same index (--pairs N, default 3), each pair's answers compared byte for byte, and the
    ratio of the median walls (this binary's over the anchor's); then `index` alternated the
    same way into fresh indexes, the ratio of the median documents per second, and whether the
    first pair's indexes hold the same codes (ids and codes of `export`; stored fields such as
    snippets are not compared) and give the same answers to the batch (their term records).
Usage: python3 Tools/bench/index_20news.py TWENTYQ_BINARY DATA_DIR [--model FILE] [--anchor BINARY [--pairs N]]
"""
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    binary, data = sys.argv[1], sys.argv[2]
    model = sys.argv[sys.argv.index("--model") + 1] if "--model" in sys.argv else None
    anchor = sys.argv[sys.argv.index("--anchor") + 1] if "--anchor" in sys.argv else None
    pairs = int(sys.argv[sys.argv.index("--pairs") + 1]) if "--pairs" in sys.argv else 3
    work = tempfile.mkdtemp(prefix="twentyq-20news-")
    corpus, queries, db = f"{work}/corpus.jsonl", f"{work}/queries.jsonl", f"{work}/idx"
    with gzip.open(f"{data}/20news/20news-bydate.jsonl.gz", "rt", encoding="utf-8") as f, \
            open(corpus, "w") as c, open(queries, "w") as q:
        for line in f:
            d = json.loads(line)
            parts = d["text"].split("\n\n", 1)
            body = parts[1] if len(parts) > 1 else parts[0]
            c.write(json.dumps({"id": d["id"], "text": body, "label": d["label"]}) + "\n")
            if d["split"] == "test":
                q.write(json.dumps({"id": d["id"], "text": body}) + "\n")
    index_cmd = [binary, "index", "--db", db, corpus, "--json", "--skip-bad"] + (["--model", model] if model else [])
    start = time.perf_counter()
    first = json.loads(subprocess.run(index_cmd, check=True, capture_output=True, text=True).stdout)
    index_wall = time.perf_counter() - start
    again = json.loads(subprocess.run(index_cmd, check=True, capture_output=True, text=True).stdout)
    single = []
    for _ in range(20):
        start = time.perf_counter()
        subprocess.run([binary, "search", "--db", db, "-k", "10", "--json", "space shuttle launch"], check=True, capture_output=True)
        single.append(time.perf_counter() - start)
    start = time.perf_counter()
    out = subprocess.run([binary, "search", "--db", db, "--queries", queries, "-k", "100"], check=True, capture_output=True, text=True).stdout
    batch_wall = time.perf_counter() - start
    answered = sum(1 for line in out.splitlines() if len(json.loads(line)["results"]) == 100)
    compared = {}
    if anchor:
        # Alternated run by run on the same index, so both see the same machine state.
        walls = {"binary": [], "anchor": []}
        identical = True
        for _ in range(pairs):
            answers = {}
            for name, exe in (("anchor", anchor), ("binary", binary)):
                start = time.perf_counter()
                answers[name] = subprocess.run([exe, "search", "--db", db, "--queries", queries, "-k", "100"],
                                               check=True, capture_output=True).stdout
                walls[name].append(time.perf_counter() - start)
            identical = identical and answers["anchor"] == answers["binary"]
        # Indexing, alternated the same way, each run into a fresh index; the codes, fields and
        # term records of the two builds' indexes compared through export and the batch.
        rates = {"binary": [], "anchor": []}
        indexes_identical = True
        for p in range(pairs):
            built = {}
            for name, exe in (("anchor", anchor), ("binary", binary)):
                fresh = f"{work}/idx-{name}-{p}"
                summary = json.loads(subprocess.run([exe, "index", "--db", fresh, corpus, "--json", "--skip-bad"] + (["--model", model] if model else []),
                                                    check=True, capture_output=True, text=True).stdout)
                rates[name].append(summary["docs_per_second"])
                built[name] = fresh
            if p == 0:
                codes = {n: [(r["id"], r["code"]) for r in map(json.loads, subprocess.run([binary, "export", "--db", d], check=True,
                                                                                        capture_output=True, text=True).stdout.splitlines())]
                         for n, d in built.items()}
                answered_by = {n: subprocess.run([binary, "search", "--db", d, "--queries", queries, "-k", "100"], check=True, capture_output=True).stdout
                               for n, d in built.items()}
                indexes_identical = codes["anchor"] == codes["binary"] and answered_by["anchor"] == answered_by["binary"]
            for d in built.values():
                shutil.rmtree(d)
        compared = {
            "index_docs_per_second_runs": rates["binary"], "anchor_index_docs_per_second_runs": rates["anchor"],
            "index_rate_ratio_to_anchor": statistics.median(rates["binary"]) / statistics.median(rates["anchor"]),
            "indexes_identical_to_anchor": indexes_identical,
            "anchor": anchor, "pairs": pairs,
            "batch_wall_seconds_runs": walls["binary"], "anchor_batch_wall_seconds_runs": walls["anchor"],
            "batch_wall_ratio_to_anchor": statistics.median(walls["binary"]) / statistics.median(walls["anchor"]),
            "batch_answers_identical_to_anchor": identical,
        }
    print(json.dumps({
        "documents": first["documents"], "skipped": first["skipped"],
        "index_docs_per_second": first["docs_per_second"], "index_seconds_in_command": first["seconds"],
        "index_wall_seconds": index_wall,
        "rerun_unchanged": again["unchanged"], "rerun_added": again["added"], "rerun_replaced": again["replaced"],
        "single_query_wall_ms_median": statistics.median(single) * 1000,
        "single_query_wall_ms_max": max(single) * 1000,
        "batch_queries": answered, "batch_k": 100, "batch_wall_seconds": batch_wall,
        "index_bytes": os.path.getsize(f"{db}/data.mdb"),
        **compared,
    }, indent=1))


if __name__ == "__main__":
    main()
