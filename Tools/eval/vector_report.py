"""Renders docs/eval/DATE-vectors-*.jsonl (from run-vector-evaluation.sh) as the Markdown
tables of docs/EVALUATION.md's vector section. Usage: python3 Tools/eval/vector_report.py DATE"""
import json
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[2]
date = sys.argv[1]
WIDTHS = [64, 128, 256, 384, 512]
METHODS = [("sign", "float", "sign of each dimension"), ("rotation", "float", "random rotation"),
           ("itq", "float", "ITQ (PCA + rotation)"), ("trained", "ternary", "**TwentyQ trained, ternary**"),
           ("trained", "float", "TwentyQ trained, float")]


def rows(dataset):
    path = root / "docs" / "eval" / f"{date}-vectors-{dataset}.jsonl"
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()] if path.exists() else []


def f(x):
    return f"{x:.3f}" if isinstance(x, (int, float)) else "-"


for dataset, title in [("20news", "20 Newsgroups (database 11,314 train vectors, first 500 test vectors as queries)"),
                       ("stsb", "STS-B (database 15,487 sentences, the 1,000 shared query rows, each left out of its own results)")]:
    data = rows(dataset)
    if not data:
        continue
    print(f"#### {title}\n")
    print("Tie-aware recall@10 of the float top-10 under Hamming ranking:\n")
    print("| method | " + " | ".join(f"{b} bits" for b in WIDTHS) + " |")
    print("|---|" + "---:|" * len(WIDTHS))
    for method, weights, label in METHODS:
        got = {d["bits"]: d["recall_at_10"] for d in data if d["method"] == method and d["weights"] == weights}
        if got:
            print(f"| {label} | " + " | ".join(f(got.get(b)) for b in WIDTHS) + " |")
    shortlists = sorted({x.get("shortlist", 1) for d in data for x in d["rescored"]})
    for shortlist in shortlists:
        if shortlist == 1:
            print("\nRecall@10 after rescoring the k x oversample Hamming-nearest with stored vectors "
                  "(float32 / int8), oversample 2, 4, 8 (`--shortlist 1`):\n")
        else:
            print(f"\nRecall@10 after rescoring the k x oversample best by the asymmetric score among the "
                  f"k x oversample x {shortlist} Hamming-nearest (`--shortlist {shortlist}`), float32 / int8, oversample 2, 4, 8:\n")
        print("| method | bits | float32 x2 | x4 | x8 | int8 x2 | x4 | x8 |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for method, weights, label in METHODS:
            for b in WIDTHS:
                for d in data:
                    if d["method"] == method and d["weights"] == weights and d["bits"] == b:
                        r = {(x["storage"], x["oversample"]): x["recall_at_10"] for x in d["rescored"] if x.get("shortlist", 1) == shortlist}
                        cells = [f(r.get((s, o))) for s in ["float32", "int8"] for o in [2, 4, 8]]
                        print(f"| {label} | {b} | " + " | ".join(cells) + " |")
    trained = [d for d in data if d["method"] == "trained"]
    if trained:
        print("\nTrained models: " + "; ".join(
            f"{d['weights']} {d['bits']} bits: {d['train_seconds']:.0f} s to train, {d['balanced_bits'] * 100:.0f}% of bits within "
            f"[0.35, 0.65], mean |corr| {d['mean_abs_correlation']:.3f}, {d['weight_bytes']:,} bytes of weights"
            for d in trained) + ".\n")
