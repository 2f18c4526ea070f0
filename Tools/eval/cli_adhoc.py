#!/usr/bin/env python3
"""Cranfield through the CLI itself (`twentyq index`, `twentyq search --queries`), scored as
`twentyq eval` scores its runs (MAP cut at 100, P@10, R@100; queries with a relevant document).

The check that `eval`'s figures are what a user of `search` gets: the same pipeline, but through
the real binary, its JSONL in and out.

    python3 Tools/eval/cli_adhoc.py prepare DATA_DIR OUT_DIR
        OUT_DIR/docs.jsonl, OUT_DIR/queries.jsonl ({"id", "text"}; fields .T and .W of each
        document, .W of each query numbered 1 to 225 as `eval` does) and OUT_DIR/qrels
        (grade 5 - code for codes 1 to 4, as `eval` reads cranqrel)
    twentyq index OUT_DIR/docs.jsonl --db OUT_DIR/idx
    twentyq search --db OUT_DIR/idx --queries OUT_DIR/queries.jsonl -k 100 --rescore none --json > run.jsonl
    python3 Tools/eval/cli_adhoc.py score OUT_DIR run.jsonl
        one JSON line: map_at_100, p_at_10, recall_at_100, queries
"""
import json, os, sys


def smart(path, fields):
    out, ident, body, keep = [], None, [], False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f.read().splitlines():
            if line.startswith(".I "):
                if ident is not None:
                    out.append((ident, "\n".join(body)))
                ident, body, keep = line[3:].strip(), [], False
            elif len(line) == 2 and line.startswith("."):
                keep = line[1:] in fields
            elif keep:
                body.append(line)
    if ident is not None:
        out.append((ident, "\n".join(body)))
    return out


def prepare(data, out):
    os.makedirs(out, exist_ok=True)
    cran = os.path.join(data, "cranfield")
    with open(os.path.join(out, "docs.jsonl"), "w") as f:
        for ident, text in smart(os.path.join(cran, "cran.all.1400"), {"T", "W"}):
            f.write(json.dumps({"id": ident, "text": text}) + "\n")
    with open(os.path.join(out, "queries.jsonl"), "w") as f:
        for n, (_, text) in enumerate(smart(os.path.join(cran, "cran.qry"), {"W"})):
            f.write(json.dumps({"id": str(n + 1), "text": text}) + "\n")
    with open(os.path.join(cran, "cranqrel")) as f, open(os.path.join(out, "qrels"), "w") as g:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2].lstrip("-").isdigit() and 1 <= int(parts[2]) <= 4:
                g.write(f"{parts[0]} 0 {parts[1]} {5 - int(parts[2])}\n")


def score(out, run):
    judged = {}
    with open(os.path.join(out, "qrels")) as f:
        for line in f:
            q, _, d, g = line.split()
            judged.setdefault(q, {})[d] = int(g)
    ranked = {}
    with open(run) as f:
        for line in f:
            r = json.loads(line)
            ranked[str(r["query_id"])] = [h["id"] for h in r["results"]]
    n = ap_sum = p10 = r100 = 0.0
    for q, grades in judged.items():
        relevant = {d for d, g in grades.items() if g > 0}
        if not relevant:
            continue
        n += 1
        hits = ap = 0
        for rank, d in enumerate(ranked.get(q, [])[:100]):
            if d in relevant:
                hits += 1
                ap += hits / (rank + 1)
                p10 += 0.1 if rank < 10 else 0
        ap_sum += ap / len(relevant)
        r100 += hits / len(relevant)
    print(json.dumps({"map_at_100": ap_sum / n, "p_at_10": p10 / n, "recall_at_100": r100 / n, "queries": int(n), "run": run}))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
