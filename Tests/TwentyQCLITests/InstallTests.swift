import Foundation
import TestSupport
import Testing

/// `Tools/install.sh` puts the binary and the default model where an installed binary finds
/// it, and the installed binary uses that copy (not the package's Data/ it was built from).
@Suite struct InstallTests {
    @Test func theInstalledBinaryFindsTheInstalledModel() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let prefix = try TemporaryDirectory(); defer { prefix.remove() }
        let install = try startProcess("/bin/bash", [root.appendingPathComponent("Tools/install.sh").path,
                                                     "--prefix", prefix.path, "--binary", try twentyqBinary()]).finish()
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        let info = try startProcess(prefix.appending("bin/twentyq"), ["model", "info", "--json"]).finish()
        #expect(info.status == 0, "\(info.stderr)")
        #expect(try parseJSONObject(info.stdout)["path"] as? String == prefix.appending("share/twentyq/default.tqm"))
        for shell in ["bash", "zsh", "fish"] {
            let script = (try? String(contentsOfFile: prefix.appending("share/twentyq/completions/twentyq.\(shell)"), encoding: .utf8)) ?? ""
            #expect(script.contains("twentyq"), "\(shell) completion")
        }
        let wrong = try startProcess("/bin/bash", [root.appendingPathComponent("Tools/install.sh").path, "--prefx", prefix.path]).finish()
        #expect(wrong.status == 64 && wrong.stderr.contains("unknown argument '--prefx'"))
    }
}
