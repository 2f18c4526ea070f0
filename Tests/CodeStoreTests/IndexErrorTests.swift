import CodeStore
import Encoder
import Testing

/// The library's errors speak of the library: no CLI command or flag in their words (the CLI
/// adds its own advice, `CLIMessages`, tested through the binary).
@Suite struct LibraryErrorWordsTests {
    static let indexErrors: [IndexError] = [
        .noIndex(path: "p"), .notADirectory(path: "p"), .notAnIndex(path: "p", reason: "r"), .alreadyExists(path: "p"),
        .permissionDenied(path: "p", operation: "o"), .corrupt(path: "p", detail: "d"),
        .unsupportedFormat(path: "p", found: 9, supported: 4), .widthMismatch(path: "p", indexBits: 64, codeBits: 32),
        .unknownID("i"), .duplicateID("i"), .invalidID("i", reason: "r"), .readOnly(path: "p"),
        .modelMismatch(path: "p", index: "a", given: "b"), .storage(path: "p", detail: "d"), .diskFull(path: "p"),
        .kindMismatch(path: "p", holds: .vectors, wanted: .documents), .kindMismatch(path: "p", holds: .codes, wanted: .documents),
        .modelRequired(path: "p", kind: .vectors), .noStoredVectors(path: "p"), .invalidSetting("s"),
        .damagedModel(path: "p", detail: "d"), .inUse(path: "p", operation: "compact"), .damagedTables(path: "p", detail: "d"),
    ]
    static let modelErrors: [ModelFileError] = [
        .unreadable(path: "p", reason: "r"), .notAModel(path: "p"), .futureVersion(path: "p", found: 9, supported: 2),
        .truncated(path: "p", expected: 10, actual: 5), .checksumMismatch(path: "p"), .malformed(path: "p", detail: "d"),
        .wrongKind(path: "p", found: "vectors", expected: "text"), .wrongKind(path: "p", found: "text", expected: "vectors"),
    ]

    @Test func noCommandOrFlagInTheLibrarysWords() {
        for text in Self.indexErrors.map(\.description) + Self.modelErrors.map(\.description) {
            #expect(!text.contains("twentyq") && !text.contains(" --") && !text.contains("`--"), "\(text)")
            #expect(!text.isEmpty)
        }
    }
}
