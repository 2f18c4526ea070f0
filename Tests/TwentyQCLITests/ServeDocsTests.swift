import Foundation
import TestSupport
import Testing

/// docs/SERVE.md's curl lines and Python client, run against a real server.
@Suite struct ServeDocsTests {
    @Test func theCurlLinesDoWhatTheDocSays() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let server = try TestServer(data: dir.path)
        defer { server.stop() }
        let block = try #require(try Snippets.docBlock("docs/SERVE.md", after: "<!-- serve-curl", language: "sh"))
        let run = try runShell("set -e; TWENTYQ='\(server.base)'; " + block.replacingOccurrences(of: "\n", with: "; echo; ") + " true")
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:] }
        try #require(lines.count == 8, "\(run.stdout)")
        #expect(lines[0]["kind"] as? String == "documents")
        #expect(lines[1]["added"] as? Int == 2)
        #expect((lines[2]["results"] as? [[String: Any]])?.first?["id"] as? String == "a", "\(lines[2])")
        #expect(((lines[3]["results"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first?["id"] as? String == "b", "\(lines[3])")
        #expect((lines[4]["fields"] as? [String: String])?["title"] == "Launch")
        #expect(lines[5]["removed"] as? String == "b")
        #expect((lines[6]["error"] as? [String: Any])?["message"] as? String == "'text' must be a string")
        #expect((lines[7]["indexes"] as? [[String: Any]])?.first?["count"] as? Int == 1)
    }

    @Test func thePythonClientRunsAndTheDocQuotesIt() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let server = try TestServer(data: dir.path)
        defer { server.stop() }
        let client = Snippets.root.appendingPathComponent("Tools/clients/twentyq_client.py").path
        let run = try runShell("python3 '\(client)' '\(server.base)'")
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.first == "{'added': 3, 'replaced': 0, 'unchanged': 0}", "\(lines)")
        #expect(lines.dropFirst().first?.hasPrefix("shuttle ") == true && lines.dropFirst().first?.hasSuffix(" Launch") == true, "\(lines)")
        #expect(lines.last == "400 bad_request", "\(lines)")
        #expect((try server.request("GET", "/v1/indexes").json["indexes"] as? [Any])?.isEmpty == true)

        let doc = try #require(try Snippets.docLines("docs/SERVE.md", after: "<!-- serve-python", language: "python"))
        let source = try String(contentsOfFile: client, encoding: .utf8)
        let classText = try #require(source.components(separatedBy: "\nclass TwentyQ:").dropFirst().first?.components(separatedBy: "\nif __name__").first)
        let classLines = ("class TwentyQ:" + classText).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        #expect(doc == classLines)
    }
}
