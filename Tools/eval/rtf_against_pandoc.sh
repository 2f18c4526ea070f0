#!/usr/bin/env bash
# RTFText checked against an independent RTF writer: every Markdown README and doc of this
# machine (/usr/share/doc/*/README*, not gzipped) and this repository's docs written as RTF by
# pandoc (Debian: apt-get install pandoc), read back by RTFText, and the words compared with
# pandoc's own plain-text rendering of the same file. Prints one JSON line: files, the share of
# pandoc's words that RTFText's text holds (recall) and of RTFText's words that pandoc's holds.
#   Tools/eval/rtf_against_pandoc.sh [WORKDIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"
cat > main.swift <<'SWIFT'
import Foundation
for path in CommandLine.arguments.dropFirst() {
    try! RTFText.text(FileManager.default.contents(atPath: path)!).write(toFile: path + ".ours.txt", atomically: true, encoding: .utf8)
}
SWIFT
swiftc -O main.swift "$repo/Sources/Ingest/RTFText.swift" "$repo/Sources/Ingest/FileText.swift" -o rtfcat
for f in "$repo"/docs/*.md "$repo"/README.md /usr/share/doc/*/README*; do
  case $f in *.gz) continue ;; esac
  b=$(basename "$(dirname "$f")")_$(basename "$f")
  pandoc -f markdown -t rtf -s "$f" -o "$b.rtf" 2>/dev/null && pandoc -f markdown -t plain --wrap=none "$f" -o "$b.plain" 2>/dev/null || rm -f "$b.rtf"
done
./rtfcat ./*.rtf
python3 - <<'PY'
import collections, glob, json, re
words = lambda path: collections.Counter(re.findall(r"\w+", open(path, encoding="utf-8").read().lower()))
files = pandoc = ours = common = 0
for rtf in glob.glob("*.rtf"):
    p, o = words(rtf[:-4] + ".plain"), words(rtf + ".ours.txt")
    files += 1; pandoc += sum(p.values()); ours += sum(o.values()); common += sum((p & o).values())
print(json.dumps({"files": files, "recall_of_pandoc_words": round(common / pandoc, 4), "precision": round(common / ours, 4)}))
PY
