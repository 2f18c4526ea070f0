import BinaryCodes
import CodeStore
import Foundation
import PostgresNIO

// Adding, removing and searching codes in SQL.
extension PostgresCodeIndex {
    /// Adds or replaces `entries` in one transaction (all or none). An entry whose code and
    /// fields equal the stored ones is left unchanged.
    /// - Throws: `IndexError.duplicateID`, `.invalidID`, `.widthMismatch`, `.invalidSetting` for
    ///   metadata that is not a JSON object; nothing is written then.
    @discardableResult
    public func add(_ entries: [IndexEntry]) async throws -> AddSummary {
        if keepsVectors { throw IndexError.invalidSetting("\(path) is a vector index: add its items with their vectors (addVectors, or PostgresVectorIndex)") }
        let (ids, codes, fields) = try checkedRows(entries)
        if entries.isEmpty { return AddSummary() }
        if keepsTerms { return try await addWithTerms(entries, ids: ids, codes: codes, fields: fields) }
        if let entry = entries.first(where: { $0.terms != nil }) {
            throw IndexError.invalidSetting("'\(entry.id)' comes with terms, but \(path) keeps codes only (layout 1): index text documents into an index created for them (`twentyq index DOCS --db postgres://...#NEW_NAME`)")
        }
        return try await run {
            try await withTransaction { c in
                let rows = try await c.query("""
                    INSERT INTO \(unescaped: table) (id, code, fields)
                    SELECT u.id, u.code::bit(\(unescaped: String(bits))), NULLIF(u.fields, '')::jsonb
                    FROM unnest(\(ids)::text[], \(codes)::text[], \(fields)::text[]) AS u(id, code, fields)
                    ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code, fields = EXCLUDED.fields
                    WHERE \(unescaped: table).code IS DISTINCT FROM EXCLUDED.code OR \(unescaped: table).fields IS DISTINCT FROM EXCLUDED.fields
                    RETURNING (xmax = 0)
                    """, logger: logger)
                return try await Self.summary(rows, of: entries.count)
            }
        }
    }

    /// What an upsert did, from its `RETURNING (xmax = 0)` rows (true: inserted, false:
    /// updated); the `total` entries it was given that returned no row were left unchanged.
    static func summary(_ rows: PostgresRowSequence, of total: Int) async throws -> AddSummary {
        var summary = AddSummary()
        for try await (inserted,) in rows.decode((Bool,).self) {
            if inserted { summary.added += 1 } else { summary.replaced += 1 }
        }
        summary.unchanged = total - summary.added - summary.replaced
        return summary
    }

    /// Each entry's id, code (bit string) and fields (JSON text, empty for none), checked: ids
    /// valid, unique and free of U+0000, codes of the index's width, metadata a JSON object.
    func checkedRows(_ entries: [IndexEntry]) throws -> (ids: [String], codes: [String], fields: [String]) {
        var seen = Set<String>()
        var ids: [String] = [], codes: [String] = [], fields: [String] = []
        for entry in entries {
            try CodeIndex.validateID(entry.id)
            if entry.id.unicodeScalars.contains("\u{0}") {
                throw IndexError.invalidID(entry.id, reason: "it holds the character U+0000, which PostgreSQL cannot store in text")
            }
            guard seen.insert(entry.id).inserted else { throw IndexError.duplicateID(entry.id) }
            guard entry.code.bits == bits else { throw IndexError.widthMismatch(path: path, indexBits: bits, codeBits: entry.code.bits) }
            ids.append(entry.id)
            codes.append(entry.code.bitString)
            if entry.metadata.isEmpty {
                fields.append("")
            } else {
                guard entry.metadata.first == UInt8(ascii: "{"),
                      let object = (try? JSONSerialization.jsonObject(with: Data(entry.metadata))) as? [String: Any] else {
                    throw IndexError.invalidSetting("the metadata of '\(entry.id)' is not a JSON object; a PostgreSQL index keeps metadata as jsonb")
                }
                if let field = Self.fieldHoldingNUL(object) {
                    throw IndexError.invalidSetting("field '\(field)' of '\(entry.id)' holds the character U+0000, which PostgreSQL cannot store in text or jsonb: remove it from the field (an index directory keeps it)")
                }
                fields.append(String(decoding: entry.metadata, as: UTF8.self))
            }
        }
        return (ids, codes, fields)
    }

    /// `add` for an index of text documents: terms and hashes written with the codes, and the
    /// document frequencies and statistics changed by what each added or replaced row gains and
    /// loses, all in the one transaction.
    private func addWithTerms(_ entries: [IndexEntry], ids: [String], codes: [String], fields: [String]) async throws -> AddSummary {
        let records = entries.map { $0.terms?.storedForm }
        let hex = records.map { $0.map { Self.hex($0) } ?? "" }
        let hashes = entries.map { e in e.terms.map { "{" + $0.hashes.map { String($0) }.joined(separator: ",") + "}" } ?? "" }
        let byID = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0) })
        return try await run {
            try await withTransaction { c in
                try await lockForTermWrites(c)
                let old = try await termRecords(c, ids: ids)
                let rows = try await c.query("""
                    INSERT INTO \(unescaped: table) (id, code, fields, terms, hashes)
                    SELECT u.id, u.code::bit(\(unescaped: String(bits))), NULLIF(u.fields, '')::jsonb,
                           decode(NULLIF(u.terms, ''), 'hex'), NULLIF(u.hashes, '')::bigint[]
                    FROM unnest(\(ids)::text[], \(codes)::text[], \(fields)::text[], \(hex)::text[], \(hashes)::text[]) AS u(id, code, fields, terms, hashes)
                    ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code, fields = EXCLUDED.fields, terms = EXCLUDED.terms, hashes = EXCLUDED.hashes
                    WHERE \(unescaped: table).code IS DISTINCT FROM EXCLUDED.code OR \(unescaped: table).fields IS DISTINCT FROM EXCLUDED.fields
                       OR \(unescaped: table).terms IS DISTINCT FROM EXCLUDED.terms
                    RETURNING id, (xmax = 0)
                    """, logger: logger)
                var summary = AddSummary()
                var frequencies: [UInt64: Int] = [:]
                var documents = 0, length = 0
                for try await (id, inserted) in rows.decode((String, Bool).self) {
                    if inserted { summary.added += 1 } else { summary.replaced += 1 }
                    if let before = old[id].flatMap(Self.decodeTerms) {
                        for h in before.hashes { frequencies[h, default: 0] -= 1 }
                        documents -= 1; length -= before.length
                    }
                    if let after = byID[id]?.terms {
                        for h in after.hashes { frequencies[h, default: 0] += 1 }
                        documents += 1; length += after.length
                    }
                }
                summary.unchanged = entries.count - summary.added - summary.replaced
                try await applyTermChanges(c, frequencies: frequencies, documents: documents, length: length)
                return summary
            }
        }
    }

    /// The name of the first field (at any depth) whose name or text holds U+0000, or nil.
    static func fieldHoldingNUL(_ value: Any, name: String = "") -> String? {
        switch value {
        case let text as String: return text.unicodeScalars.contains("\u{0}") ? name : nil
        case let object as [String: Any]:
            for (key, inner) in object.sorted(by: { $0.key < $1.key }) {
                if key.unicodeScalars.contains("\u{0}") { return key }
                if let found = fieldHoldingNUL(inner, name: name.isEmpty ? key : name + "." + key) { return found }
            }
            return nil
        case let array as [Any]:
            return array.lazy.compactMap { fieldHoldingNUL($0, name: name) }.first
        default: return nil
        }
    }

    /// Lowercase hex of `bytes` (how a term record travels in the batch statement).
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 2 * bytes.count)
        for (i, b) in bytes.enumerated() { out[2 * i] = digits[Int(b >> 4)]; out[2 * i + 1] = digits[Int(b & 15)] }
        return String(decoding: out, as: UTF8.self)
    }

    /// Removes `ids` in one transaction: all of them, or none when one is unknown.
    /// - Throws: `IndexError.unknownID` naming an id that is not there.
    @discardableResult
    public func remove(ids: [String]) async throws -> Int {
        var unique: [String] = []
        var seen = Set<String>()
        for id in ids where seen.insert(id).inserted { unique.append(id) }
        if unique.isEmpty { return 0 }
        return try await run {
            try await withTransaction { c in
                var removed = Set<String>()
                if keepsTerms {
                    // The removed documents' terms leave the document frequencies and statistics.
                    try await lockForTermWrites(c)
                    var frequencies: [UInt64: Int] = [:]
                    var documents = 0, length = 0
                    let rows = try await c.query("DELETE FROM \(unescaped: table) WHERE id = ANY(\(unique)::text[]) RETURNING id, terms", logger: logger)
                    for try await (id, buffer) in rows.decode((String, ByteBuffer?).self) {
                        removed.insert(id)
                        guard let buffer, let before = Self.decodeTerms(buffer.getBytes(at: 0, length: buffer.readableBytes) ?? []) else { continue }
                        for h in before.hashes { frequencies[h, default: 0] -= 1 }
                        documents -= 1; length -= before.length
                    }
                    if let missing = unique.first(where: { !removed.contains($0) }) { throw IndexError.unknownID(missing) }
                    try await applyTermChanges(c, frequencies: frequencies, documents: documents, length: length)
                    return removed.count
                }
                for try await (id,) in try await c.query("DELETE FROM \(unescaped: table) WHERE id = ANY(\(unique)::text[]) RETURNING id", logger: logger).decode((String,).self) {
                    removed.insert(id)
                }
                if let missing = unique.first(where: { !removed.contains($0) }) { throw IndexError.unknownID(missing) }
                return removed.count
            }
        }
    }

    /// The stored code of `id`, or nil.
    public func code(for id: String) async throws -> BinaryCode? {
        try await run {
            try await withConnection { connection in
                var found: BinaryCode?
                for try await (text,) in try await connection.query("SELECT code::text FROM \(unescaped: table) WHERE id = \(id)", logger: logger).decode((String,).self) {
                    found = try BinaryCode(bitString: text)
                }
                return found
            }
        }
    }

    /// The stored code and metadata (fields as JSON text; empty when none) of `id`, or nil.
    public func entry(for id: String) async throws -> IndexEntry? {
        try await run {
            try await withConnection { connection in
                var found: IndexEntry?
                let rows = try await connection.query("SELECT code::text, COALESCE(fields::text, '') FROM \(unescaped: table) WHERE id = \(id)", logger: logger)
                for try await (text, fields) in rows.decode((String, String).self) {
                    found = IndexEntry(id: id, code: try BinaryCode(bitString: text), metadata: Array(fields.utf8))
                }
                return found
            }
        }
    }

    /// The `k` nearest items to each query by exact Hamming distance, ascending by (distance,
    /// id): one `ORDER BY bit_count(code # query), id LIMIT k` per query, which PostgreSQL runs
    /// as a (parallel) sequential scan.
    /// - Throws: `CodeError.invalidK`, `IndexError.widthMismatch`.
    public func nearest(to queries: CodeMatrix, k: Int, fields: Bool = true) async throws -> [[SearchHit]] {
        try HammingSearch.check(k: k)
        guard queries.bits == bits else { throw IndexError.widthMismatch(path: path, indexBits: bits, codeBits: queries.bits) }
        var out: [[SearchHit]] = []
        for q in 0..<queries.count {
            let query = queries[q].bitString
            out.append(try await hits(fields: fields) { try await $0.query("""
                SELECT id, bit_count(code # \(query)::bit(\(unescaped: String(self.bits))))::bigint AS d, COALESCE(fields::text, '')
                FROM \(unescaped: self.table) ORDER BY d, id LIMIT \(k)
                """, logger: self.logger) })
        }
        return out
    }

    /// Every item within Hamming distance `radius` of `query`, ascending by (distance, id).
    /// - Throws: `CodeError.invalidRadius`, `IndexError.widthMismatch`.
    public func within(radius: Int, of query: BinaryCode, fields: Bool = true) async throws -> [SearchHit] {
        guard query.bits == bits else { throw IndexError.widthMismatch(path: path, indexBits: bits, codeBits: query.bits) }
        try HammingSearch.check(radius: radius, bits: bits)
        return try await hits(fields: fields) { try await $0.query("""
            SELECT id, d, COALESCE(fields, '') FROM (
                SELECT id, bit_count(code # \(query.bitString)::bit(\(unescaped: String(self.bits))))::bigint AS d, fields::text AS fields
                FROM \(unescaped: self.table)) AS t
            WHERE d <= \(radius) ORDER BY d, id
            """, logger: self.logger) }
    }

    /// Up to `limit` items in id order after `id` (nil: from the first), each with its code,
    /// metadata (the stored fields as JSON text; empty when none) and, in an index of text
    /// documents, its terms: the pages `twentyq copy` reads. Keyset paging in the primary key's order, so each page is one index range scan.
    public func entries(after id: String?, limit: Int) async throws -> [IndexEntry] {
        guard limit >= 1 else { throw IndexError.invalidSetting("a page of entries needs a limit of at least 1 (got \(limit))") }
        return try await run {
            try await withConnection { connection in
                let rows = try await connection.query("""
                    SELECT id, code::text, COALESCE(fields::text, ''), \(unescaped: keepsTerms ? "terms" : "NULL::bytea") FROM \(unescaped: table)
                    WHERE \(id)::text IS NULL OR id > \(id) ORDER BY id LIMIT \(limit)
                    """, logger: logger)
                var out: [IndexEntry] = []
                for try await (id, code, fields, terms) in rows.decode((String, String, String, ByteBuffer?).self) {
                    let record = terms.map { $0.getBytes(at: 0, length: $0.readableBytes) ?? [] }
                    out.append(IndexEntry(id: id, code: try BinaryCode(bitString: code), metadata: Array(fields.utf8),
                                          terms: try record.map { bytes in
                                              guard let counts = Self.decodeTerms(bytes) else {
                                                  throw IndexError.corrupt(path: path, detail: "the term record of '\(id)' is malformed")
                                              }
                                              return counts
                                          }))
                }
                return out
            }
        }
    }

    /// The rows `tail` selects, each with its distance to `query` and its code: `tail` is a
    /// WHERE clause over the table's columns, or an ORDER BY over them and `d` with a LIMIT, in
    /// SQL built from numbers and literals only. The rows are chosen (sorted and cut) on the
    /// narrow (id, code, d) and only those are turned into text: sorting wide rows made
    /// PostgreSQL spill the whole table's sort to disk (160 ms against 83 ms for 4,000 of 190,284).
    /// Rows through the graph come in its relaxed order.
    /// With `counted` (words of the code, `RankedQuery.countedWords`), `d` is the distance over
    /// those bits alone: `substring` of both bit strings.
    func codeRows(_ c: PostgresConnection, query: BinaryCode, counted: Range<Int>? = nil,
                  sql tail: String) async throws -> [(id: String, distance: Int, code: BinaryCode)] {
        let first = (counted?.lowerBound ?? 0) * 64, end = min(bits, (counted?.upperBound ?? Int.max / 64) * 64)
        let part = String(query.bitString.utf8.dropFirst(first).prefix(end - first))!
        let column = counted == nil ? "code" : "substring(code from \(first + 1) for \(end - first))"
        let statement: PostgresQuery = """
            SELECT id, code::text, d FROM (SELECT id, code, bit_count(\(unescaped: column) # \(part)::bit(\(unescaped: String(end - first))))::bigint AS d
                   FROM \(unescaped: table) \(unescaped: tail)) AS t
            """
        var out: [(id: String, distance: Int, code: BinaryCode)] = []
        for try await (id, text, d) in try await c.query(statement, logger: logger).decode((String, String, Int).self) {
            out.append((id, d, try BinaryCode(bitString: text)))
        }
        return out
    }

    /// The `codeRows` clause of the `depth` codes nearest to `query`: exact, ties by id in byte
    /// order, or through the graph (the caller has set it up: `setGraphSearch`), in their order.
    func nearest(_ query: BinaryCode, depth: Int, graph: Bool) -> String {
        graph ? "ORDER BY code <~> B'\(query.bitString)'::bit(\(bits)) LIMIT \(depth)" : "ORDER BY d, id COLLATE \"C\" LIMIT \(depth)"
    }

    /// The stored fields of `ids` (those that have any).
    func fieldsOf(_ c: PostgresConnection, ids: [String]) async throws -> [String: [String: String]] {
        guard !ids.isEmpty else { return [:] }
        var out: [String: [String: String]] = [:]
        let rows = try await c.query("SELECT id, COALESCE(fields::text, '') FROM \(unescaped: table) WHERE id = ANY(\(ids)::text[])", logger: logger)
        for try await (id, json) in rows.decode((String, String).self) { out[id] = SearchHit.fields(json: Array(json.utf8)) }
        return out
    }

    /// The bytes in `column` (a bytea column of the index's table) of those of `ids` that have some.
    func bytes(of column: String, ids: [String], _ c: PostgresConnection) async throws -> [String: [UInt8]] {
        guard !ids.isEmpty else { return [:] }
        var out: [String: [UInt8]] = [:]
        let rows = try await c.query("SELECT id, \(unescaped: column) FROM \(unescaped: table) WHERE id = ANY(\(ids)::text[]) AND \(unescaped: column) IS NOT NULL",
                                     logger: logger)
        for try await (id, buffer) in rows.decode((String, ByteBuffer).self) { out[id] = buffer.getBytes(at: 0, length: buffer.readableBytes) ?? [] }
        return out
    }

    /// Runs `query` on a connection and reads its (id, distance, fields JSON) rows as hits.
    func hits(fields: Bool, _ query: (PostgresConnection) async throws -> PostgresRowSequence) async throws -> [SearchHit] {
        try await run {
            try await withConnection { connection in try await Self.hits(try await query(connection), fields: fields) }
        }
    }

    /// (id, distance, fields JSON) rows as hits, in the order they come.
    static func hits(_ rows: PostgresRowSequence, fields: Bool) async throws -> [SearchHit] {
        var out: [SearchHit] = []
        for try await (id, distance, json) in rows.decode((String, Int, String).self) {
            out.append(SearchHit(id: id, distance: distance, fields: fields ? SearchHit.fields(json: Array(json.utf8)) : [:]))
        }
        return out
    }
}
