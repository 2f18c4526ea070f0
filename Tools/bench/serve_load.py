"""Load on `twentyq serve` (issue #18), on 127.0.0.1 only, bounded in time.

1. Starts BINARY serve on a fresh data directory and indexes 20 Newsgroups (--docs JSONL)
   over HTTP in batches of 1,000 (documents/s through the API).
2. Anchor, same run: the same typed queries answered by the library in one process, one
   batch (`BINARY search --queries`, k = 10), queries/s.
3. Load: wrk (Debian's wrk, C) with --clients connections sends single text queries (the
   subject lines of the --queries JSONL: a few typed words each, k = 10) for --seconds, while a
   Python client adds documents in batches of 10 (new ids) through the same server. Reports
   queries/s, latency p50/p90/p99, non-2xx and socket errors, and the writes acknowledged.
4. Crash: a writer adds batches again; the server is killed with SIGKILL mid-run and
   restarted; every document whose write was acknowledged must be there (GET each).

Prints one JSON object. Usage:
  python3 Tools/bench/serve_load.py BINARY --docs 20ng.jsonl --queries 20ng-test.jsonl \
      [--seconds 60] [--clients 32] [--kill-after 5] [--rescore default|bm25|fused|none]
"""
import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

LUA = r"""
local bodies = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
end
function request()
  i = i % #bodies + 1
  return wrk.format("POST", "/v1/indexes/ng/search", {["Content-Type"] = "application/json"}, bodies[i])
end
function done(summary, latency, requests)
  io.write(string.format('WRKJSON {"requests": %d, "seconds": %.3f, "non_2xx": %d, "socket_errors": %d, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def start(binary, data):
    process = subprocess.Popen([binary, "serve", "--data", data, "--port", "0", "--max-batch", "1000"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not match:
        process.kill()
        sys.exit(f"the server did not start: {line!r}")
    return process, int(match.group(1))


def call(port, method, path, body=None, connection=None):
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request(method, path, body=None if body is None else json.dumps(body),
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    if own:
        connection.close()
    return response.status, json.loads(data) if data else {}


class Writer(threading.Thread):
    """Adds batches of 10 documents until stopped; remembers the ids acknowledged."""

    def __init__(self, port, texts, prefix):
        super().__init__(daemon=True)
        self.port, self.texts, self.prefix = port, texts, prefix
        self.acknowledged, self.failed, self.latencies = [], 0, []
        self.stop = threading.Event()

    def run(self):
        n = 0
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            while not self.stop.is_set():
                batch = [{"id": f"{self.prefix}-{n + j}", "text": self.texts[(n + j) % len(self.texts)]} for j in range(10)]
                started = time.perf_counter()
                status, _ = call(self.port, "POST", "/v1/indexes/ng/documents", {"documents": batch}, connection)
                if status == 200:
                    self.acknowledged += [d["id"] for d in batch]
                    self.latencies.append(time.perf_counter() - started)
                else:
                    self.failed += 1
                n += 10
        except (OSError, http.client.HTTPException):
            pass  # the server went away (the crash phase)


def percentile(values, p):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))] * 1000, 2) if values else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--docs", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--kill-after", type=float, default=5)
    parser.add_argument("--rescore", choices=["default", "bm25", "fused", "none"], default="default",
                        help="the queries' ranking (default: the server's, BM25 over the codes' shortlist)")
    args = parser.parse_args()
    for tool in ("wrk",):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed: apt-get install {tool}")
    docs = [json.loads(line) for line in open(args.docs)]
    tests = [json.loads(line) for line in open(args.queries)]
    subjects = []
    for t in tests:
        match = re.search(r"^Subject:\s*(?:Re:\s*)*(.+)$", t["text"], re.M | re.I)
        if match and len(match.group(1).split()) >= 2:
            subjects.append(" ".join(match.group(1).split()[:8]))
    work = tempfile.mkdtemp(prefix="twentyq-serve-load-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    out = {"date": time.strftime("%Y-%m-%d"), "cpu": platform.processor() or platform.machine(), "rescore": args.rescore,
           "clients": args.clients, "seconds": args.seconds, "documents": len(docs), "distinct_queries": len(subjects)}
    try:
        cpu = [l for l in open("/proc/cpuinfo") if l.startswith("model name")]
        out["cpu"] = cpu[0].split(":", 1)[1].strip() if cpu else out["cpu"]
    except OSError:
        pass
    server, port = start(args.binary, data)
    try:
        assert call(port, "PUT", "/v1/indexes/ng", {"kind": "documents"})[0] == 201
        started = time.perf_counter()
        for i in range(0, len(docs), 1000):
            status, reply = call(port, "POST", "/v1/indexes/ng/documents",
                                 {"documents": [{"id": d["id"], "text": d["text"]} for d in docs[i:i + 1000]]})
            assert status == 200, reply
        out["index_docs_per_second_http"] = round(len(docs) / (time.perf_counter() - started))

        # Anchor: the library, in one process, one batch of the same queries.
        queries_file = os.path.join(work, "queries.jsonl")
        with open(queries_file, "w") as f:
            for i, s in enumerate(subjects):
                f.write(json.dumps({"id": str(i), "text": s}) + "\n")
        started = time.perf_counter()
        subprocess.run([args.binary, "search", "--db", os.path.join(data, "ng"), "--queries", queries_file, "-k", "10", "--json"]
                       + ([] if args.rescore == "default" else ["--rescore", args.rescore]), check=True, stdout=subprocess.DEVNULL)
        out["anchor"] = "library batch (twentyq search --queries, one process, all cores)"
        out["anchor_queries_per_second"] = round(len(subjects) / (time.perf_counter() - started))

        bodies = os.path.join(work, "bodies.txt")
        with open(bodies, "w") as f:
            for s in subjects:
                body = {"text": s, "k": 10}
                if args.rescore != "default":
                    body["rescore"] = args.rescore
                f.write(json.dumps(body) + "\n")
        script = os.path.join(work, "load.lua")
        with open(script, "w") as f:
            f.write(LUA)
        writer = Writer(port, [t["text"] for t in tests], "live")
        writer.start()
        wrk = subprocess.run(["wrk", "-t2", f"-c{args.clients}", f"-d{args.seconds}s", "--timeout", "10s", "-s", script,
                              f"http://127.0.0.1:{port}", "--", bodies], capture_output=True, text=True, check=True)
        writer.stop.set()
        writer.join()
        result = json.loads(wrk.stdout.split("WRKJSON ", 1)[1].splitlines()[0])
        out["queries_per_second"] = round(result["requests"] / result["seconds"])
        out.update({k: result[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "non_2xx", "socket_errors")})
        out["errors"] = result["non_2xx"] + result["socket_errors"] + writer.failed
        out["ratio_to_anchor"] = round(out["queries_per_second"] / out["anchor_queries_per_second"], 3)
        out["writes_acknowledged_during_load"] = len(writer.acknowledged)
        out["write_p50_ms"], out["write_p99_ms"] = percentile(writer.latencies, 0.5), percentile(writer.latencies, 0.99)

        # Crash: SIGKILL while a writer runs; every acknowledged write must survive.
        crasher = Writer(port, [t["text"] for t in tests], "crash")
        crasher.start()
        time.sleep(args.kill_after)
        server.send_signal(signal.SIGKILL)
        server.wait()
        crasher.join()
        acknowledged = writer.acknowledged + crasher.acknowledged
        server, port = start(args.binary, data)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        missing = [i for i in acknowledged if call(port, "GET", f"/v1/indexes/ng/documents/{i}", connection=connection)[0] != 200]
        out["crash"] = {"acknowledged_before_kill": len(crasher.acknowledged), "acknowledged_in_all": len(acknowledged),
                        "missing_after_restart": len(missing), "count_after_restart": call(port, "GET", "/v1/indexes/ng")[1]["count"]}
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
