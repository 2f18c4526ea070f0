import ArgumentParser
import BinaryCodes
import CodeStore
import Foundation
import TwentyQ

/// `twentyq export`: every document of an index, in our JSONL or in a form another engine
/// loads (docs/SCALE.md): Milvus's row-based JSON import, Elasticsearch's `_bulk` NDJSON, or
/// a SQL script for PostgreSQL (`bit(n)`, with pgvector's HNSW index when the extension is
/// there).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every document as JSONL: id, code (hex, bit 0 last), stored fields (and, with --vectors, stored vectors).",
        discussion: """
        --format milvus: {"rows": [{"id", "code": [bytes], "fields"}]} for Milvus's bulk import \
        (BINARY_VECTOR of dim = bits rounded up to a multiple of 8). --format elasticsearch: \
        NDJSON for the _bulk API, "code" as the hex of the packed bytes (dense_vector, \
        element_type bit); the mapping to create first is printed on standard error. \
        --format pgvector: a psql script that creates the table (id text primary key, code \
        bit(n), fields jsonb), loads it with COPY, and builds an HNSW index with \
        bit_hamming_ops when the vector extension can be created. Packed bytes hold bit i of \
        the code in bit 7 - i % 8 of byte i / 8 (NumPy's packbits order), zero-padded.
        """
    )

    enum Format: String, CaseIterable, ExpressibleByArgument {
        case jsonl, milvus, elasticsearch, pgvector
    }

    @OptionGroup var index: DocumentIndexOptions
    @Option(help: "Output format: jsonl (ours), milvus, elasticsearch or pgvector.") var format: Format = .jsonl
    @Option(help: ArgumentHelp("The Elasticsearch index or PostgreSQL table to write into (letters, digits and _, starting with a letter or _; default: the index directory's name when it is one, else twentyq).", valueName: "name")) var name: String?
    @Flag(name: .customLong("vectors"), help: "For a vector index that stores vectors: include each vector (as stored; --format jsonl only).") var includeVectors = false

    func validate() throws {
        if includeVectors && format != .jsonl { throw ValidationError("--vectors goes with --format jsonl (the other formats carry codes and fields)") }
        if let name, !Self.isPlainName(name) {
            throw ValidationError("--name '\(name)' is not a plain name: use 1 to 63 letters, digits and _, starting with a letter or _")
        }
    }

    /// 1 to 63 ASCII letters, digits and _, not starting with a digit: a name that needs no
    /// quoting in SQL and is a valid Elasticsearch index name once lower-cased.
    static func isPlainName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[0]) else { return false }
        return bytes.allSatisfy { $0 == UInt8(ascii: "_") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }

    func run() throws {
        let store = try CodeIndex.open(at: index.db, readOnly: true)
        // A vector index keeps its stored vector before the metadata (see VectorIndex); it is
        // read through the store already open (LMDB: one environment per file per process).
        let vectorIndex = try store.blob(VectorIndex.settingsKey) != nil ? try VectorIndex.open(existing: store) : nil
        if includeVectors && vectorIndex?.settings.storage == nil {
            throw ValidationError("--vectors: the index at \(index.db) stores no vectors")
        }
        let base = URL(fileURLWithPath: index.db).standardizedFileURL.lastPathComponent
        let target = name ?? (Self.isPlainName(base) ? base : "twentyq")
        var out = ExportWriter(format: format, name: format == .elasticsearch ? target.lowercased() : target, bits: store.bits)
        out.begin(count: try store.count, source: index.db, model: store.modelFingerprint)
        func emit(_ id: String, _ code: BinaryCode, _ metadata: [UInt8], vector: [Float]? = nil) throws -> Bool {
            let fields = (try? JSONSerialization.jsonObject(with: Data(metadata)) as? [String: Any]) ?? [:]
            try out.row(id: id, code: code, fields: fields, vector: vector)
            return true
        }
        if let vectorIndex {
            try vectorIndex.forEachVector { id, code, vector, metadata in try emit(id, code, metadata, vector: includeVectors ? vector : nil) }
        } else {
            try store.forEachRecord { id, metadata, code in try emit(id, code, metadata) }
        }
        out.end()
    }
}

/// Writes the rows of one export to standard output in its format, a megabyte at a time.
struct ExportWriter {
    let format: ExportCommand.Format
    let name: String
    let bits: Int
    private var buffer = ""
    private var rows = 0

    init(format: ExportCommand.Format, name: String, bits: Int) {
        self.format = format
        self.name = name
        self.bits = bits
    }

    /// Bits rounded up to whole bytes: the dimension Milvus and Elasticsearch are given.
    var packedBits: Int { (bits + 7) / 8 * 8 }

    mutating func begin(count: Int, source: String, model: String) {
        switch format {
        case .jsonl: break
        case .milvus: buffer += "{\"rows\": [\n"
        case .elasticsearch:
            FileHandle.standardError.write(Data("""
            create the index first: PUT /\(name) {"mappings": {"properties": {"code": {"type": "dense_vector", "element_type": "bit", "dims": \(packedBits), "index": true, "similarity": "l2_norm"}, "fields": {"type": "object", "dynamic": true}}}}

            """.utf8))
        case .pgvector:
            buffer += """
            -- TwentyQ export: \(count) codes of \(bits) bits from \(source.replacingOccurrences(of: "\n", with: " ")) (model \(model.isEmpty ? "none" : model)).
            -- Load with: psql -v ON_ERROR_STOP=1 -f FILE. Bit i of a code is character i of its bit string.
            \\set ON_ERROR_STOP on
            BEGIN;
            CREATE TABLE \(name) (id text PRIMARY KEY, code bit(\(bits)) NOT NULL, fields jsonb NOT NULL DEFAULT '{}');
            COPY \(name) (id, code, fields) FROM stdin;

            """
        }
    }

    mutating func row(id: String, code: BinaryCode, fields: [String: Any], vector: [Float]?) throws {
        switch format {
        case .jsonl:
            var object: [String: Any] = ["id": id, "code": code.hex, "metadata": fields]
            if let vector { object["vector"] = vector.map(Double.init) }
            buffer += try jsonLine(object) + "\n"
        case .milvus:
            buffer += (rows > 0 ? ",\n" : "") + (try jsonLine(["id": id, "code": code.packedBytes.map(Int.init), "fields": fields]))
        case .elasticsearch:
            buffer += try jsonLine(["index": ["_index": name, "_id": id]]) + "\n"
            buffer += try jsonLine(["code": code.packedBytes.map { String(format: "%02x", $0) }.joined(), "fields": fields]) + "\n"
        case .pgvector:
            buffer += Self.copyText(id) + "\t" + code.bitString + "\t" + Self.copyText(try jsonLine(fields)) + "\n"
        }
        rows += 1
        if buffer.utf8.count > 1 << 20 { flush() }
    }

    mutating func end() {
        switch format {
        case .jsonl, .elasticsearch: break
        case .milvus: buffer += "\n]}\n"
        case .pgvector:
            buffer += """
            \\.
            COMMIT;
            -- With pgvector (0.7 or newer) an approximate HNSW index for `ORDER BY code <~> B'...'`;
            -- without it, exact search is `ORDER BY bit_count(code # B'...'), id`.
            SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS has_pgvector \\gset
            \\if :has_pgvector
            CREATE EXTENSION IF NOT EXISTS vector;
            CREATE INDEX ON \(name) USING hnsw (code bit_hamming_ops);
            \\endif

            """
        }
        flush()
    }

    private mutating func flush() {
        FileHandle.standardOutput.write(Data(buffer.utf8))
        buffer = ""
    }

    /// A value in COPY's text format: backslash, tab, newline and carriage return escaped.
    static func copyText(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
