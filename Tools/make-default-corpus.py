"""Assembles the corpus the default model is trained on, from ../shared/data, as JSONL.

General English from several sources, training material only (the 20 Newsgroups and Reuters
test splits stay unseen, so evaluations of the default model on them are fair):
  - 20 Newsgroups train: message bodies (header block dropped), 11,314
  - Reuters-21578 ApteMod train, all topics: title + body, 7,770
  - STS-B sentences (train, dev and test pairs; unique sentences), about 15,000
  - 16,600 passages of ../shared/data/general (a seeded sample per source, weighted towards
    encyclopedic, scientific and technical text: see GENERAL_QUOTAS)
Not used: Cranfield (the ad-hoc dev set: its documents and queries stay unseen) and, since
2026-12-01, the Debian fortunes (replaced by the general passages, whose words a search of
technical and scientific text needs).
Usage: python3 Tools/make-default-corpus.py DATA_DIR OUT.jsonl
"""
import csv
import gzip
import json
import random
import sys

# Passages drawn from each source of ../shared/data/general (seed 42), 16,600 in all.
GENERAL_QUOTAS = {
    "wikipedia": 6000, "medquad": 2000, "plos": 1500, "gutenberg": 1000, "python-docs": 1500,
    "git-docs": 800, "debian-handbook": 400, "debian-reference": 200, "gnu-standards": 150,
    "man-pages": 1500, "jargon-file": 600, "gcide": 500, "wordnet": 450,
}


def main(data, out_path):
    docs = []
    with gzip.open(f"{data}/20news/20news-bydate.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["split"] == "train":
                body = d["text"].split("\n\n", 1)
                docs.append(("20news/" + d["id"], body[1] if len(body) > 1 else body[0]))
    with gzip.open(f"{data}/reuters/reuters21578-aptemod90.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["split"] == "train":
                docs.append((f"reuters/{d['id']}", (d.get("title") or "") + "\n" + d["text"]))
    seen = set()
    for split in ["train", "dev", "test"]:
        with open(f"{data}/stsb/sts-{split}.csv", encoding="utf-8") as f:
            for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                for sentence in row[5:7]:
                    if sentence and sentence not in seen:
                        seen.add(sentence)
                        docs.append((f"stsb/{len(seen)}", sentence))
    rng = random.Random(42)
    for source, quota in GENERAL_QUOTAS.items():
        with gzip.open(f"{data}/general/general-{source}.jsonl.gz", "rt", encoding="utf-8") as f:
            passages = [json.loads(line) for line in f]
        for d in rng.sample(passages, min(quota, len(passages))):
            docs.append(("general/" + d["id"], d["text"]))
    with open(out_path, "w", encoding="utf-8") as out:
        for doc_id, text in docs:
            out.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    print(f"{len(docs)} documents -> {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
