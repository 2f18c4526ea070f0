"""Assembles the corpus the default model is trained on, from ../shared/data, as JSONL.

General English from several sources, training material only (the 20 Newsgroups and Reuters
test splits stay unseen, so evaluations of the default model on them are fair):
  - 20 Newsgroups train: message bodies (header block dropped), 11,314
  - Reuters-21578 ApteMod train, all topics: title + body, 7,770
  - Debian fortunes (BSD licence), 15,217
  - STS-B sentences (train, dev and test pairs; unique sentences), about 15,000
  - Cranfield abstracts (title + text), 1,400
Usage: python3 Tools/make-default-corpus.py DATA_DIR OUT.jsonl
"""
import csv
import gzip
import json
import sys


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
    with gzip.open(f"{data}/fortunes/fortunes-debian.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            docs.append(("fortunes/" + d["id"], d["text"]))
    seen = set()
    for split in ["train", "dev", "test"]:
        with open(f"{data}/stsb/sts-{split}.csv", encoding="utf-8") as f:
            for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                for sentence in row[5:7]:
                    if sentence and sentence not in seen:
                        seen.add(sentence)
                        docs.append((f"stsb/{len(seen)}", sentence))
    with open(f"{data}/cranfield/cran.all.1400", encoding="utf-8", errors="replace") as f:
        current, field, parts = None, None, {}
        def flush():
            if current is not None:
                docs.append((f"cranfield/{current}", parts.get(".T", "") + "\n" + parts.get(".W", "")))
        for line in f:
            if line.startswith(".I "):
                flush()
                current, field, parts = line.split()[1], None, {}
            elif line[:2] in (".T", ".A", ".B", ".W"):
                field = line[:2]
            elif field:
                parts[field] = parts.get(field, "") + line
        flush()
    with open(out_path, "w", encoding="utf-8") as out:
        for doc_id, text in docs:
            out.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    print(f"{len(docs)} documents -> {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
