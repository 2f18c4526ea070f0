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
        let removed = try PostgresTarget(db: index.db).map { target in try target.with { try await $0.remove(ids: ids) } }
            ?? CodeIndex.open(at: index.db).remove(ids: ids)
        print("removed \(removed) document\(removed == 1 ? "" : "s")")
    }
}
