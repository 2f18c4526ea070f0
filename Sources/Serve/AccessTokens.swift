import Foundation

/// Bearer tokens and what each may do: read (list, info, get, search, metrics) or write (also
/// create, add, remove, delete), on every index or on the named ones.
///
/// The format, one token per line (from a file given with `--tokens`, or the variable
/// `TWENTYQ_TOKENS` with lines separated by newlines or `;`):
///
///     TOKEN read|write [INDEX,INDEX,...]
///
/// Blank lines and lines starting with `#` are skipped. A token is at least 16 characters of
/// letters, digits, `-`, `_`, `.` or `~` (e.g. `openssl rand -hex 24`).
package struct AccessTokens: Sendable {
    package struct Grant: Sendable, Equatable {
        package var write: Bool
        /// The indexes it covers; nil: all.
        package var indexes: Set<String>?
    }

    package private(set) var grants: [String: Grant] = [:]

    /// - Throws: `ServeError.startup` naming the line and what is wrong with it.
    package init(parsing text: String, source: String) throws {
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == ";" })
        for (n, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")
            guard parts.count == 2 || parts.count == 3 else {
                throw ServeError.startup("\(source), entry \(n + 1): expected 'TOKEN read|write [INDEX,...]'")
            }
            let token = String(parts[0])
            guard token.count >= 16, token.unicodeScalars.allSatisfy(allowed.contains) else {
                throw ServeError.startup("\(source), entry \(n + 1): a token must be at least 16 characters of letters, digits, '-', '_', '.' or '~' (e.g. `openssl rand -hex 24`)")
            }
            guard parts[1] == "read" || parts[1] == "write" else {
                throw ServeError.startup("\(source), entry \(n + 1): the access must be 'read' or 'write', not '\(parts[1])'")
            }
            guard grants[token] == nil else { throw ServeError.startup("\(source), entry \(n + 1): the token is given twice") }
            let indexes = parts.count == 3 ? Set(parts[2].split(separator: ",").map(String.init)) : nil
            grants[token] = Grant(write: parts[1] == "write", indexes: indexes)
        }
        guard !grants.isEmpty else { throw ServeError.startup("\(source) holds no token") }
    }

    /// What a request with `authorization` (the header's value) may do on `index` (nil: no
    /// particular index): nil when the token is missing or unknown.
    package func grant(authorization: String?) -> Grant? {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
        return grants[String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)]
    }
}
