import ArgumentParser
import TwentyQ

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove documents from an index by id.",
        discussion: "All ids are removed in one transaction; if any id is unknown, none is removed."
    )

    @OptionGroup var index: AnyStoreOptions
    @Argument(help: "Ids of the documents to remove.") var ids: [String]

    func run() throws {
        let ids = ids
        let removed: Int
        if let target = try PostgresTarget(db: index.db) {
            removed = try target.with { try await $0.remove(ids: ids) }
        } else {
            let store = try CodeIndex.open(at: index.db)
            do { removed = try store.remove(ids: ids) } catch IndexError.unknownID(let id) { throw try CLIMessages.unknownID(id, in: store) }
        }
        print("removed " + CLIMessages.count(removed, "document"))
    }
}
