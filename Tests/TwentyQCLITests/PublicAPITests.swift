import Foundation
import TestSupport
import Testing

/// What `import TwentyQ` gives an app: TwentyQ's own public declarations plus every member of the
/// types it re-exports by typealias, read from the compiler's symbol graphs of the built modules
/// (`swift-symbolgraph-extract`). The surface must hold no storage, pointer or kernel type, and
/// docs/API.md must list it exactly (`TWENTYQ_WRITE_API=1 swift test --filter PublicAPITests`
/// rewrites the file after a deliberate change).
@Suite struct PublicAPITests {
    /// Words that must not appear in any declaration of the surface.
    static let forbidden = ["Unsafe", "OpaquePointer", "LMDB", "MDB_", "CodeBlock", "SlotCodes", "KernelLevel",
                            "MultiIndexTable", "MultiIndexLevel", "TermReader", "SearchReport", "parallelFor"]

    struct Symbol {
        let path: [String]
        let kind: String
        let declaration: String
        let fragments: [[String: Any]]
        var documented = true

        /// A member the compiler writes for a conformance (Equatable, Hashable, Codable), which
        /// carries the protocol's documentation, not a comment of ours.
        var synthesized: Bool {
            ["hashValue", "hash(into:)", "init(from:)", "encode(to:)", "==(_:_:)", "!=(_:_:)"].contains(path.last ?? "")
        }
    }

    /// Symbol graphs of the modules behind the facade, by module name.
    static func symbolGraphs() throws -> [String: [Symbol]] {
        let out = try TemporaryDirectory(); defer { out.remove() }
        return try symbolGraphs(in: out.path)
    }

    /// As `symbolGraphs()`, leaving the graph files (`MODULE.symbols.json`) in `out`.
    static func symbolGraphs(in out: String) throws -> [String: [Symbol]] {
        let build = URL(fileURLWithPath: try twentyqBinary()).resolvingSymlinksInPath().deletingLastPathComponent()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let tool = try runShell("command -v swift-symbolgraph-extract").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(!tool.isEmpty, "swift-symbolgraph-extract is not on PATH (it ships with every Swift toolchain)")
        #if arch(x86_64)
        let triple = "x86_64-unknown-linux-gnu"
        #else
        let triple = "aarch64-unknown-linux-gnu"
        #endif
        var graphs: [String: [Symbol]] = [:]
        for module in ["TwentyQ", "BinaryCodes", "CodeStore", "Encoder", "Ingest"] {
            var args = ["-module-name", module, "-target", triple, "-I", build.appendingPathComponent("Modules").path,
                        "-minimum-access-level", "public", "-output-dir", out]
            for map in ["CHammingKernels", "CInferenceKernels", "CMappedFaults"] {
                args += ["-Xcc", "-fmodule-map-file=" + build.appendingPathComponent("\(map).build/module.modulemap").path,
                         "-Xcc", "-I" + root.appendingPathComponent("Sources/\(map)/include").path]
            }
            for map in ["CLMDB", "CZlib"] {
                args += ["-Xcc", "-fmodule-map-file=" + root.appendingPathComponent("Sources/\(map)/module.modulemap").path]
            }
            let run = try startProcess(tool, args).finish()
            try #require(run.status == 0, "\(module): \(run.stderr)")
            let data = try Data(contentsOf: URL(fileURLWithPath: out + "/\(module).symbols.json"))
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            graphs[module] = (json["symbols"] as? [[String: Any]] ?? []).compactMap { s in
                guard let path = s["pathComponents"] as? [String], let kind = (s["kind"] as? [String: Any])?["identifier"] as? String,
                      let fragments = s["declarationFragments"] as? [[String: Any]] else { return nil }
                let declaration = fragments.compactMap { $0["spelling"] as? String }.joined()
                let documented = ((s["docComment"] as? [String: Any])?["lines"] as? [Any])?.isEmpty == false
                return Symbol(path: path, kind: kind, declaration: declaration, fragments: fragments, documented: documented)
            }
        }
        return graphs
    }

    /// The surface: TwentyQ's symbols, and for each of its typealiases the aliased type with
    /// all its members, under the alias's name.
    static func surface() throws -> [(type: String, members: [String])] {
        try surfaceAndReferences().surface
    }

    /// The surface, and the types of this package's modules that its declarations name (name,
    /// USR, where), so a test can see that an app can name each of them.
    static func surfaceAndReferences() throws -> (surface: [(type: String, members: [String])], references: [(name: String, usr: String, in: String)]) {
        let graphs = try symbolGraphs()
        let own = graphs["TwentyQ"] ?? []
        var byType: [String: Set<String>] = [:]
        var references: [(name: String, usr: String, in: String)] = []
        func note(_ s: Symbol) {
            for f in s.fragments where f["kind"] as? String == "typeIdentifier" {
                guard let usr = f["preciseIdentifier"] as? String, let name = f["spelling"] as? String else { continue }
                references.append((name, usr, s.declaration))
            }
        }
        for s in own where s.kind != "swift.typealias" || s.path.count > 1 {
            byType[s.path[0], default: []].insert(s.path.dropFirst().dropLast().map { $0 + "." }.joined() + s.declaration)
            note(s)
        }
        for alias in own where alias.kind == "swift.typealias" && alias.path.count == 1 {
            // The aliased type: the fragment after "=".
            let target = alias.fragments.last { $0["kind"] as? String == "typeIdentifier" }
            let name = try #require(target?["spelling"] as? String, "\(alias.declaration)")
            var found = false
            for module in ["BinaryCodes", "CodeStore", "Encoder", "Ingest"] {
                let symbols = graphs[module] ?? []
                guard let type = symbols.first(where: { $0.path == [name] }) else { continue }
                found = true
                byType[alias.path[0], default: []].insert(type.declaration)
                for member in symbols where member.path.count > 1 && member.path[0] == name {
                    byType[alias.path[0], default: []].insert(member.path.dropFirst().dropLast().map { $0 + "." }.joined() + member.declaration)
                    note(member)
                }
            }
            #expect(found, "typealias \(alias.path[0]) names \(name), found in no module")
        }
        return (byType.keys.sorted().map { ($0, byType[$0]!.sorted()) }, references)
    }

    static func render(_ surface: [(type: String, members: [String])]) -> String {
        var out = """
        # The public API of `import TwentyQ`

        Generated by `PublicAPITests` from the compiler's symbol graphs (TwentyQ's own declarations,
        and every public member of the types it re-exports by typealias); a test fails when this
        file and the code disagree. Regenerate after a deliberate change:
        `TWENTYQ_WRITE_API=1 swift test --filter PublicAPITests`. Declarations of the same type are
        sorted by their text; members of nested types are prefixed with the nested type's name.

        """
        for (type, members) in surface {
            out += "\n## \(type)\n\n```swift\n" + members.joined(separator: "\n") + "\n```\n"
        }
        return out
    }

    @Test func theSurfaceHoldsNoStoragePointerOrKernelType() throws {
        let surface = try Self.surface()
        #expect(surface.count > 20, "\(surface.map(\.type))")
        for type in ["DocumentIndex", "VectorIndex", "CodeIndex", "EncoderModel", "BinaryCode", "SearchHit"] {
            #expect(surface.contains { $0.type == type }, "\(type) missing from the surface")
        }
        var leaks: [String] = []
        for (type, members) in surface {
            for member in members where Self.forbidden.contains(where: { member.contains($0) }) { leaks.append("\(type): \(member)") }
        }
        #expect(leaks.isEmpty, "\(leaks.count) declarations expose internals:\n\(leaks.joined(separator: "\n"))")
    }

    /// Every type of this package that a declaration names is one an app can name too: exported
    /// by `TwentyQ` (or nested in an exported type). Otherwise the app gets values it cannot
    /// describe, and internals leak by the back door.
    @Test func everyTypeTheSurfaceNamesIsExported() throws {
        let (surface, references) = try Self.surfaceAndReferences()
        let exported = Set(surface.map(\.type))
        let ours = ["s:7TwentyQ", "s:11BinaryCodes", "s:9CodeStore", "s:7Encoder"]
        var unnamed: [String] = []
        for r in references where ours.contains(where: { r.usr.hasPrefix($0) }) && !exported.contains(r.name) {
            // A nested type (`CodeIndex.X`) is reached through its exported parent.
            if surface.contains(where: { entry in exported.contains(entry.type) && entry.members.contains { member in
                ["struct", "enum", "class", "final class"].contains { member.hasPrefix("\($0) \(r.name)") } } }) { continue }
            unnamed.append("\(r.name) in: \(r.in)")
        }
        #expect(unnamed.isEmpty, "types an app cannot name:\n\(Set(unnamed).sorted().joined(separator: "\n"))")
    }

    @Test func docsAPIListsTheSurface() throws {
        let text = Self.render(try Self.surface())
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = root.appendingPathComponent("docs/API.md")
        if ProcessInfo.processInfo.environment["TWENTYQ_WRITE_API"] == "1" {
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        let committed = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        #expect(committed == text, "docs/API.md is not the current surface; regenerate it (TWENTYQ_WRITE_API=1)")
    }

    /// DocC: the catalog (Sources/TwentyQ/TwentyQ.docc, its articles and TwentyQ's symbols)
    /// converts without one warning (every symbol link resolves, every documented parameter
    /// exists), every declaration of TwentyQ has a doc comment (a re-exported type's is on its
    /// alias), and every type an app reaches through an alias, nested ones too, has one.
    @Test func theDocCCatalogBuildsCleanAndEveryTypeIsDocumented() throws {
        let out = try TemporaryDirectory(); defer { out.remove() }
        let graphs = try Self.symbolGraphs(in: out.path)
        let undocumented = (graphs["TwentyQ"] ?? []).filter { !$0.documented && !$0.synthesized }.map { $0.path.joined(separator: ".") }
        #expect(undocumented.isEmpty, "TwentyQ declarations without a doc comment: \(undocumented)")
        let aliased = Set((graphs["TwentyQ"] ?? []).filter { $0.kind == "swift.typealias" && $0.path.count == 1 }.compactMap { alias in
            alias.fragments.last { $0["kind"] as? String == "typeIdentifier" }?["spelling"] as? String
        })
        let typeKinds: Set = ["swift.struct", "swift.enum", "swift.class", "swift.protocol"]
        var bareTypes: [String] = []
        for module in ["BinaryCodes", "CodeStore", "Encoder", "Ingest"] {
            for s in graphs[module] ?? [] where typeKinds.contains(s.kind) && aliased.contains(s.path[0]) && s.path.count > 1 && !s.documented {
                bareTypes.append(s.path.joined(separator: "."))
            }
        }
        #expect(bareTypes.isEmpty, "nested types without a doc comment: \(bareTypes)")

        let docc = try runShell("command -v docc").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(!docc.isEmpty, "docc is not on PATH (it ships with every Swift toolchain since 5.6)")
        let graphsOnly = out.appending("twentyq-graph")
        try FileManager.default.createDirectory(atPath: graphsOnly, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: out.appending("TwentyQ.symbols.json"), toPath: graphsOnly + "/TwentyQ.symbols.json")
        let catalog = Snippets.root.appendingPathComponent("Sources/TwentyQ/TwentyQ.docc").path
        let run = try startProcess(docc, ["convert", catalog, "--additional-symbol-graph-dir", graphsOnly, "--analyze",
                                          "--output-path", out.appending("archive")]).finish()
        let warnings = (run.stdout + run.stderr).split(separator: "\n").filter { $0.contains("warning:") || $0.contains("error:") }
        #expect(run.status == 0 && warnings.isEmpty, "docc convert: status \(run.status)\n\(warnings.joined(separator: "\n"))")
    }
}
