#!/usr/bin/env python3
"""A seeded sample of ../shared/data/general for teacher training, as JSONL {id, text}.

Per source at most --per-source passages (seed 0), drawn uniformly; dictionary sources
(gcide, wordnet) capped lower since their entries are short and many. With --queries, also
writes one pseudo-query per passage: its first 4 to 12 words (seeded length), id "q:" + id.

    python3 Tools/teacher/sample_general.py DATA_DIR OUT.jsonl [--per-source N] [--queries Q.jsonl]
"""
import argparse, glob, gzip, json, os, random


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("out")
    p.add_argument("--per-source", type=int, default=4000)
    p.add_argument("--queries")
    a = p.parse_args()
    rng = random.Random(0)
    docs = []
    for path in sorted(glob.glob(os.path.join(a.data, "general", "general-*.jsonl.gz"))):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            rows = [json.loads(l) for l in f if l.strip()]
        cap = a.per_source // 2 if any(s in path for s in ("gcide", "wordnet")) else a.per_source
        docs += rng.sample(rows, min(cap, len(rows)))
    with open(a.out, "w") as f:
        for d in docs:
            f.write(json.dumps({"id": d["id"], "text": d["text"]}) + "\n")
    if a.queries:
        with open(a.queries, "w") as f:
            for d in docs:
                words = d["text"].split()
                n = rng.randint(4, 12)
                f.write(json.dumps({"id": "q:" + d["id"], "text": " ".join(words[:n])}) + "\n")


if __name__ == "__main__":
    main()
