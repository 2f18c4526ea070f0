#!/usr/bin/env python3
"""Typed pseudo-queries for `twentyq bench query`: COUNT runs of 4-12 consecutive words (letters,
digits, apostrophes and hyphens; punctuation dropped) from passages of the general corpus
(../shared/data/general) drawn with a fixed seed, one {"id", "text"} per line.

    python3 Tools/bench/general_queries.py DATA_DIR [COUNT] [SEED] > queries.jsonl
"""
import glob, gzip, json, os, random, re, sys

data = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20261203)
rows = []
for path in sorted(glob.glob(os.path.join(data, "general", "general-*.jsonl.gz"))):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows += [json.loads(l)["text"] for l in f if l.strip()]
word = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
written = 0
while written < count:
    words = word.findall(rows[rng.randrange(len(rows))])
    length = rng.randint(4, 12)
    if len(words) < length:
        continue
    start = rng.randrange(len(words) - length + 1)
    sys.stdout.write(json.dumps({"id": f"q{written}", "text": " ".join(words[start:start + length])}) + "\n")
    written += 1
