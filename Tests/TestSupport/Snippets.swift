import Foundation

/// Code blocks of the docs (README, DocC articles, docs/) and the test functions that run
/// them: a doc quotes a test's function body verbatim, so the docs cannot drift from code
/// that works.
public enum Snippets {
    /// The package's root directory.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The lines of the first ```swift (or `language`) block after `marker` in `file`
    /// (relative to the root), trimmed, without blank and `import` lines; nil when there is no
    /// such block.
    public static func docLines(_ file: String, after marker: String, language: String = "swift") throws -> [String]? {
        guard let block = try docBlock(file, after: marker, language: language) else { return nil }
        return significant(block).filter { !$0.hasPrefix("import ") }
    }

    /// The text of the first ```language block after `marker` in `file`, as it is.
    public static func docBlock(_ file: String, after marker: String, language: String) throws -> String? {
        let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
        return text.components(separatedBy: marker).dropFirst().first?
            .components(separatedBy: "```\(language)\n").dropFirst().first?.components(separatedBy: "```").first
    }

    /// The lines of a function body in `sourceFile` (a test's `#filePath`): from the line after
    /// `opening` to the first of `end`, trimmed, without blank lines; nil when `opening` is absent.
    public static func bodyLines(_ sourceFile: String, opening: String, end: String = "\n    }\n") throws -> [String]? {
        let source = try String(contentsOf: URL(fileURLWithPath: sourceFile), encoding: .utf8)
        guard let body = source.components(separatedBy: opening + "\n").dropFirst().first else { return nil }
        return significant(body.components(separatedBy: end)[0])
    }

    static func significant(_ text: some StringProtocol) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
