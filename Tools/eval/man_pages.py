#!/usr/bin/env python3
"""Manual pages indexed as roff (the anchor) or as the text `man` shows (`RoffText`), through the
real binary: known-item search on this machine's /usr/share/man/man1, which nobody on the team
wrote. Three query sets, drawn from the pages outside gcloud's thousands of generated ones (seed 2,
at most 1,000 each):
  desc: the description of the NAME line ("ls - list directory contents" -> "list directory
        contents"; 2 to 12 words);
  name: the page's name as words ("git-commit-tree.1" -> "git commit tree");
  line: a sentence of the page's text after its NAME section, 6 to 14 words (seed 3).
Query texts come from groff's rendering of each page (the reader's view, by a formatter
independent of RoffText). The relevant document is the page itself. Both index the same files: the anchor from copies
renamed `NAME.txt` (read as plain text, as every page was before RoffText), the other from the
`.gz` files where they are.

    python3 Tools/eval/man_pages.py BINARY WORKDIR [MAN_DIR]
        prints one JSON line per query set x index x --rescore mode: found_at_10, mrr_at_100
"""
import gzip, json, os, random, re, subprocess, sys, time

def rendered(raw):
    """The page as `man` shows it, by groff (Debian's groff-base): the reader's view, from
    a formatter independent of RoffText, without hyphenation, lines as long as paragraphs."""
    out = subprocess.run(["groff", "-mandoc", "-Tascii", "-P-cbou", "-rLL=2000n", "-rHY=0"], input=raw,
                         capture_output=True).stdout.decode("ascii", "replace")
    return [l.strip() for l in out.split("\n")]


def main(binary, work, man_dir="/usr/share/man/man1"):
    os.makedirs(os.path.join(work, "roff"), exist_ok=True)
    desc, name, line_queries = [], [], []
    pick = random.Random(3)
    for entry in sorted(os.listdir(man_dir)):
        path = os.path.join(man_dir, entry)
        if os.path.islink(path) or not entry.endswith(".gz"):
            continue
        raw = gzip.open(path).read()
        with open(os.path.join(work, "roff", entry[:-3] + ".txt"), "wb") as f:
            f.write(raw)
        if entry.startswith("gcloud"):
            continue
        lines = rendered(raw)
        if "NAME" in lines:
            at = lines.index("NAME") + 1
            line = lines[at] if at < len(lines) else ""
            if " - " in line:
                d = line.split(" - ", 1)[1].strip()
                if 2 <= len(d.split()) <= 12:
                    desc.append((entry[:-3], d))
            # Text after the NAME section: lines of 6 to 14 words (a paragraph's sentences are
            # cut at ". " so that a query is a sentence or less).
            # The footer (columns far apart) is not a sentence.
            sentences = [p.strip() for l in lines[at + 1:] if "   " not in l for p in re.split(r"(?<=\.)\s+", l)]
            candidates = [c for c in sentences if 6 <= len(c.split()) <= 14]
            if candidates:
                line_queries.append((entry[:-3], pick.choice(candidates)))
        page = entry[:-3].rsplit(".", 1)[0]
        name.append((entry[:-3], page.replace("-", " ").replace("_", " ")))
    for label, queries in (("desc", desc), ("name", name), ("line", line_queries)):
        random.Random(2).shuffle(queries)
        with open(os.path.join(work, f"q-{label}.jsonl"), "w") as f:
            for ident, text in queries[:1000]:
                f.write(json.dumps({"id": ident, "text": text}) + "\n")
    indexes = {"roff-as-text": os.path.join(work, "roff"), "man-text": man_dir}
    for label, source in indexes.items():
        db = os.path.join(work, "idx-" + label)
        subprocess.run(["rm", "-rf", db], check=True)
        start = time.time()
        out = subprocess.run([binary, "index", "--db", db, source, "--json"], check=True, capture_output=True, text=True).stdout
        summary = json.loads(out.strip().splitlines()[-1])
        print(json.dumps({"index": label, "documents": summary["documents"], "seconds_in_command": round(summary["seconds"], 2),
                          "wall_seconds": round(time.time() - start, 2)}))
    for qset in ("desc", "name", "line"):
        for label in indexes:
            for mode in ("bm25", "none", "fused"):
                run = subprocess.run([binary, "search", "--db", os.path.join(work, "idx-" + label), "--queries",
                                      os.path.join(work, f"q-{qset}.jsonl"), "-k", "100", "--rescore", mode, "--json"],
                                     check=True, capture_output=True, text=True).stdout
                n = found = rr = 0
                for line in run.splitlines():
                    o = json.loads(line)
                    want = o["query_id"]
                    ids = [h["id"].removesuffix(".txt").removesuffix(".gz") for h in o["results"]]
                    n += 1
                    found += want in ids[:10]
                    rr += 1 / (ids.index(want) + 1) if want in ids else 0
                print(json.dumps({"queries": qset, "index": label, "rescore": mode, "n": n,
                                  "found_at_10": round(found / n, 3), "mrr_at_100": round(rr / n, 3)}))


if __name__ == "__main__":
    main(*sys.argv[1:])
