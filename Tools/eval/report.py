"""Renders docs/eval/*.jsonl (from run-evaluation.sh and train-default-model.sh) as the
Markdown tables of docs/EVALUATION.md. Usage: python3 Tools/eval/report.py DATE"""
import json
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[2]
date = sys.argv[1]


def rows(name):
    path = root / "docs" / "eval" / f"{date}-{name}.jsonl"
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()] if path.exists() else []


def f(x, digits=3):
    return f"{x:.{digits}f}" if isinstance(x, (int, float)) else "-"


print("### Precision@100 by code width (unsupervised ternary models, default settings)\n")
print("| dataset | method | 16 | 32 | 64 | 128 |")
print("|---|---|---:|---:|---:|---:|")
for dataset in ["20news", "reuters"]:
    data = rows(f"{dataset}-bits")
    if not data:
        continue
    for method, label in [("twentyq-unsupervised", "TwentyQ, ternary"), ("lsh-tfidf", "LSH on TF-IDF")]:
        by_bits = {d["bits"]: d["precision_at_100"] for d in data if d["method"] == method}
        print(f"| {dataset} | {label} | " + " | ".join(f(by_bits.get(b)) for b in [16, 32, 64, 128]) + " |")
    cosine = [d["precision_at_100"] for d in data if d["method"] == "tfidf-cosine"]
    if cosine:
        print(f"| {dataset} | exact TF-IDF cosine (float) | " + " | ".join([f(cosine[0])] * 4) + " |")

noitq = {d: rows(f"{d}-bits-noitq") for d in ["20news", "reuters"]}
if any(noitq.values()):
    print("\n### Effect of the ITQ rotation of the spectral targets (P@100, without -> with)\n")
    print("| dataset | 16 | 32 | 64 | 128 |")
    print("|---|---:|---:|---:|---:|")
    for dataset in ["20news", "reuters"]:
        before = {d["bits"]: d["precision_at_100"] for d in noitq[dataset] if d["method"] == "twentyq-unsupervised"}
        after = {d["bits"]: d["precision_at_100"] for d in rows(f"{dataset}-bits") if d["method"] == "twentyq-unsupervised"}
        print(f"| {dataset} | " + " | ".join(f"{f(before.get(b))} -> {f(after.get(b))}" for b in [16, 32, 64, 128]) + " |")

print("\n### Bits as questions (TwentyQ models above)\n")
print("| dataset | bits | min bit frequency | max bit frequency | bits in [0.35, 0.65] | mean \\|corr\\| |")
print("|---|---:|---:|---:|---:|---:|")
for dataset in ["20news", "reuters"]:
    for d in rows(f"{dataset}-bits"):
        if d["method"] == "twentyq-unsupervised":
            print(f"| {dataset} | {d['bits']} | {f(d['bit_frequency_min'])} | {f(d['bit_frequency_max'])} | "
                  f"{f(100 * d['balanced_bits'], 0)}% | {f(d['mean_abs_correlation'])} |")

print("\n### The low-bit ablation: 64 bits, same architecture and training budget\n")
# Runs made before ITQ became the default (2026-11-29) trained the ablation without it; their
# ternary row is the `-bits-noitq` sweep's. Later runs use the defaults, as the `-bits` sweep.
legacy = any(noitq.values())
if legacy:
    print("All five formats trained with one recipe: the spectral objective *without* the ITQ rotation")
    print("(`--no-itq`, the default when these runs were made); the ternary row is that recipe's model.\n")
else:
    print("All five formats trained with one recipe, the default settings; the ternary row is the")
    print("64-bit model of the width sweep above.\n")
encode = {d["weights"]: d for d in rows("encode")}
print("| weights | bits/weight | 20news P@100 | reuters P@100 | weight bytes | encode, docs/s (2 threads) |")
print("|---|---:|---:|---:|---:|---:|")
for w in ["float", "ternary", "binary", "fp4-e3m0", "fp4-e2m1"]:
    got = {}
    for dataset in ["20news", "reuters"]:
        for d in rows(f"{dataset}-ablation") + rows(f"{dataset}-bits-noitq" if legacy else f"{dataset}-bits"):
            if d.get("weights") == w and d.get("bits") == 64 and d["method"] == "twentyq-unsupervised":
                got[dataset] = d
    size = got.get("20news", {}).get("weight_bytes")
    bpw = {"float": 32, "ternary": 2, "binary": 1, "fp4-e3m0": 4, "fp4-e2m1": 4}[w]
    print(f"| {w} | {bpw} | {f(got.get('20news', {}).get('precision_at_100'))} | "
          f"{f(got.get('reuters', {}).get('precision_at_100'))} | {size if size else '-'} | "
          f"{f(encode.get(w, {}).get('docs_per_second'), 0)} |")

default = rows("default-model")
if default:
    print("\n### The shipped default model (256 bits, ternary, general corpus)\n")
    print("| dataset | method | P@100 |")
    print("|---|---|---:|")
    for d in default:
        label = {"model": "default model, 256 bits", "tfidf-cosine": "exact TF-IDF cosine", "lsh-tfidf": "LSH, 256 bits"}[d["method"]]
        print(f"| {d['dataset']} | {label} | {f(d['precision_at_100'])} |")
