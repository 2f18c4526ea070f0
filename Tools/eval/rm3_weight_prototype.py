#!/usr/bin/env python3
"""Prototype: how much of the typed query RM3 should keep, chosen on training-side sets.

RM3 (the default second round, `RelevanceFeedback`) mixes the query's own term shares with the
first round's relevance model at originalQueryWeight 0.5, Anserini's published default. On
MedQuAD's questions (stemmer_prototype.py's medquad set: NIH questions as typed queries, their
answers as documents) that costs 0.054 MAP against BM25 alone, through the real CLI as well:
the question's aspect word ("symptoms", "treatment") is one term among the disease's many, and
the first round's ten best are the same disease's other answers. On the Wikipedia titles set
it gains 0.018. This sweeps the weight (and fbTerms 10 / 20) over both training-side sets, the
analyzer as shipped (S stemmer), exhaustive BM25 (k1 1.2, b 0.75), fbDocs 10; Cranfield (the
dev set) is printed beside them, not used to choose.

  python3 Tools/eval/rm3_weight_prototype.py DATA_DIR TITLES_DIR      (numpy, scipy, nltk)
One JSON line per set x fbTerms x weight: MAP@100, P@10, R@100; then per (fbTerms, weight) the
mean MAP of the two training-side sets.
"""
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stemmer_prototype as spt  # noqa: E402
import projection_prototype as pp  # noqa: E402

WEIGHTS = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def sweep(name, docs, queries, relevant, table):
    lexical = spt.Lexical(docs, queries, pp.stem)
    for fb_terms in (10, 20):
        models = [lexical.relevance_model(i, terms=fb_terms) for i in range(len(queries))]
        for weight in WEIGHTS:
            line = pp.measure(lexical.expanded_scores(models, weight), relevant)
            line.update({"set": name, "fb_terms": fb_terms, "original_weight": weight})
            print(json.dumps(line), flush=True)
            table.setdefault((fb_terms, weight), {})[name] = line["map@100"]


def main():
    table = {}
    spt.each_set(lambda *named_set: sweep(*named_set, table))
    for (fb_terms, weight), maps in sorted(table.items()):
        print(json.dumps({"fb_terms": fb_terms, "original_weight": weight,
                          "training_side_mean_map": round((maps["medquad"] + maps["titles"]) / 2, 4),
                          "cranfield_map": maps["cranfield"]}))


if __name__ == "__main__":
    main()
