import Foundation

/// The model shipped in `Data/default.tqm`, used whenever no model is given.
///
/// Located, in order: `$TWENTYQ_DEFAULT_MODEL`; `Data/default.tqm` beside the running
/// executable's package checkout (walking up from the executable: `.build/<config>/twentyq` sits
/// three levels below the package root); `share/twentyq/default.tqm` next to an installed binary;
/// and `Data/default.tqm` of the TwentyQ package this code was compiled from (found by the
/// source file's own path, so an app that depends on TwentyQ by path or URL finds the model on
/// the machine that built it). An app that ships elsewhere ships the model file too and passes
/// it (`DocumentIndex.open(at:model:)`) or sets `TWENTYQ_DEFAULT_MODEL`.
public enum DefaultModel {
    public static func path() -> String? {
        if let env = ProcessInfo.processInfo.environment["TWENTYQ_DEFAULT_MODEL"], FileManager.default.fileExists(atPath: env) { return env }
        return resource("default.tqm")
    }

    /// A file shipped in `Data/` (or `share/twentyq/` of an installation), found by walking up
    /// from the running executable; nil when absent.
    public static func resource(_ relative: String) -> String? {
        let fm = FileManager.default
        let exe = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        for _ in 0..<6 {
            for base in ["Data/", "share/twentyq/"] {
                let path = dir.appendingPathComponent(base + relative).path
                if fm.fileExists(atPath: path) { return path }
            }
            dir = dir.deletingLastPathComponent()
        }
        // The package this file was compiled from: Sources/Encoder/DefaultModel.swift.
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let compiled = package.appendingPathComponent("Data/" + relative).path
        return fm.fileExists(atPath: compiled) ? compiled : nil
    }

    /// Loads the default model.
    /// - Throws: `ModelFileError.unreadable` naming where it looked, or the file's own error.
    public static func load() throws -> EncoderModel {
        guard let path = path() else {
            throw ModelFileError.unreadable(path: "Data/default.tqm",
                                            reason: "the default model was not found (looked beside the executable and in the TwentyQ package it was built from); set TWENTYQ_DEFAULT_MODEL to a model file, or pass a model (--model FILE, DocumentIndex.open(at:model:))")
        }
        return try ModelFile.read(path)
    }
}
