import BinaryCodes
import CodeStore
import Encoder
import Foundation
import TestSupport
import Testing
import TwentyQ

@Suite struct DocumentIndexTests {
    /// `count` documents "d0", "d1", ... of 3 to 11 words drawn (seeded) from ten, each ending
    /// in its own "nI", with a field "n".
    static func documents(_ count: Int, seed: UInt64) -> [Document] {
        let words = ["space", "orbit", "god", "church", "car", "engine", "hockey", "game", "disk", "window"]
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { i in
            Document(id: "d\(i)", text: (0..<(3 + i % 9)).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ") + " n\(i)",
                     fields: ["n": "\(i)"])
        }
    }

    /// Every stored document in slot order: id, code and fields.
    static func stored(_ index: DocumentIndex) throws -> [String] {
        var out: [String] = []
        try index.forEachDocument { d in out.append("\(d.id) \(d.code.words) \(d.fields.sorted { $0.key < $1.key })"); return true }
        return out
    }

    /// Four threads search while one adds batches: every search sees a committed state (a
    /// whole number of batches, each document findable by its own text at distance 0).
    @Test func readersSearchWhileAWriterAdds() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = randomModel(bits: 128, hidden: 32)
        let index = try DocumentIndex.open(at: dir.appending("idx"), model: model)
        let words = ["space", "orbit", "god", "church", "car", "engine", "hockey", "game"]
        @Sendable func doc(_ i: Int) -> Document {
            Document(id: "d\(i)", text: (0..<5).map { words[($0 * 7 + i * 3 + i / 5) % words.count] }.joined(separator: " ") + " \(i)")
        }
        let batches = 40, batchSize = 50
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 5) { worker in
            if worker == 0 {
                for b in 0..<batches {
                    do { try index.add((0..<batchSize).map { doc(b * batchSize + $0) }, threads: 1) } catch { failures.add("add: \(error)") }
                }
                return
            }
            for round in 0..<60 {
                do {
                    let count = try index.count
                    if count % batchSize != 0 { failures.add("count \(count) is not whole batches") }
                    guard count > 0 else { continue }
                    let probe = (round * 37 + worker) % count
                    let hits = try index.search(doc(probe).text, k: 3)
                    if !hits.contains(where: { $0.distance == 0 }) { failures.add("d\(probe) not found at distance 0") }
                } catch {
                    failures.add("search: \(error)")
                }
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
        #expect(try index.count == batches * batchSize)
    }

    /// Batches written while the next is encoded store what one `add` of everything stores:
    /// the same documents in the same slots (codes, fields), the same counts and the same
    /// ranked hits (BM25 included); progress reports every committed batch. Adding the same
    /// documents again in batches finds them all unchanged; a replaced text is counted as such.
    @Test func batchedAddStoresWhatOneAddStores() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = randomModel(bits: 128, hidden: 32)
        let docs = Self.documents(230, seed: 21)
        let whole = try DocumentIndex.create(at: dir.appending("whole"), model: model)
        let batched = try DocumentIndex.create(at: dir.appending("batched"), model: model)
        #expect(try whole.add(docs, threads: 2) == AddSummary(added: 230))
        var reported: [Int] = []
        #expect(try batched.add(docs, batch: 64, threads: 2) { reported.append($0) } == AddSummary(added: 230))
        #expect(reported == [64, 128, 192, 230])
        #expect(try Self.stored(whole) == Self.stored(batched))
        for q in ["space orbit", "church god game", "n17 disk", docs[5].text] {
            let a = try whole.search(texts: [q], k: 20)[0].hits, b = try batched.search(texts: [q], k: 20)[0].hits
            #expect(a.map(\.id) == b.map(\.id) && a.map(\.bm25) == b.map(\.bm25), "query \(q)")
        }
        var again = docs
        again[100].text += " changed"
        #expect(try batched.add(again, batch: 50) == AddSummary(replaced: 1, unchanged: 229))
        #expect(try batched.count == 230)
    }

    /// A batch that fails stops the run: the batches before it stay, none after it is written,
    /// and the error is the failing batch's. Duplicate ids anywhere write nothing.
    @Test func batchedAddStopsAtTheFirstFailedBatch() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try DocumentIndex.create(at: dir.appending("idx"), model: randomModel(bits: 64, hidden: 16))
        var docs = (0..<30).map { Document(id: "d\($0)", text: "word\($0) engine car") }
        #expect { try index.add(docs + [Document(id: "d3", text: "again")], batch: 10) } throws: { error in
            if case IndexError.duplicateID("d3") = error { return true } else { return false }
        }
        #expect { try index.add(docs, batch: 0) } throws: { error in
            if case IndexError.invalidSetting(let text) = error { return text.contains("at least 1") } else { return false }
        }
        #expect(try index.count == 0)
        docs[14].id = String(repeating: "x", count: 600)  // too long for an id: batch 2 of 3 fails
        var reported: [Int] = []
        #expect { try index.add(docs, batch: 10) { reported.append($0) } } throws: { error in
            if case IndexError.invalidID = error { return true } else { return false }
        }
        #expect(reported == [10])
        #expect(try index.count == 10)
        #expect(try index.fields(for: ["d9", "d10", "d20"]).map { $0 != nil } == [true, false, false])
    }

    /// A batch writer given the documents in uneven pieces (empty, shorter and longer than a
    /// batch) stores what `add(_:batch:)` of all of them stores, commits the same batches and
    /// reports the same progress. An id given twice, in a later piece, is refused before the
    /// batch that would hold it: the full batches before it stay, the pending ones are not
    /// written, and the writer then gives the same error; a finished writer takes nothing more.
    @Test func aBatchWriterStoresWhatOneBatchedAddStores() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = randomModel(bits: 64, hidden: 16)
        let docs = Self.documents(47, seed: 5)
        let whole = try DocumentIndex.create(at: dir.appending("whole"), model: model)
        var expected: [Int] = []
        #expect(try whole.add(docs, batch: 10, threads: 2) { expected.append($0) } == AddSummary(added: 47))
        let pieced = try DocumentIndex.create(at: dir.appending("pieced"), model: model)
        var reported: [Int] = []
        let writer = try pieced.writer(batch: 10, threads: 2) { reported.append($0) }
        var start = 0
        for size in [0, 3, 14, 1, 10, 9, 0, 10] {
            try writer.add(docs[start ..< start + size])
            start += size
        }
        #expect(start == 47)
        #expect(try writer.finish() == AddSummary(added: 47))
        #expect(reported == expected && expected == [10, 20, 30, 40, 47])
        #expect(try Self.stored(whole) == Self.stored(pieced))
        #expect { try writer.add(docs.prefix(1)) } throws: { "\($0)".contains("has finished") }
        #expect { try pieced.writer(batch: 0) } throws: { error in
            if case IndexError.invalidSetting = error { return true } else { return false }
        }

        let refused = try DocumentIndex.create(at: dir.appending("refused"), model: model)
        let second = try refused.writer(batch: 10)
        try second.add(docs[0 ..< 25])
        #expect { try second.add([docs[30], docs[3]]) } throws: { error in
            if case IndexError.duplicateID("d3") = error { return true } else { return false }
        }
        #expect { try second.add(docs[40 ..< 41]) } throws: { error in
            if case IndexError.duplicateID("d3") = error { return true } else { return false }
        }
        #expect { try second.finish() } throws: { error in
            if case IndexError.duplicateID("d3") = error { return true } else { return false }
        }
        #expect(try refused.count == 20)
        #expect(try refused.fields(for: ["d19", "d20", "d24", "d30"]).map { $0 != nil } == [true, false, false, false])
    }

    /// Content hashes are stored beside each document (re-indexing skips unchanged ones):
    /// their values never change.
    @Test func contentHashesAreFNV1aOfTheUTF8() {
        #expect(DocumentIndex.contentHash("") == "fnv1a64:cbf29ce484222325")
        #expect(DocumentIndex.contentHash("a") == "fnv1a64:af63dc4c8601ec8c")
        #expect(DocumentIndex.contentHash("foobar") == "fnv1a64:85944171f73967e8")
    }

    /// A pasted document (more distinct terms than `maxQueryTerms`) ranked by BM25 is
    /// shortlisted by Hamming distance: the same hits as with `asymmetric` off; a typed query
    /// keeps the asymmetric shortlist (its hits differ here from Hamming's).
    @Test func pastedDocumentsAreShortlistedByHammingDistance() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try DocumentIndex.create(at: dir.appending("idx"), model: randomModel(bits: 64, hidden: 32))
        let words = ["space", "shuttle", "orbit", "hockey", "goal", "church", "choir", "engine", "launch", "team",
                     "game", "sunday", "rocket", "fuel", "ice", "score", "hymn", "window", "driver", "disk"]
        var rng = SeededGenerator(seed: 9)
        try index.add((0..<400).map { i in
            Document(id: "d\(i)", text: (0..<12).map { _ in words[Int(rng.next() % UInt64(words.count))] + (rng.next() % 3 == 0 ? "\(i % 50)" : "") }.joined(separator: " "))
        })
        var ranking = RankingOptions(rescoring: .bm25, shortlist: 30)
        ranking.maxQueryTerms = 4
        ranking.feedback = .off
        var hamming = ranking
        hamming.asymmetric = false
        let pasted = "space shuttle orbit hockey goal church choir engine"
        let a = try index.search(texts: [pasted], k: 15, ranking: ranking)[0].hits
        let b = try index.search(texts: [pasted], k: 15, ranking: hamming)[0].hits
        #expect(a.map(\.id) == b.map(\.id) && a.map(\.bm25) == b.map(\.bm25))
        // The same text counted as typed (limit 25) gets different hits from the two shortlists,
        // so the equality above is the rule's doing, not the data's.
        var typedRanking = ranking, typedHamming = hamming
        typedRanking.maxQueryTerms = 25; typedHamming.maxQueryTerms = 25
        #expect(try index.search(texts: [pasted], k: 15, ranking: typedRanking)[0].hits.map(\.id)
                != index.search(texts: [pasted], k: 15, ranking: typedHamming)[0].hits.map(\.id))
        // Typed (at most 4 terms): asymmetric and Hamming shortlists differ for some query.
        let typed = ["space hockey", "church engine", "rocket fuel ice", "disk driver window", "game team", "hymn sunday"]
        let differ = try typed.contains { q in
            try index.search(texts: [q], k: 15, ranking: ranking)[0].hits.map(\.id) != index.search(texts: [q], k: 15, ranking: hamming)[0].hits.map(\.id)
        }
        #expect(differ, "no typed query told the asymmetric shortlist from Hamming's")
    }

    @Test func openingAnIndexWithoutAModelExplainsWhatItIs() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        try CodeIndex.create(at: dir.appending("codes"), bits: 64).add([IndexEntry(id: "a", code: try BinaryCode(zeroBits: 64))])
        #expect { try DocumentIndex.open(at: dir.appending("codes")) } throws: { "\($0)".contains("holds ready-made codes, not text documents") }
        #expect { try DocumentIndex.open(at: dir.appending("none"), readOnly: true) } throws: { "\($0)".contains("does not exist") }
    }

    /// With query bits, a typed query's Hamming pre-selection and distances count the query
    /// bits alone (the trained bits it does not weigh would add noise); a pasted document, and
    /// any query to a model without query bits, count every bit.
    @Test func aTypedQueryCountsTheQueryBitsAlone() throws {
        let texts = ["orbital mechanics of satellites and the shuttle's orbit", "the hockey team won the game in overtime",
                     "church services and the bible reading on sunday", "valgrind memcheck reports an invalid read in the parser",
                     "engine oil and the car's transmission", "the shuttle launch was delayed by the weather"]
        let analyzer = LexicalAnalyzer()
        let projection = LexicalProjection.fit(texts.map { analyzer.terms($0) }, config: ProjectionConfig(bits: 128, bucketBits: 10, seed: 3))
        let base = randomModel(bits: 64, hidden: 32)
        for model in [base.withProjection(projection, provenance: "test"), base] {
            let dir = try TemporaryDirectory(); defer { dir.remove() }
            let index = try DocumentIndex.open(at: dir.appending("idx"), model: model)
            try index.add(texts.enumerated().map { Document(id: "t\($0.offset)", text: $0.element) })
            let pasted = Array(repeating: texts.joined(separator: " "), count: 3).joined(separator: " ") + " " + (0..<30).map { "word\($0)" }.joined(separator: " ")
            for (query, typed) in [("shuttle orbit", true), (pasted, false)] {
                let q = model.encode(query)
                let counted = typed && model.projection != nil ? 64 ..< model.bits : 0 ..< model.bits
                for rescoring in [Rescoring.none, .bm25] {
                    var ranking = RankingOptions(rescoring: rescoring)
                    ranking.asymmetric = rescoring == .bm25
                    let hits = try index.search(texts: [query], k: 6, ranking: ranking)[0].hits
                    #expect(!hits.isEmpty)
                    for hit in hits {
                        let code = try #require(try index.code(for: hit.id))
                        let expected = counted.filter { code[bit: $0] != q[bit: $0] }.count
                        #expect(hit.distance == expected, "\(hit.id) typed \(typed) \(rescoring)")
                    }
                }
            }
        }
    }
}

/// Thread-safe collection of failure messages.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func add(_ m: String) { lock.lock(); messages.append(m); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return messages }
}

@Suite struct StoredFieldsTests {
    /// The three index types share create/open/add/count/info: create refuses an existing index,
    /// open finds it, add returns one summary type.
    @Test func everyIndexTypeHasTheSameShape() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = randomModel(bits: 64, hidden: 16)
        let docs = try DocumentIndex.create(at: dir.appending("docs"), model: model)
        let summary: AddSummary = try docs.add([Document(id: "a", text: "space orbit"), Document(id: "b", text: "god church")])
        let docCount = try docs.count, docInfo = try docs.info()
        #expect(summary == AddSummary(added: 2) && docCount == 2 && docInfo.count == 2)
        #expect(try docs.add([Document(id: "a", text: "space orbit")]) == AddSummary(unchanged: 1))
        #expect { try DocumentIndex.create(at: dir.appending("docs"), model: model) } throws: { error in
            guard case IndexError.alreadyExists = error else { return false }
            return true
        }
        #expect(try DocumentIndex.open(at: dir.appending("docs")).count == 2)
        // What export and prune read: every document with its code and fields, through the library.
        var seen: [String: StoredDocument] = [:]
        try docs.forEachDocument { seen[$0.id] = $0; return true }
        #expect(Set(seen.keys) == ["a", "b"] && seen["a"]?.fields["snippet"] == "space orbit")
        #expect(try seen["b"]?.code == docs.code(for: "b") && docs.code(for: "zz") == nil)
        #expect(try docs.fields(for: ["b", "zz"]).map { $0?["snippet"] } == ["god church", nil])

        let vectorModel = randomVectorModel(dimensions: 8, bits: 16)
        let vectors = try VectorIndex.create(at: dir.appending("vectors"), model: vectorModel, storage: .int8)
        let added: AddSummary = try vectors.add(clusteredVectors(count: 20, dimensions: 8))
        let vectorCount = try vectors.count, vectorInfo = try vectors.info()
        #expect(added == AddSummary(added: 20) && vectorCount == 20 && vectorInfo.bits == 16)
        var stored = 0
        try vectors.forEachVector { _, code, vector, _ in
            stored += (code.bits == 16 && vector?.count == 8) ? 1 : 0
            return true
        }
        #expect(stored == 20)
        #expect { try VectorIndex.create(at: dir.appending("vectors"), model: vectorModel) } throws: { error in
            guard case IndexError.alreadyExists = error else { return false }
            return true
        }

        let codes = try CodeIndex.create(at: dir.appending("codes"), bits: 64)
        let coded: AddSummary = try codes.add([IndexEntry(id: "c", code: try BinaryCode(bits: 64, words: [7]))])
        let codeCount = try codes.count, codeInfo = try codes.info()
        #expect(coded == AddSummary(added: 1) && codeCount == 1 && codeInfo.count == 1)
    }

    @Test func fieldsRoundTripThroughTheirJSON() throws {
        let fields = ["snippet": "quote \" backslash \\ tab\t newline\n \u{01} ünï 日本", "path": "/a/b c.txt", "empty": ""]
        let text = JSONText.object(fields)
        let back = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        #expect(back == fields)
        #expect(text.hasPrefix("{\"empty\":\"\",\"path\""))  // keys sorted
    }

    @Test func snippetsFoldWhiteSpaceAndStopAt300Characters() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try DocumentIndex.open(at: dir.appending("idx"), model: randomModel())
        let long = "  first\n\n second\tthird   " + String(repeating: "é", count: 1_000)
        try index.add([Document(id: "a", text: long)])
        let snippet = try #require(try index.search(like: "a", k: 1).first?.fields["snippet"])
        #expect(snippet.hasPrefix("first second third ééé"))
        #expect(snippet.count == 300)
        // Every kind of white space folds to one space: ASCII's (tab, line feed, vertical tab, form
        // feed, carriage return, space) by the fast path, the others (next line, no-break space,
        // line separator) by Unicode's property; other control characters stay.
        let other = try DocumentIndex.open(at: dir.appending("idx2"), model: randomModel())
        try other.add([Document(id: "b", text: "a\u{09}b\u{0A}c\u{0B}d\u{0C}e\u{0D}f g\u{85}h\u{A0}i\u{2028}j\u{01}k")])
        let folded = try #require(try other.search(like: "b", k: 1).first?.fields["snippet"])
        #expect(folded == "a b c d e f g h i j\u{01}k", "\(folded.unicodeScalars.map(\.value))")
    }

    /// The byte-by-byte path for ASCII gives what the scalar loop gives: white space at the
    /// 300th character, NULs, texts that turn non-ASCII before, at and after that point.
    @Test func asciiSnippetsEqualTheScalarLoop() {
        let base = (0..<120).map { "w\($0)" }.joined(separator: " \t\n ")
        var texts = ["", " ", "\0\0", "a\0b", "  lead and trail  ", String(repeating: "x", count: 300) + " y",
                     String(repeating: "x", count: 299) + "  \n y z", String(repeating: "x", count: 300) + "\u{A0}y", base]
        for cut in [0, 1, 150, 299, 300, 301, 400, base.utf8.count - 1] {
            let prefix = String(decoding: Array(base.utf8.prefix(cut)), as: UTF8.self)
            texts += [prefix + "é rest", prefix + "\u{2028}more", prefix + " \u{85} after"]
        }
        for text in texts {
            #expect(DocumentIndex.snippet(text) == DocumentIndex.scalarSnippet(text), "\(text.prefix(40))")
        }
        // It stops at 300 characters, never with a space that only a 301st would have followed.
        #expect(DocumentIndex.snippet(String(repeating: "x", count: 300) + " y") == String(repeating: "x", count: 300))
        #expect(DocumentIndex.snippet(String(repeating: "x", count: 299) + " y z") == String(repeating: "x", count: 299))
        #expect(DocumentIndex.snippet(String(repeating: "x", count: 298) + " y z") == String(repeating: "x", count: 298) + " y")
    }
}
