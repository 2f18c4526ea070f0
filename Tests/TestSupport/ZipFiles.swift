import Foundation

/// A ZIP archive at `path` made by the `zip` program (Info-ZIP; Tools/setup.sh installs it)
/// from `members` (name, contents), added in the order given, at compression `level` (0:
/// stored), with `password` when given. The members are written under a fresh folder beside
/// `path` first. Returns `zip`'s exit status.
@discardableResult
public func makeZip(_ members: [(String, Data)], at path: String, level: Int = 6, password: String? = nil) throws -> Int32 {
    let folder = path + ".members"
    try? FileManager.default.removeItem(atPath: folder)
    for (name, data) in members {
        let file = folder + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: file))
    }
    let names = members.map { "'\($0.0)'" }.joined(separator: " ")
    let flags = "-q -X -\(level)" + (password.map { " -P '\($0)'" } ?? "")
    let r = try runShell("cd '\(folder)' && rm -f '\(path)' && zip \(flags) '\(path)' \(names)")
    try? FileManager.default.removeItem(atPath: folder)
    return r.status
}

/// `makeZip` of text members.
@discardableResult
public func makeZip(_ members: [(String, String)], at path: String, level: Int = 6) throws -> Int32 {
    try makeZip(members.map { ($0.0, Data($0.1.utf8)) }, at: path, level: level)
}
