import Foundation
import TestSupport
import Testing

/// An app of its own: a new package that depends on this repository by path exactly as the
/// README says, whose main.swift is the README's and the DocC article's code blocks copied
/// verbatim (read from the files at test time). It is built with `swift build` and run without
/// TWENTYQ_DEFAULT_MODEL: the shipped model must be found and the printed results must be the
/// ones the snippets' comments promise.
@Suite struct ExternalPackageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The code block after `marker` in `file`, without its `import TwentyQ` line.
    static func block(_ file: String, after marker: String) throws -> String {
        let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
        let code = try #require(text.components(separatedBy: marker).dropFirst().first?
            .components(separatedBy: "```swift\n").dropFirst().first?.components(separatedBy: "```").first, "\(file)")
        return code.split(separator: "\n", omittingEmptySubsequences: false).filter { $0 != "import TwentyQ" }.joined(separator: "\n")
    }

    @Test func anAppBuiltFromTheSnippetsFindsTheModelAndGetsResults() throws {
        let app = try TemporaryDirectory(); defer { app.remove() }
        // The package identity of a path dependency is its last path component, lowercased.
        let identity = Self.root.lastPathComponent.lowercased()
        try """
        // swift-tools-version: 6.0
        import PackageDescription
        let package = Package(
            name: "App",
            dependencies: [.package(path: "\(Self.root.path)")],
            targets: [.executableTarget(name: "App", dependencies: [.product(name: "TwentyQ", package: "\(identity)")])]
        )
        """.write(toFile: app.appending("Package.swift"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: app.appending("Sources/App"), withIntermediateDirectories: true)
        let readme = try Self.block("README.md", after: "<!-- readme-example")
        let article = try Self.block("Sources/TwentyQ/TwentyQ.docc/GettingStarted.md", after: "<!-- docc-example")
        try """
        import Foundation
        import TwentyQ

        let directory = CommandLine.arguments[1]
        print("== getting started")
        do {
        \(article)
        }
        print("== readme")
        do {
        \(readme)
        }
        """.write(toFile: app.appending("Sources/App/main.swift"), atomically: true, encoding: .utf8)

        let build = try runShell("cd '\(app.path)' && env -u TWENTYQ_DEFAULT_MODEL swift build --scratch-path '\(app.appending(".build"))' 2>&1")
        try #require(build.status == 0, "swift build of the app failed:\n\(build.stdout.suffix(3000))")
        let data = try TemporaryDirectory(); defer { data.remove() }
        let run = try runShell("env -u TWENTYQ_DEFAULT_MODEL '\(app.appending(".build/debug/App"))' '\(data.path)' 2>&1")
        #expect(run.status == 0, "\(run.stdout)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        // Getting started: 3 added, 1 unchanged, the shuttle first, hockey like itself at 0.
        #expect(lines.count >= 8, "\(lines)")
        guard lines.count >= 8 else { return }
        #expect(lines[0] == "== getting started" && lines[1] == "3" && lines[2] == "1", "\(lines)")
        #expect(lines[3].hasPrefix("[\"shuttle\""), "\(lines[3])")
        #expect(lines[4] == "hockey 0", "\(lines[4])")
        // README: the stored code's own id at distance 0, and a radius search that finds it.
        #expect(lines[5] == "== readme" && lines[6] == "doc-42 0" && lines[7] == "true", "\(lines)")
    }
}
