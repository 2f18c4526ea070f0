#!/usr/bin/env python3
"""JSONL of >= 1M passages for `twentyq bench query`: the general corpus
(../shared/data/general, 190,284 passages) repeated with new ids ("r<round>/<id>").

    python3 Tools/bench/general_1m.py DATA_DIR [COUNT] > general-1m.jsonl
"""
import glob, gzip, json, os, sys

data = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rows = []
for path in sorted(glob.glob(os.path.join(data, "general", "general-*.jsonl.gz"))):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows += [json.loads(l) for l in f if l.strip()]
written = 0
round_ = 0
while written < count:
    for r in rows:
        if written >= count:
            break
        sys.stdout.write(json.dumps({"id": f"r{round_}/{r['id']}", "text": r["text"]}) + "\n")
        written += 1
    round_ += 1
