#!/usr/bin/env python3
"""The texts behind ../shared/data/embeddings-minilm, as JSONL aligned row by row with a
concatenation of their teacher vectors: 20 Newsgroups train bodies (header block dropped) and
the STS-B sentences. Cranfield is left out (it is the ad-hoc dev set).

    python3 Tools/teacher/shared_corpus.py DATA_DIR OUT.jsonl OUT.fvecs
"""
import gzip, json, os, sys


def main(data, out_jsonl, out_fvecs):
    emb = os.path.join(data, "embeddings-minilm")
    bodies = {}
    with gzip.open(os.path.join(data, "20news", "20news-bydate.jsonl.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["split"] == "train":
                parts = d["text"].split("\n\n", 1)
                bodies[d["id"]] = parts[1] if len(parts) > 1 else parts[0]
    ids = [l.rstrip("\n") for l in open(os.path.join(emb, "20news-train.ids"))]
    sentences = [l.rstrip("\n") for l in open(os.path.join(emb, "stsb-sentences.txt"), encoding="utf-8")]
    with open(out_jsonl, "w") as f:
        for i in ids:
            f.write(json.dumps({"id": "20news/" + i, "text": bodies[i]}) + "\n")
        for n, s in enumerate(sentences):
            f.write(json.dumps({"id": f"stsb/{n}", "text": s}) + "\n")
    with open(out_fvecs, "wb") as f:
        for name in ("20news-train.fvecs", "stsb-sentences.fvecs"):
            f.write(open(os.path.join(emb, name), "rb").read())


if __name__ == "__main__":
    main(*sys.argv[1:4])
