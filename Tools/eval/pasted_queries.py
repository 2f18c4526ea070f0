#!/usr/bin/env python3
"""Pasted documents as queries, on training-side data (20 Newsgroups train split only).

  python3 Tools/eval/pasted_queries.py prepare DATA_DIR OUT_DIR
      writes OUT_DIR/corpus.jsonl (the 11,314 train message bodies, header block dropped),
      OUT_DIR/queries.jsonl (1,500 of them, shuffled with seed 7) and OUT_DIR/labels.json;
  twentyq index --db OUT_DIR/idx OUT_DIR/corpus.jsonl
  twentyq search --db OUT_DIR/idx --queries OUT_DIR/queries.jsonl -k 100 > results.jsonl
  python3 Tools/eval/pasted_queries.py score OUT_DIR results.jsonl
      prints the mean share of each query's hits (itself left out, at most 99) that share its
      label, as one JSON line.
"""
import gzip, json, os, random, sys


def body(text):
    parts = text.split("\n\n", 1)
    return parts[1] if len(parts) > 1 else parts[0]


def prepare(data, out):
    os.makedirs(out, exist_ok=True)
    rows = [json.loads(l) for l in gzip.open(os.path.join(data, "20news", "20news-bydate.jsonl.gz"), "rt")]
    train = [r for r in rows if r["split"] == "train"]
    with open(os.path.join(out, "corpus.jsonl"), "w") as f:
        for r in train: f.write(json.dumps({"id": r["id"], "text": body(r["text"])}) + "\n")
    queries = list(train)
    random.Random(7).shuffle(queries)
    with open(os.path.join(out, "queries.jsonl"), "w") as f:
        for r in queries[:1500]: f.write(json.dumps({"id": r["id"], "text": body(r["text"])}) + "\n")
    json.dump({r["id"]: r["label"] for r in train}, open(os.path.join(out, "labels.json"), "w"))


def score(out, results):
    labels = json.load(open(os.path.join(out, "labels.json")))
    shares = []
    for line in open(results):
        r = json.loads(line)
        q = r["query_id"]
        hits = [h["id"] for h in r["results"] if h["id"] != q][:99]
        shares.append(sum(labels[h] == labels[q] for h in hits) / max(1, len(hits)))
    print(json.dumps({"queries": len(shares), "label_precision": round(sum(shares) / len(shares), 4), "results": results}))


if __name__ == "__main__":
    {"prepare": lambda: prepare(sys.argv[2], sys.argv[3]), "score": lambda: score(sys.argv[2], sys.argv[3])}[sys.argv[1]]()
