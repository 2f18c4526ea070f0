import Foundation
import TestSupport
import Testing

/// The README's quick-start CLI block, run as written by bash (`set -e`), in a folder that looks
/// like the repository's root after `swift build -c release`: `.build/release/twentyq` (the
/// binary under test) and a copy of `Sources`. Each command must succeed and say what the
/// block's comments promise.
@Suite struct ReadmeCLITests {
    @Test func theQuickStartBlockRunsAsWritten() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let block = try #require(readme.components(separatedBy: "<!-- readme-cli").dropFirst().first?
            .components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "```").first)
        #expect(block.hasPrefix("B=.build/release/twentyq\n"))

        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir.appending(".build/release"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: dir.appending(".build/release/twentyq"), withDestinationPath: try twentyqBinary())
        try fm.copyItem(atPath: root.appendingPathComponent("Sources").path, toPath: dir.appending("Sources"))
        try ("set -e\n" + block).write(toFile: dir.appending("block.sh"), atomically: true, encoding: .utf8)
        let run = try runShell("cd '\(dir.path)' && env -u TWENTYQ_DEFAULT_MODEL bash block.sh 2>&1")
        #expect(run.status == 0, "\(run.stdout)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        let files = Int(try runShell("find '\(dir.appending("Sources"))' -type f ! -name '.*' | wc -l").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(lines.first?.hasPrefix("added \(files), replaced 0, unchanged 0") == true, "\(lines.first ?? "")")
        #expect(lines.contains { $0.hasPrefix("1. d=0  BinaryCodes/HammingSearch.swift") }, "more like this: \(run.stdout)")
        #expect(lines.contains { $0.hasSuffix(": consistent") }, "check: \(run.stdout)")
        #expect(lines.contains { $0.hasPrefix("added 0, replaced 0, unchanged \(files),") }, "re-index: \(run.stdout)")
        #expect(lines.contains("removed 1 document"), "remove: \(run.stdout)")
        // The JSON line's hit is a file that holds the query's rare word.
        let json = try parseJSONObject(try #require(lines.last))
        let top = try #require((json["results"] as? [[String: Any]])?.first?["id"] as? String, "\(lines.last ?? "")")
        let holders = try runShell("cd '\(dir.appending("Sources"))' && grep -rli zlib .").stdout.split(separator: "\n").map { String($0.dropFirst(2)) }
        #expect(holders.contains(top), "\(top) not among \(holders)")
    }
}
