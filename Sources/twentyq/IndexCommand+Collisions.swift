import Foundation
import TwentyQ

/// Ids of folder files are paths relative to their folder, so two folders can bring the same id
/// (a README.md in each). Neither may silently replace the other: within one run the second is
/// an error naming both files (`DocumentSources`); across runs, a folder file whose id is held
/// by a file of another folder is an error too (issue #17).
extension IndexCommand {
    /// Throws when a folder document would replace a stored one that came from another folder.
    static func checkFolderCollisions(_ documents: [(id: String, fields: [String: String])], in index: DocumentIndex) throws {
        let fromFolders = documents.filter { $0.fields[DocumentSources.rootField] != nil }
        guard !fromFolders.isEmpty else { return }
        let stored = try index.fields(for: fromFolders.map(\.id))
        for (document, fields) in zip(fromFolders, stored) {
            guard let fields, let storedRoot = fields[DocumentSources.rootField],
                  let root = document.fields[DocumentSources.rootField], storedRoot != root else { continue }
            throw InputError("id '\(document.id)' is already held by \(fields["path"] ?? document.id) from folder \(storedRoot); "
                             + "\(document.fields["path"] ?? document.id) from folder \(root) would replace it. Index the folders' common "
                             + "parent folder instead (ids then differ), or use another --db")
        }
    }
}
