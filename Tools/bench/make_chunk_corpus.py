"""Synthesises a corpus of over a million text chunks from ../shared/data, the way a
retrieval pipeline chunks documents: every sentence and every window of 2, 3 and 4
consecutive sentences of every document (20 Newsgroups bodies, both splits; Reuters-21578
ApteMod, both splits; Debian fortunes; STS-B sentences; Cranfield abstracts). Overlapping
windows, quoted replies and wire-story boilerplate give the near duplicates a real chunk
index holds; nothing is perturbed at random.

Queries come from documents held out of the database: the chunks of 1,000 20 Newsgroups
test messages (seeded choice) are not indexed, and `queries` of them (one per held-out
message while they last) are written to the query file.

Usage: python3 make_chunk_corpus.py DATA_DIR OUT_DIR [--queries 1000] [--seed 42]
Writes OUT_DIR/corpus.jsonl and OUT_DIR/queries.jsonl ({"id", "text"} per line).
"""
import argparse
import csv
import gzip
import json
import random
import re

SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def sentences(text):
    out = []
    for part in SENTENCE_END.split(text):
        part = " ".join(part.split())
        if len(part.split()) >= 3:
            out.append(part)
    return out


def chunks(text):
    s = sentences(text)
    for width in (1, 2, 3, 4):
        for i in range(0, len(s) - width + 1):
            yield " ".join(s[i:i + width])


def documents(data):
    with gzip.open(f"{data}/20news/20news-bydate.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            body = d["text"].split("\n\n", 1)
            yield "20news/" + d["id"], d["split"], body[1] if len(body) > 1 else body[0]
    with gzip.open(f"{data}/reuters/reuters21578-aptemod90.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            yield f"reuters/{d['id']}", d["split"], (d.get("title") or "") + ".\n" + d["text"]
    with gzip.open(f"{data}/fortunes/fortunes-debian.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            yield "fortunes/" + d["id"], "train", d["text"]
    for split in ["train", "dev", "test"]:
        with open(f"{data}/stsb/sts-{split}.csv", encoding="utf-8") as f:
            for n, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
                for side, sentence in enumerate(row[5:7]):
                    yield f"stsb/{split}/{n}/{side}", "train", sentence
    with open(f"{data}/cranfield/cran.all.1400", encoding="utf-8", errors="replace") as f:
        current, field, parts = None, None, {}
        for line in f:
            if line.startswith(".I "):
                if current is not None:
                    yield f"cranfield/{current}", "train", parts.get(".T", "") + ".\n" + parts.get(".W", "")
                current, field, parts = line.split()[1], None, {}
            elif line[:2] in (".T", ".A", ".B", ".W"):
                field = line[:2]
            elif field:
                parts[field] = parts.get(field, "") + line
        if current is not None:
            yield f"cranfield/{current}", "train", parts.get(".T", "") + ".\n" + parts.get(".W", "")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("out")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    docs = list(documents(args.data))
    test = sorted(doc_id for doc_id, split, _ in docs if doc_id.startswith("20news/") and split == "test")
    held = set(random.Random(args.seed).sample(test, 1000))
    indexed = 0
    queries = []
    with open(f"{args.out}/corpus.jsonl", "w", encoding="utf-8") as out:
        for doc_id, _, text in docs:
            pieces = list(chunks(text))
            if doc_id in held:
                if pieces:
                    queries.append((doc_id, random.Random(f"{args.seed}/{doc_id}").choice(pieces)))
                continue
            for n, piece in enumerate(pieces):
                out.write(json.dumps({"id": f"{doc_id}#{n}", "text": piece}) + "\n")
                indexed += 1
    with open(f"{args.out}/queries.jsonl", "w", encoding="utf-8") as out:
        for doc_id, text in queries[:args.queries]:
            out.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    print(json.dumps({"documents": len(docs), "chunks": indexed, "queries": min(len(queries), args.queries)}))


if __name__ == "__main__":
    main()
