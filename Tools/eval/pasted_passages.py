#!/usr/bin/env python3
"""Pasted passages as queries, on text the default model was not trained on (training side only).

A second check, beside pasted_queries.py (20 Newsgroups train, which the default model saw), of
how a pasted document (a query cut to its strongest terms) should be ranked. Relevance needs no
judge: the other passages of the same article (Wikipedia, PLOS, Python docs in
../shared/data/general) are the relevant ones, a passage itself is left out.

  python3 Tools/eval/pasted_passages.py prepare DATA_DIR OUT_DIR
      OUT_DIR/corpus.jsonl: whole articles (3 to 40 passages each, none of them among the 16,600
      general passages the default model was trained on: Tools/make-default-corpus.py's sample is
      drawn again), seeded shuffle (seed 11), about 20,000 passages; OUT_DIR/queries.jsonl: 1,500
      of them (seed 7); OUT_DIR/articles.json (passage -> article);
  twentyq index --db OUT_DIR/idx OUT_DIR/corpus.jsonl
  twentyq search --db OUT_DIR/idx --queries OUT_DIR/queries.jsonl -k 100 --json > results.jsonl
  python3 Tools/eval/pasted_passages.py score OUT_DIR results.jsonl
      one JSON line: MAP (cut at 100 hits) and recall at 100 of the same article's passages.
  python3 Tools/eval/pasted_passages.py titles OUT_DIR
      typed queries on the same corpus: the titles of 1,000 of its Wikipedia articles (seed 5;
      the text before the first ". " of the article's first passage), every passage of the
      article relevant: OUT_DIR/titles.jsonl and OUT_DIR/titles.qrels (TREC), for
      `twentyq eval --docs OUT_DIR/corpus.jsonl --queries OUT_DIR/titles.jsonl --qrels OUT_DIR/titles.qrels`.
"""
import gzip, json, os, random, sys

SOURCES = ["wikipedia", "plos", "python-docs"]


def training_sample(data):
    """The general passages Tools/make-default-corpus.py draws (same seed, same order)."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    quotas = __import__("importlib").import_module("make-default-corpus").GENERAL_QUOTAS
    rng = random.Random(42)
    chosen = set()
    for source, quota in quotas.items():
        with gzip.open(f"{data}/general/general-{source}.jsonl.gz", "rt", encoding="utf-8") as f:
            passages = [json.loads(line) for line in f]
        for d in rng.sample(passages, min(quota, len(passages))):
            chosen.add(d["id"])
    return chosen


def prepare(data, out):
    os.makedirs(out, exist_ok=True)
    seen = training_sample(data)
    articles = {}
    for source in SOURCES:
        with gzip.open(f"{data}/general/general-{source}.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                articles.setdefault(d["id"].rsplit("-", 1)[0], []).append(d)
    keys = sorted(k for k, ps in articles.items() if 3 <= len(ps) <= 40 and not any(p["id"] in seen for p in ps))
    random.Random(11).shuffle(keys)
    corpus, owner = [], {}
    for k in keys:
        if len(corpus) >= 20000: break
        for p in articles[k]:
            corpus.append(p)
            owner[p["id"]] = k
    with open(os.path.join(out, "corpus.jsonl"), "w") as f:
        for p in corpus: f.write(json.dumps({"id": p["id"], "text": p["text"]}) + "\n")
    queries = list(corpus)
    random.Random(7).shuffle(queries)
    with open(os.path.join(out, "queries.jsonl"), "w") as f:
        for p in queries[:1500]: f.write(json.dumps({"id": p["id"], "text": p["text"]}) + "\n")
    json.dump(owner, open(os.path.join(out, "articles.json"), "w"))
    print(json.dumps({"passages": len(corpus), "articles": len(set(owner.values())), "queries": min(1500, len(queries))}))


def score(out, results):
    owner = json.load(open(os.path.join(out, "articles.json")))
    size = {}
    for a in owner.values(): size[a] = size.get(a, 0) + 1
    aps, recalls = [], []
    for line in open(results):
        r = json.loads(line)
        q = r["query_id"]
        relevant = size[owner[q]] - 1
        hits = [h["id"] for h in r["results"] if h["id"] != q][:100]
        found, total = 0, 0.0
        for rank, h in enumerate(hits, 1):
            if owner.get(h) == owner[q]:
                found += 1
                total += found / rank
        aps.append(total / relevant)
        recalls.append(found / relevant)
    print(json.dumps({"queries": len(aps), "map": round(sum(aps) / len(aps), 4), "recall_100": round(sum(recalls) / len(recalls), 4), "results": results}))


def titles(out):
    owner = json.load(open(os.path.join(out, "articles.json")))
    first = {}
    for line in open(os.path.join(out, "corpus.jsonl")):
        d = json.loads(line)
        if d["id"].startswith("wikipedia:") and d["id"].endswith("-0") and ". " in d["text"][:200]:
            first[owner[d["id"]]] = d["text"].split(". ", 1)[0]
    keys = sorted(first)
    random.Random(5).shuffle(keys)
    with open(os.path.join(out, "titles.jsonl"), "w") as q, open(os.path.join(out, "titles.qrels"), "w") as r:
        for n, k in enumerate(keys[:1000]):
            q.write(json.dumps({"id": f"t{n}", "text": first[k]}) + "\n")
            for pid, a in owner.items():
                if a == k: r.write(f"t{n} 0 {pid} 1\n")
    print(json.dumps({"queries": min(1000, len(keys))}))


if __name__ == "__main__":
    {"prepare": lambda: prepare(sys.argv[2], sys.argv[3]), "score": lambda: score(sys.argv[2], sys.argv[3]),
     "titles": lambda: titles(sys.argv[2])}[sys.argv[1]]()
