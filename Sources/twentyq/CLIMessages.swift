import CodeStore
import Encoder

/// The CLI's words for the library's errors. The library says what is wrong and names its own
/// calls (`CodeIndex.repair(at:)`); here the advice names the commands and flags that do the
/// same, so a user of the shell is never told about a Swift method, and an app's user never
/// about a flag.
enum CLIMessages {
    /// "1 document", "2 documents": `n` and the noun, plural but for one.
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// "No document with id X", with the stored ids that look meant (`isSimilar`).
    static func unknownID(_ id: String, in store: CodeIndex) throws -> CommandFailure {
        var similar: [String] = []
        try store.forEachRecord { stored, _, _ in
            if isSimilar(stored, to: id) { similar.append(stored) }
            return true
        }
        similar.sort()
        let named = similar.prefix(3).map { "'\($0)'" }.joined(separator: ", ")
        return CommandFailure("no document with id '\(id)' in the index"
                              + (similar.isEmpty ? "" : "; ids are the names files were indexed by (the paths given, or a folder's files relative to the folder): did you mean \(named)\(similar.count > 3 ? " (\(similar.count) such ids)" : "")?"))
    }

    /// A stored id that `id` may have meant: the same but for case, the same file name after
    /// the last "/", or ending in "/" + id.
    static func isSimilar(_ stored: String, to id: String) -> Bool {
        guard stored != id, !id.isEmpty else { return false }
        let name = id.split(separator: "/").last.map(String.init) ?? id
        return stored.lowercased() == id.lowercased() || stored.hasSuffix("/" + id)
            || (stored.split(separator: "/").last.map(String.init) ?? stored) == name
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case IndexError.noIndex(let path):
            return "no index at \(path): the directory does not exist (create one with `twentyq index --db \(path) FILE...`, or pass the --db of an existing index)"
        case IndexError.corrupt(let path, let detail):
            return "the index at \(path) is damaged (\(detail)): restore it from a backup (`twentyq backup` makes them) or run `twentyq check --repair --db \(path)`, which keeps every document it can still read"
        case IndexError.damagedTables(let path, let detail):
            return "the multi-index tables of the index at \(path) are damaged (\(detail)); the codes are intact: `twentyq tables --enable --db \(path)` rebuilds the tables, and `twentyq search --method scan` searches without them"
        case IndexError.damagedModel(let path, let detail):
            return "the model stored in the index at \(path) is damaged (\(detail)): restore the index from a backup, or index the documents again into a new index (`twentyq export --db \(path)` keeps what the index still holds)"
        case IndexError.inUse(let path, let operation):
            return "cannot \(operation) at \(path) while it is open elsewhere (a search, an index run, a server, or another index object in this process): stop those and run again; `twentyq backup` copies an index that is in use"
        case IndexError.unsupportedFormat(let path, let found, let supported):
            return "the index at \(path) has format version \(found), this twentyq reads up to \(supported): upgrade twentyq"
        case IndexError.kindMismatch(let path, .vectors, _):
            return "the index at \(path) holds vectors, not text documents; search it with --vector or --queries-vectors, add to it with --vectors"
        case IndexError.kindMismatch(let path, .documents, _):
            return "the index at \(path) holds text documents, not vectors; search it with a query text or --queries"
        case IndexError.kindMismatch(let path, .codes, _):
            return "\(path) holds ready-made codes but no text model (made by `index --codes` or `bench index`): search it with `twentyq search --code HEX` or `--like ID`"
        case IndexError.modelRequired(let path, _):
            return "there is no index at \(path) yet, and a new vector index needs a vector model: pass --model (train one with `twentyq train --vectors`)"
        case IndexError.noStoredVectors(let path):
            return "the index at \(path) stores codes only, so it cannot rescore; search with --rescore none, or index again with --store-vectors int8|float16|float32"
        case ModelFileError.notAModel(let path):
            return "\(path) is not a TwentyQ model (wrong magic number); pass a file made by `twentyq train`"
        case ModelFileError.futureVersion(let path, let found, let supported):
            return "\(path) is a version \(found) model; this twentyq reads up to version \(supported): upgrade twentyq"
        case ModelFileError.wrongKind(let path, let found, let expected):
            return found == "vectors"
                ? "\(path) is a vector model (float vectors to codes), not a \(expected) model; use it with --vectors"
                : "\(path) is a \(found) model, not a \(expected) model; train one with `twentyq train --vectors`"
        default:
            return "\(error)"
        }
    }
}

/// A library error in the CLI's words (`CLIMessages`): exit status 1, like any failure.
struct CLIError: Error, CustomStringConvertible {
    let description: String
}
