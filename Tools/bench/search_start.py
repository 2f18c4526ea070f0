"""One typed query through the real CLI, wall-clock including process start (issue #17: the
model must be read without work that scales with its size, and no idle BLAS threads).

Runs `BINARY search --db INDEX QUERY -k 10` and the same with the anchor binary, alternated
run by run so both see the same machine load, and prints one JSON object: median, p10 and
minimum of each, their ratio, and `BINARY --version` (process start alone) as a floor.

Usage: python3 Tools/bench/search_start.py BINARY ANCHOR_BINARY INDEX [--runs N] [--query TEXT]
The index must have been built with a model both binaries read (the shipped default).
"""
import json
import platform
import statistics
import subprocess
import sys
import time


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def summary(times):
    times = sorted(times)
    return {"median_ms": round(statistics.median(times), 1), "p10_ms": round(times[len(times) // 10], 1),
            "min_ms": round(times[0], 1)}


def main():
    binary, anchor, index = sys.argv[1], sys.argv[2], sys.argv[3]
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 41
    query = sys.argv[sys.argv.index("--query") + 1] if "--query" in sys.argv else "graphics card driver"
    search = ["search", "--db", index, query, "-k", "10"]
    for b in (binary, anchor):
        timed([b] + search)  # warm the page cache
    ours, theirs, floor = [], [], []
    for _ in range(runs):
        ours.append(timed([binary] + search))
        theirs.append(timed([anchor] + search))
        floor.append(timed([binary, "--version"]))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    print(json.dumps({"date": time.strftime("%Y-%m-%d"), "cpu": cpu, "runs": runs, "query": query,
                      "search": summary(ours), "anchor_search": summary(theirs),
                      "ratio_median": round(statistics.median(ours) / statistics.median(theirs), 3),
                      "process_start_version": summary(floor), "binary": binary, "anchor": anchor}))


if __name__ == "__main__":
    main()
