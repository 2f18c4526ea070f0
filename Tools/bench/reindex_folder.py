"""Re-indexing an unchanged folder (issue #17): a folder of technical documents from the
general corpus (man pages and git's documentation, one passage per file: 5,236 files), indexed
by `twentyq index --db IDX FOLDER --json`; then the same command again with nothing changed
(files whose size and modification time match their stored stamp are not read); then again
after one file was edited. The anchor is the first index in the same run; prints one JSON object.

Usage: python3 Tools/bench/reindex_folder.py TWENTYQ_BINARY DATA_DIR [--rounds N]
"""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


def index(binary, db, folder):
    start = time.perf_counter()
    run = subprocess.run([binary, "index", "--db", db, folder, "--json"], check=True, capture_output=True, text=True)
    return time.perf_counter() - start, json.loads(run.stdout.strip().splitlines()[-1])


def main():
    binary, data = sys.argv[1], sys.argv[2].rstrip("/")
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    work = tempfile.mkdtemp(prefix="twentyq-reindex-")
    folder = os.path.join(work, "docs")
    files = 0
    for source in ("man-pages", "git-docs"):
        os.makedirs(os.path.join(folder, source))
        with gzip.open(f"{data}/general/general-{source}.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                name = re.sub(r"[^A-Za-z0-9._-]", "_", d["id"].split(":", 1)[1]) + ".txt"
                with open(os.path.join(folder, source, name), "w", encoding="utf-8") as out:
                    out.write(d["text"])
                files += 1
    results = []
    for r in range(rounds):
        db = os.path.join(work, f"idx{r}")
        first_s, first = index(binary, db, folder)
        again_s, again = index(binary, db, folder)
        edited = os.path.join(folder, "man-pages", sorted(os.listdir(os.path.join(folder, "man-pages")))[r])
        with open(edited, "a", encoding="utf-8") as out:
            out.write("\nedited\n")
        edit_s, edit = index(binary, db, folder)
        results.append({"first_s": round(first_s, 3), "unchanged_s": round(again_s, 3), "one_edited_s": round(edit_s, 3),
                        "ratio": round(first_s / again_s, 1), "first": first, "unchanged": again, "one_edited": edit})
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
    print(json.dumps({"date": time.strftime("%Y-%m-%d"), "cpu": cpu, "files": files, "binary": binary, "rounds": results}))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
