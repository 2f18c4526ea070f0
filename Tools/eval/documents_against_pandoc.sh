#!/usr/bin/env bash
# The readers of RTF (RTFText) and legacy Word files (LegacyOfficeText: catdoc, then the
# hyperlink fields dropped) checked against independent writers: Markdown READMEs and docs of
# this machine (/usr/share/doc/*/README*, not gzipped) and this repository's docs, written as RTF
# by pandoc and as Word 97 by pandoc (.docx) then LibreOffice (.doc), are read back, and their
# words compared with pandoc's own plain-text rendering of the same file. Needs pandoc,
# LibreOffice (soffice) and catdoc from Debian. Prints one JSON line per format: files, the
# share of pandoc's words that the text read holds (recall), and of its words that pandoc's
# rendering holds (precision).
#   Tools/eval/documents_against_pandoc.sh [WORKDIR] [MAX_DOC_FILES]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$(mktemp -d)}
max_doc=${2:-40}
mkdir -p "$work" && cd "$work"
cat > main.swift <<'SWIFT'
import Foundation
for path in CommandLine.arguments.dropFirst() {
    let data = FileManager.default.contents(atPath: path)!
    let text = path.hasSuffix(".rtf") ? RTFText.text(data) : try! LegacyOfficeText.extract(data, kind: .doc, path: path)
    try! text.write(toFile: path + ".ours.txt", atomically: true, encoding: .utf8)
}
SWIFT
sources=(RTFText FileText LegacyOfficeText ExternalConverter)
swiftc -O -package-name twentyq main.swift $(for s in "${sources[@]}"; do printf '%s ' "$repo/Sources/Ingest/$s.swift"; done) -o read-back
n=0
for f in "$repo"/docs/*.md "$repo"/README.md /usr/share/doc/*/README*; do
  case $f in *.gz) continue ;; esac
  b=$(basename "$(dirname "$f")")_$(basename "$f")
  pandoc -f markdown -t plain --wrap=none "$f" -o "$b.plain" 2>/dev/null || continue
  pandoc -f markdown -t rtf -s "$f" -o "$b.rtf" 2>/dev/null || rm -f "$b.rtf"
  if [ "$n" -lt "$max_doc" ] && pandoc -f markdown -t docx "$f" -o "$b.docx" 2>/dev/null; then n=$((n + 1)); fi
done
soffice --headless --convert-to 'doc:MS Word 97' ./*.docx >/dev/null 2>&1
./read-back ./*.rtf ./*.doc
python3 - <<'PY'
import collections, glob, json, re
words = lambda path: collections.Counter(re.findall(r"\w+", open(path, encoding="utf-8").read().lower()))
for kind in ("rtf", "doc"):
    files = pandoc = ours = common = 0
    for path in glob.glob("*." + kind):
        p, o = words(path[:-len(kind) - 1] + ".plain"), words(path + ".ours.txt")
        files += 1; pandoc += sum(p.values()); ours += sum(o.values()); common += sum((p & o).values())
    print(json.dumps({"format": kind, "files": files, "recall_of_pandoc_words": round(common / pandoc, 4), "precision": round(common / ours, 4)}))
PY
