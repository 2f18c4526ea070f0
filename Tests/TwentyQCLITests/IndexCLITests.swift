import Foundation
import TestSupport
import Testing
import TwentyQ

/// `index`, `search`, `export` through the real binary on real files.
@Suite struct IndexCLITests {
    /// A folder of mixed files and a JSONL file, and a model file.
    struct Fixture {
        let dir: TemporaryDirectory
        var folder: String { dir.appending("docs") }
        var jsonl: String { dir.appending("extra.jsonl") }
        var model: String { dir.appending("m.tqm") }
        var db: String { dir.appending("idx") }

        init() throws {
            dir = try TemporaryDirectory()
            let fm = FileManager.default
            try fm.createDirectory(atPath: dir.appending("docs/sub"), withIntermediateDirectories: true)
            try fm.createDirectory(atPath: dir.appending("docs/.hidden"), withIntermediateDirectories: true)
            try "NASA launched the space shuttle into orbit.".write(toFile: dir.appending("docs/space.txt"), atomically: true, encoding: .utf8)
            try "# Notes\nThe hockey team won the game.".write(toFile: dir.appending("docs/sub/hockey.md"), atomically: true, encoding: .utf8)
            try "<html><script>x()</script><p>God &amp; the church &#8212; faith &raquo; caf&eacute; &#x263A; &bogus; &#xZZ;</p></html>".write(toFile: dir.appending("docs/sub/faith.html"), atomically: true, encoding: .utf8)
            try "secret".write(toFile: dir.appending("docs/.hidden/skip.txt"), atomically: true, encoding: .utf8)
            try Data([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]).write(to: URL(fileURLWithPath: dir.appending("docs/program.bin")))
            // Not UTF-8, and a control byte (0x01) rules out Windows-1252 text: skipped as not UTF-8.
            try Data([0x66, 0xff, 0x01, 0x6f]).write(to: URL(fileURLWithPath: dir.appending("docs/control.txt")))
            try "   \n".write(toFile: dir.appending("docs/blank.txt"), atomically: true, encoding: .utf8)
            try """
            {"id": "j1", "text": "car engine and oil", "year": 1993}
            {"id": "j2", "text": "windows disk computer", "tags": ["pc"]}
            """.write(toFile: jsonl, atomically: true, encoding: .utf8)
            try ModelFile.write(randomModel(bits: 64, hidden: 32), to: model)
        }
    }

    /// Library errors reach a shell user in the CLI's words (commands and flags), not the
    /// library's (Swift calls): `CLIMessages`.
    @Test func libraryErrorsAreToldInTheCLIsWords() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let missing = try runTwentyQ(["search", "--db", dir.appending("none"), "orbit"])
        #expect(missing.status == 1 && missing.stderr.contains("twentyq index --db \(dir.appending("none"))"), "\(missing.stderr)")
        #expect(!missing.stderr.contains("CodeIndex"), "\(missing.stderr)")
        let vectors = try runTwentyQ(["index", "--db", dir.appending("v"), "--vectors", dir.appending("none.npy")])
        #expect(vectors.status == 1 && vectors.stderr.contains("twentyq train --vectors"), "\(vectors.stderr)")
        #expect(!vectors.stderr.contains("VectorIndex"), "\(vectors.stderr)")
    }

    /// The folder walk takes regular files only: hidden files and folders, symbolic links (to a
    /// file or a folder) and FIFOs are skipped, and nothing blocks on the FIFO.
    @Test func folderWalkSkipsHiddenEntriesLinksAndSpecialFiles() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let fm = FileManager.default
        for folder in ["docs/sub", "docs/.cache", "elsewhere"] {
            try fm.createDirectory(atPath: dir.appending(folder), withIntermediateDirectories: true)
        }
        try "orbit and launch".write(toFile: dir.appending("docs/b.txt"), atomically: true, encoding: .utf8)
        try "hockey game".write(toFile: dir.appending("docs/sub/c.txt"), atomically: true, encoding: .utf8)
        try "hidden file".write(toFile: dir.appending("docs/.h.txt"), atomically: true, encoding: .utf8)
        try "hidden folder".write(toFile: dir.appending("docs/.cache/d.txt"), atomically: true, encoding: .utf8)
        try "linked".write(toFile: dir.appending("elsewhere/a.txt"), atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: dir.appending("docs/link.txt"), withDestinationPath: dir.appending("elsewhere/a.txt"))
        try fm.createSymbolicLink(atPath: dir.appending("docs/linkdir"), withDestinationPath: dir.appending("elsewhere"))
        #expect(try runShell("mkfifo '\(dir.appending("docs/fifo"))'").status == 0)
        let model = dir.appending("m.tqm")
        try ModelFile.write(randomModel(bits: 64, hidden: 32), to: model)
        let db = dir.appending("idx")
        let result = try runTwentyQ(["index", "--db", db, "--model", model, dir.appending("docs"), "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let exported = try runTwentyQ(["export", "--db", db])
        let ids = try exported.stdout.split(separator: "\n").map { try parseJSONObject(String($0))["id"] as? String }
        #expect(ids == ["b.txt", "sub/c.txt"], "\(ids)")
    }

    /// Re-indexing a folder reads only files whose size or modification time changed (issue
    /// #17), like rsync's quick check: a file rewritten with the same size and its old time is
    /// not read (shown by its old text staying); touched, it is read and replaced once.
    @Test func unchangedFolderFilesAreNotReadAgain() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let folder = dir.appending("f"), db = dir.appending("idx"), model = dir.appending("m.tqm")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for i in 0..<20 { try "file \(i) space church".write(toFile: folder + "/\(i).txt", atomically: true, encoding: .utf8) }
        try ModelFile.write(randomModel(bits: 64, hidden: 16), to: model)
        #expect(try runTwentyQ(["index", "--db", db, "--model", model, folder]).status == 0)
        let file = folder + "/7.txt"
        // Same size, and the old time to the nanosecond (touch -r from a copy made with cp -p).
        #expect(try runShell("cp -p '\(file)' '\(dir.path)/ref' && printf 'FILE 7 SPACE CHURCH' > '\(file)' && touch -r '\(dir.path)/ref' '\(file)'").status == 0)
        var r = try runTwentyQ(["index", "--db", db, "--json", folder])
        var o = try parseJSONObject(r.stdout)
        #expect(o["unchanged"] as? Int == 20 && o["replaced"] as? Int == 0, "\(o)")
        func snippet() throws -> String? {
            let bytes = try #require(try CodeIndex.open(at: db, readOnly: true).metadata(for: "7.txt"))
            return (try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])?["snippet"] as? String
        }
        #expect(try snippet() == "file 7 space church")
        #expect(try runShell("touch -d '+5 seconds' '\(file)'").status == 0)
        r = try runTwentyQ(["index", "--db", db, "--json", folder])
        o = try parseJSONObject(r.stdout)
        #expect(o["unchanged"] as? Int == 19 && o["replaced"] as? Int == 1, "\(o)")
        #expect(try snippet() == "FILE 7 SPACE CHURCH")
        r = try runTwentyQ(["index", "--db", db, "--json", folder])
        #expect(try parseJSONObject(r.stdout)["unchanged"] as? Int == 20)
    }

    /// Two folders with a README.md each (issue #17): in one run, an error naming both files;
    /// across runs, the second folder may not silently replace the first one's document; their
    /// common parent indexes both.
    @Test func sameIDsFromTwoFoldersNeverReplaceEachOther() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        for name in ["f1", "f2"] {
            try FileManager.default.createDirectory(atPath: dir.appending("p/\(name)"), withIntermediateDirectories: true)
            try "read me: \(name) space church".write(toFile: dir.appending("p/\(name)/README.md"), atomically: true, encoding: .utf8)
        }
        let model = dir.appending("m.tqm"), db = dir.appending("idx")
        try ModelFile.write(randomModel(bits: 64, hidden: 16), to: model)
        let both = try runTwentyQ(["index", "--db", db, "--model", model, dir.appending("p/f1"), dir.appending("p/f2")])
        #expect(both.status == 65 && both.stderr.contains("comes from both") && both.stderr.contains("f2/README.md"), "\(both.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db + "/data.mdb"))
        #expect(try runTwentyQ(["index", "--db", db, "--model", model, dir.appending("p/f1")]).status == 0)
        let second = try runTwentyQ(["index", "--db", db, dir.appending("p/f2")])
        #expect(second.status == 65 && second.stderr.contains("already held by") && second.stderr.contains("common parent"), "\(second.stderr)")
        let kept = try DocumentIndex.open(at: db, readOnly: true)
        let path = try kept.search("f1", k: 1).first?.fields["path"]
        #expect(try kept.count == 1)
        #expect(path?.hasSuffix("f1/README.md") == true, "\(path ?? "none")")
        let parent = try runTwentyQ(["index", "--db", db, "--json", dir.appending("p")])
        let documents = try parseJSONObject(parent.stdout)["documents"] as? Int
        #expect(parent.status == 0 && documents == 3, "\(parent.stderr)")
    }

    /// JSONL files past `--stream-over` (0 here: all) are checked whole, then read again as they
    /// are indexed: the documents land in argument order (a file, a folder, another file), batch
    /// boundaries crossing files, with the lines skipped in the check skipped again, as when the
    /// files are held in memory (the default for small files). An id given twice names both
    /// places, and nothing is written.
    @Test func jsonlFilesAreStreamedInArgumentOrder() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = dir.appending("m.tqm")
        try ModelFile.write(randomModel(bits: 64, hidden: 16), to: model)
        func line(_ id: String, _ text: String) -> String { "{\"id\": \"\(id)\", \"text\": \"\(text)\"}\n" }
        try (line("a1", "space orbit") + line("a2", "church god") + line("a3", "car engine")).write(toFile: dir.appending("a.jsonl"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.appending("f"), withIntermediateDirectories: true)
        try "hockey game".write(toFile: dir.appending("f/x.txt"), atomically: true, encoding: .utf8)
        try (line("b1", "disk window") + "\n" + line("b2", "  ") + line("b3", "orbit engine") + "not json\n" + line("b4", "game god"))
            .write(toFile: dir.appending("b.jsonl"), atomically: true, encoding: .utf8)
        func stored(_ db: String) throws -> [String] {
            var out: [String] = []
            try DocumentIndex.open(at: db, readOnly: true).forEachDocument { out.append("\($0.id) \($0.code.words) \($0.fields.sorted { $0.key < $1.key })"); return true }
            return out
        }
        var held: [String] = []
        for (db, streamOver) in [("held", "256"), ("streamed", "0")] {
            let r = try runTwentyQ(["index", "--db", dir.appending(db), "--model", model, "--batch", "2", "--skip-bad", "--json",
                                    "--stream-over", streamOver, dir.appending("a.jsonl"), dir.appending("f"), dir.appending("b.jsonl")])
            #expect(r.status == 0, "\(r.stderr)")
            let s = try parseJSONObject(r.stdout)
            #expect(s["added"] as? Int == 7 && (s["skipped_reasons"] as? [String: Int]) == ["empty": 1, "bad JSONL line": 1], "\(s)")
            let documents = try stored(dir.appending(db))
            #expect(documents.map { String($0.prefix { $0 != " " }) } == ["a1", "a2", "a3", "x.txt", "b1", "b3", "b4"])
            if held.isEmpty { held = documents } else { #expect(documents == held) }
        }
        // Standard input through a pipe (not seekable), copied to an unlinked temporary file and
        // read from it twice: the same documents again, and no file left behind in TMPDIR.
        let tmp = dir.appending("tmp")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        let piped = try runShell("cat '\(dir.appending("b.jsonl"))' | TMPDIR='\(tmp)' '\(try twentyqBinary())' index --db '\(dir.appending("piped"))' "
                                 + "--model '\(model)' --batch 2 --skip-bad --stream-over 0 '\(dir.appending("a.jsonl"))' '\(dir.appending("f"))' -")
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(try stored(dir.appending("piped")) == held)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
        let noTemp = try runShell("echo '{\"id\": \"z\", \"text\": \"space\"}' | TMPDIR='\(dir.appending("missing"))' '\(try twentyqBinary())' index "
                                  + "--db '\(dir.appending("piped"))' -")
        #expect(noTemp.status != 0 && noTemp.stderr.contains("stdin") && noTemp.stderr.contains("TMPDIR"), "\(noTemp.stderr)")

        try (line("c1", "new text") + line("c2", "more") + line("a2", "again")).write(toFile: dir.appending("c.jsonl"), atomically: true, encoding: .utf8)
        try line("d1", "fresh").write(toFile: dir.appending("d.jsonl"), atomically: true, encoding: .utf8)
        let r = try runTwentyQ(["index", "--db", dir.appending("streamed"), "--batch", "1", "--stream-over", "0",
                                dir.appending("d.jsonl"), dir.appending("c.jsonl"), dir.appending("a.jsonl")])
        #expect(r.status == 65 && r.stderr.contains("a.jsonl:2: id 'a2' appears more than once (first at \(dir.appending("c.jsonl")):3)"), "\(r.stderr)")
        #expect(try stored(dir.appending("streamed")) == held)
        let bad = try runTwentyQ(["index", "--db", dir.appending("streamed"), "--stream-over", "-1", dir.appending("d.jsonl")])
        #expect(bad.status == 64 && bad.stderr.contains("--stream-over"), "\(bad.stderr)")
    }

    /// A folder's JSONL files whose first line is not a document (benchmark results, logs) are
    /// other JSON: skipped whole and counted (plain or gzipped, with or without --skip-bad),
    /// each named in a warning; the corpus beside them is indexed. Named directly, such a file
    /// stops the run at its first line; a folder file with a good first line and a bad later
    /// one stops it too, and nothing is written.
    @Test func otherJSONInAFolderIsSkippedWhole() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = dir.appending("m.tqm"), folder = dir.appending("f")
        try ModelFile.write(randomModel(bits: 64, hidden: 16), to: model)
        try FileManager.default.createDirectory(atPath: folder + "/bench", withIntermediateDirectories: true)
        try "NASA launched the shuttle into orbit.".write(toFile: folder + "/space.txt", atomically: true, encoding: .utf8)
        try "{\"id\": \"c1\", \"text\": \"car engine\"}\n{\"id\": \"c2\", \"text\": \"church god\"}\n"
            .write(toFile: folder + "/corpus.jsonl", atomically: true, encoding: .utf8)
        let results = (1...400).map { "{\"bench\": \"search\", \"run\": \($0), \"codes_per_second\": 4.04e9}\n" }.joined()
        try results.write(toFile: folder + "/bench/results.jsonl", atomically: true, encoding: .utf8)
        try results.write(toFile: folder + "/bench/old.jsonl", atomically: true, encoding: .utf8)
        #expect(try runShell("gzip '\(folder)/bench/old.jsonl'").status == 0)
        // A compressed file misnamed .jsonl: binary, not a corpus.
        #expect(try runShell("cp '\(folder)/bench/old.jsonl.gz' '\(folder)/bench/packed.jsonl'").status == 0)
        for flags in [[], ["--skip-bad"]] {
            let db = dir.appending("idx\(flags.count)")
            let r = try runTwentyQ(["index", "--db", db, "--model", model, "--json", folder] + flags)
            #expect(r.status == 0, "\(r.stderr)")
            let summary = try parseJSONObject(r.stdout)
            #expect(summary["added"] as? Int == 3 && (summary["skipped_reasons"] as? [String: Int]) == ["JSONL not a corpus": 3], "\(summary)")
            for file in ["bench/results.jsonl", "bench/old.jsonl.gz"] {
                #expect(r.stderr.contains("warning: skipped \(folder)/\(file):1: no string field \"text\" on its first line"), "\(r.stderr)")
            }
            #expect(r.stderr.contains("warning: skipped \(folder)/bench/packed.jsonl:1: bytes that are not UTF-8 on its first line"), "\(r.stderr)")
            var ids: [String] = []
            try DocumentIndex.open(at: db, readOnly: true).forEachDocument { ids.append($0.id); return true }
            #expect(ids.sorted() == ["c1", "c2", "space.txt"])
        }
        let named = try runTwentyQ(["index", "--db", dir.appending("named"), "--model", model, folder + "/bench/results.jsonl"])
        #expect(named.status != 0 && named.stderr.contains("results.jsonl:1: no string field \"text\" (use --skip-bad"), "\(named.stderr)")
        try "{\"id\": \"b1\", \"text\": \"hockey\"}\n{\"id\": \"b2\"}\n".write(toFile: folder + "/broken.jsonl", atomically: true, encoding: .utf8)
        let broken = try runTwentyQ(["index", "--db", dir.appending("idx0"), folder])
        #expect(broken.status != 0 && broken.stderr.contains("broken.jsonl:2: no string field \"text\""), "\(broken.stderr)")
        #expect(try DocumentIndex.open(at: dir.appending("idx0"), readOnly: true).count == 3)
    }

    /// A `.jsonl.gz` file, given or in a folder, is JSONL read through gzip (it was once skipped
    /// as binary, exit status 0, nothing indexed); a truncated one is an error naming gzip's
    /// failure, and nothing is written.
    @Test func gzippedJSONLIsIndexed() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = dir.appending("m.tqm"), db = dir.appending("idx")
        try ModelFile.write(randomModel(bits: 64, hidden: 16), to: model)
        try FileManager.default.createDirectory(atPath: dir.appending("f"), withIntermediateDirectories: true)
        let lines = (1...300).map { "{\"id\": \"g\($0)\", \"text\": \"space orbit \($0) church\"}\n" }.joined()
        try lines.write(toFile: dir.appending("f/g.jsonl"), atomically: true, encoding: .utf8)
        #expect(try runShell("gzip '\(dir.appending("f/g.jsonl"))'").status == 0)
        try "{\"id\": \"h1\", \"text\": \"hockey game\"}\n".write(toFile: dir.appending("h.jsonl"), atomically: true, encoding: .utf8)
        #expect(try runShell("gzip '\(dir.appending("h.jsonl"))'").status == 0)
        // Truncated: the first half of a compressed file.
        #expect(try runShell("head -c 400 '\(dir.appending("f/g.jsonl.gz"))' > '\(dir.appending("cut.jsonl.gz"))'").status == 0)
        var r = try runTwentyQ(["index", "--db", db, "--model", model, dir.appending("cut.jsonl.gz")])
        #expect(r.status != 0 && r.stderr.contains("gzip"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db + "/data.mdb"))
        r = try runTwentyQ(["index", "--db", db, "--model", model, "--batch", "64", "--json", dir.appending("h.jsonl.gz"), dir.appending("f")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try parseJSONObject(r.stdout)["added"] as? Int == 301, "\(r.stdout)")
        var ids: [String] = []
        try DocumentIndex.open(at: db, readOnly: true).forEachDocument { ids.append($0.id); return true }
        #expect(ids == ["h1"] + (1...300).map { "g\($0)" })
    }

    @Test func indexesFoldersAndJSONLThenSkipsUnchangedAndReplacesChanged() throws {
        let f = try Fixture(); defer { f.dir.remove() }
        var r = try runTwentyQ(["index", "--db", f.db, "--model", f.model, f.folder, f.jsonl, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        var s = try parseJSONObject(r.stdout)
        #expect(s["added"] as? Int == 5 && s["unchanged"] as? Int == 0 && s["documents"] as? Int == 5)
        #expect(s["skipped"] as? Int == 3)
        #expect((s["skipped_reasons"] as? [String: Int]) == ["binary": 1, "empty": 1, "not UTF-8": 1])

        r = try runTwentyQ(["index", "--db", f.db, f.folder, f.jsonl, "--json"]) // the index remembers its model
        s = try parseJSONObject(r.stdout)
        #expect(s["added"] as? Int == 0 && s["replaced"] as? Int == 0 && s["unchanged"] as? Int == 5)

        try "NASA launched the space shuttle again.".write(toFile: f.folder + "/space.txt", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: f.folder + "/sub/hockey.md")
        r = try runTwentyQ(["index", "--db", f.db, f.folder, "--prune", "--json"])
        s = try parseJSONObject(r.stdout)
        #expect(s["replaced"] as? Int == 1 && s["unchanged"] as? Int == 1 && s["pruned"] as? Int == 1 && s["documents"] as? Int == 4)
    }

    @Test func searchFindsDocumentsByTextByIDAndInBatches() throws {
        let f = try Fixture(); defer { f.dir.remove() }
        #expect(try runTwentyQ(["index", "--db", f.db, "--model", f.model, f.folder, f.jsonl]).status == 0)
        // A document's own text encodes to its own code: distance 0.
        var r = try runTwentyQ(["search", "--db", f.db, "--json", "-k", "5", "car engine and oil"])
        let first = (try parseJSONObject(r.stdout)["results"] as? [[String: Any]])?.first
        #expect(first?["distance"] as? Int == 0)
        #expect(try parseJSONObject(r.stdout)["results"].map { ($0 as? [Any])?.count } == 5)

        r = try runTwentyQ(["search", "--db", f.db, "--like", "sub/faith.html", "-k", "1"])
        #expect(r.stdout.hasPrefix("1. d=0  sub/faith.html  God & the church — faith » café ☺ &bogus; &#xZZ;"), "\(r.stdout)")

        let queries = f.dir.appending("q.jsonl")
        try "{\"id\": \"q7\", \"text\": \"hockey team\"}\n{\"id\": 8, \"text\": \"windows disk computer\"}\n".write(toFile: queries, atomically: true, encoding: .utf8)
        r = try runTwentyQ(["search", "--db", f.db, "--queries", queries, "-k", "2"])
        let lines = r.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(lines.count == 2 && lines[0]["query_id"] as? String == "q7" && lines[1]["query_id"] as? String == "8")
        let second = lines[1]["results"] as? [[String: Any]]
        #expect(second?.count == 2 && second?.first?["id"] as? String == "j2" && second?.first?["distance"] as? Int == 0)

        r = try runTwentyQ(["search", "--db", f.db, "--radius", "0", "windows disk computer", "--json"])
        #expect((try parseJSONObject(r.stdout)["results"] as? [[String: Any]])?.map { $0["id"] as? String } == ["j2"])

        r = try runTwentyQ(["export", "--db", f.db])
        let exported = r.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(exported.count == 5 && exported.allSatisfy { ($0["code"] as? String)?.count == 16 })
        #expect(exported.contains { ($0["metadata"] as? [String: Any])?["year"] as? String == "1993" })
    }

    @Test func stdinJSONLAndBadInputs() throws {
        let f = try Fixture(); defer { f.dir.remove() }
        var r = try runShell("'\(try twentyqBinary())' index --db '\(f.db)' --model '\(f.model)' - --json < '\(f.jsonl)'")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try parseJSONObject(r.stdout)["added"] as? Int == 2)

        r = try runTwentyQ(["index", "--db", f.db, f.dir.appending("nope.txt")])
        #expect(r.status != 0 && r.stderr.contains("nope.txt: no such file or directory"))

        let bad = f.dir.appending("bad.jsonl")
        try "{\"id\": \"a\", \"text\": \"ok\"}\n{\"id\": \"b\", \"text\": \n{\"id\": \"c\", \"text\": \"fine\"}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        r = try runTwentyQ(["index", "--db", f.db, bad])
        #expect(r.status != 0 && r.stderr.contains("bad.jsonl:2: not a JSON object"), "\(r.stderr)")
        #expect(try parseJSONObject(try runTwentyQ(["info", "--db", f.db, "--json"]).stdout)["documents"] as? Int == 2) // nothing lost or added
        r = try runTwentyQ(["index", "--db", f.db, bad, "--skip-bad", "--json"])
        #expect(r.status == 0)
        let summary = try parseJSONObject(r.stdout)
        #expect(summary["added"] as? Int == 2 && summary["skipped"] as? Int == 1)

        let dup = f.dir.appending("dup.jsonl")
        try "{\"id\": \"x\", \"text\": \"one\"}\n{\"id\": \"x\", \"text\": \"two\"}\n".write(toFile: dup, atomically: true, encoding: .utf8)
        r = try runTwentyQ(["index", "--db", f.db, dup])
        #expect(r.status != 0 && r.stderr.contains("id 'x' appears more than once"))

        let other = f.dir.appending("other.tqm")
        try ModelFile.write(randomModel(bits: 64, hidden: 32, seed: 99), to: other)
        r = try runTwentyQ(["index", "--db", f.db, "--model", other, f.jsonl])
        #expect(r.status != 0 && r.stderr.contains("was built with model"), "\(r.stderr)")

        r = try runTwentyQ(["index", "--db", f.db, f.folder + "/control.txt"])
        #expect(r.status != 0 && r.stderr.contains("control.txt: neither UTF-8 nor Windows-1252 (Latin-1) text"), "\(r.stderr)")

        r = try runTwentyQ(["search", "--db", f.db, "--like", "missing-id"])
        #expect(r.status != 0 && r.stderr.contains("no document with id 'missing-id'"))
        r = try runTwentyQ(["search", "--db", f.db])
        #expect(r.status != 0 && r.stderr.contains("give exactly one of"))
    }
}

@Suite struct ExplainTests {
    /// Every hit's explanation counts as many differing questions as its Hamming distance.
    @Test func explanationsCountTheDifferingBits() throws {
        let f = try IndexCLITests.Fixture(); defer { f.dir.remove() }
        #expect(try runTwentyQ(["index", "--db", f.db, "--model", f.model, f.folder, f.jsonl]).status == 0)
        let r = try runTwentyQ(["search", "--db", f.db, "-k", "5", "--explain", "space hockey church"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        var checked = 0
        for (i, line) in lines.enumerated() where line.range(of: #"^\d+\. d=\d+"#, options: .regularExpression) != nil {
            let distance = Int(line.split(separator: " ")[1].dropFirst(2))!
            let explanation = lines[i + 1]
            #expect(explanation.contains("agree on \(64 - distance) of 64 questions; differ on \(distance)"), "\(explanation)")
            checked += 1
        }
        #expect(checked == 5)
    }
}

@Suite struct QueryOutputTests {
    /// Query ids with quotes, backslashes, control characters and non-ASCII text come back intact
    /// in `search --queries` output (the CLI writes those lines with its own JSON escaper).
    @Test func queryIDsRoundTripThroughTheBatchOutput() throws {
        let f = try IndexCLITests.Fixture(); defer { f.dir.remove() }
        #expect(try runTwentyQ(["index", "--db", f.db, "--model", f.model, f.jsonl]).status == 0)
        let ids = ["plain", "quote \" and \\ backslash", "tab\tnew\nline\r", "\u{01}\u{1f} control", "ünïcødé ✓ 日本"]
        var lines = ""
        for id in ids {
            let data = try JSONSerialization.data(withJSONObject: ["id": id, "text": "car engine"])
            lines += String(decoding: data, as: UTF8.self) + "\n"
        }
        let queries = f.dir.appending("q.jsonl")
        try lines.write(toFile: queries, atomically: true, encoding: .utf8)
        let r = try runTwentyQ(["search", "--db", f.db, "--queries", queries, "-k", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let got = try r.stdout.split(separator: "\n").map { line -> String in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["query_id"] as? String ?? "?"
        }
        #expect(got == ids)
    }

    /// A queries file longer than one batch (8,192) is answered batch by batch: every query
    /// once, in file order, each with the answer it gets in a file of its own batch (the file cut
    /// in two at the batch boundary, then at another place), `.gz` too.
    @Test func aLongQueriesFileIsAnsweredBatchByBatch() throws {
        let f = try IndexCLITests.Fixture(); defer { f.dir.remove() }
        #expect(try runTwentyQ(["index", "--db", f.db, "--model", f.model, f.folder, f.jsonl]).status == 0)
        let words = ["space", "orbit", "church", "god", "disk", "engine", "hockey", "game", "car", "window"]
        let lines = (0 ..< 8_200).map { i in "{\"id\": \"q\(i)\", \"text\": \"\(words[i % 10]) \(words[(i / 10) % 10]) \(words[(i / 100) % 10])\"}\n" }
        func answers(_ part: ArraySlice<String>, _ name: String) throws -> [Substring] {
            let file = f.dir.appending(name)
            try part.joined().write(toFile: file, atomically: true, encoding: .utf8)
            let r = try runTwentyQ(["search", "--db", f.db, "--queries", file, "-k", "2"])
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout.split(separator: "\n")
        }
        let whole = try answers(lines[...], "all.jsonl")
        #expect(whole.count == 8_200 && whole.last?.hasPrefix("{\"query_id\":\"q8199\"") == true, "\(whole.last ?? "none")")
        #expect(whole == (try answers(lines[..<8_192], "a.jsonl")) + (try answers(lines[8_192...], "b.jsonl")))
        #expect(whole == (try answers(lines[..<100], "c.jsonl")) + (try answers(lines[100...], "d.jsonl")))
        #expect(try runShell("gzip -k '\(f.dir.appending("all.jsonl"))'").status == 0)
        let zipped = try runTwentyQ(["search", "--db", f.db, "--queries", f.dir.appending("all.jsonl.gz"), "-k", "2"])
        #expect(zipped.stdout.split(separator: "\n") == whole, "\(zipped.stderr)")
    }
}

@Suite struct LargeJSONLTests {
    /// A JSONL file of more than 64 MiB, indexed on a terminal (`script` gives the binary a
    /// pseudo-terminal), shows how much of it has been read before anything is indexed: the
    /// first sign of life comes while the file is parsed, not after. Its documents are all
    /// indexed, the long ones by their first 5,000 tokens.
    @Test func aLargeJSONLShowsItsReadingFirst() throws {
        let f = try IndexCLITests.Fixture(); defer { f.dir.remove() }
        let big = f.dir.appending("big.jsonl")
        let words = (0..<40).map { "w\($0)" }.joined(separator: " ") + " "
        let text = String(repeating: words, count: 10_000)  // 1.3 MB of text per line
        let lines = (0..<52).map { #"{"id": "big\#($0)", "text": "doc\#($0) \#(text)"}"# }
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: big))
        let size = try #require(FileManager.default.attributesOfItem(atPath: big)[.size] as? Int)
        #expect(size > 64 << 20)
        let r = try runShell("script -qec \"'\(try twentyqBinary())' index --db '\(f.db)' --model '\(f.model)' '\(big)'\" /dev/null")
        #expect(r.status == 0, "\(r.stdout)")
        let shown = r.stdout.replacingOccurrences(of: "\r", with: "\n")
        let reading = try #require(shown.range(of: "reading  ["))
        #expect(shown.contains("/\((size + (1 << 20) - 1) >> 20) MiB"), "\(shown)")
        #expect(shown.range(of: "indexing [").map { reading.lowerBound < $0.lowerBound } == true, "\(shown)")
        #expect(shown.contains("added 52,"), "\(shown)")
    }

    /// A .jsonl.gz has no reading bar of its decompressed bytes (their count is unknown until
    /// read): the bar follows the compressed bytes gzip has taken in, to the file's size.
    @Test func aLargeGzippedJSONLShowsItsReadingFirst() throws {
        let f = try IndexCLITests.Fixture(); defer { f.dir.remove() }
        let plain = f.dir.appending("big.jsonl")
        // 24 lines with a field of 1 MiB of random base64 (kept as a field, not indexed): about
        // 18 MiB after gzip, above the 16 MiB from which a compressed file shows its bar.
        var rng = SeededGenerator(seed: 25)
        let lines = (0..<24).map { row -> String in
            let blob = (0..<(96 << 10)).map { _ in rng.next() }.withUnsafeBytes { Data($0) }.base64EncodedString()
            return #"{"id": "big\#(row)", "text": "document \#(row) about compressed files", "blob": "\#(blob)"}"#
        }
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: plain))
        #expect(try runShell("gzip '\(plain)'").status == 0)
        let size = try #require(FileManager.default.attributesOfItem(atPath: plain + ".gz")[.size] as? Int)
        #expect(size > 16 << 20)
        let r = try runShell("script -qec \"'\(try twentyqBinary())' index --db '\(f.db)' --model '\(f.model)' '\(plain).gz'\" /dev/null")
        #expect(r.status == 0, "\(r.stdout)")
        let shown = r.stdout.replacingOccurrences(of: "\r", with: "\n")
        let mib = (size + (1 << 20) - 1) >> 20
        let reading = try #require(shown.range(of: "reading  ["))
        #expect(shown.contains("] \(mib)/\(mib) MiB of gzip"), "\(shown)")
        #expect(shown.range(of: "indexing [").map { reading.lowerBound < $0.lowerBound } == true, "\(shown)")
        #expect(shown.contains("added 24,"), "\(shown)")
    }
}

@Suite struct UnreadableFileTests {
    /// A file the user may not read: named directly it stops the run with a clear message;
    /// inside a folder it is skipped and counted. Root reads everything, so as root the CLI runs
    /// as `nobody` (setpriv) on files only root may read.
    @Test func unreadableFilesAreNamedOrSkipped() throws {
        let f = try IndexCLITests.Fixture(); defer { f.dir.remove() }
        let secret = f.folder + "/secret.txt"
        try "top secret words".write(toFile: secret, atomically: true, encoding: .utf8)
        _ = try runShell("chmod 000 '\(secret)' && chmod -R a+rwX '\(f.dir.path)' && chmod 000 '\(secret)' && chmod a+x '\(NSTemporaryDirectory())'")
        let binary = try twentyqBinary()
        let prefix = getuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : ""
        var r = try runShell("\(prefix)'\(binary)' index --db '\(f.db)' --model '\(f.model)' '\(secret)'")
        #expect(r.status != 0, "\(r.stdout)")
        #expect(r.stderr.contains("secret.txt") && r.stderr.contains("permission denied"), "\(r.stderr)")
        r = try runShell("\(prefix)'\(binary)' index --db '\(f.db)' --model '\(f.model)' '\(f.folder)' --json")
        #expect(r.status == 0, "\(r.stderr)")
        let reasons = try parseJSONObject(r.stdout)["skipped_reasons"] as? [String: Int]
        #expect(reasons?["unreadable"] == 1, "\(r.stdout)")
    }
}
