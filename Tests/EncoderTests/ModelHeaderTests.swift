@testable import Encoder
import Foundation
import TestSupport
import Testing

/// The text model header's fast path (terms scanned, config decoded alone) gives exactly what
/// JSONDecoder gives, or the same error, for what `encode` writes and for everything else.
@Suite struct ModelHeaderTests {
    /// The header through `textHeader`, and through JSONDecoder as the reference.
    func bothPaths(_ json: String) -> (fast: Result<ModelFile.Header, ModelFileError>, full: Result<ModelFile.Header, ModelFileError>) {
        var bytes: [UInt8] = []
        ModelFile.appendInteger(&bytes, UInt32(json.utf8.count))
        bytes += Array(json.utf8) + [0, 0, 0, 0] // the file's checksum follows the sections
        func run(_ body: (inout ModelFile.Reader) throws -> ModelFile.Header) -> Result<ModelFile.Header, ModelFileError> {
            var reader = ModelFile.Reader(bytes: bytes, offset: 0, path: "h")
            do { return .success(try body(&reader)) } catch { return .failure(error as! ModelFileError) }
        }
        return (run { try ModelFile.textHeader(&$0, path: "h") }, run { try ModelFile.header(ModelFile.Header.self, &$0, path: "h") })
    }

    func expectSame(_ json: String, _ comment: Comment? = nil) {
        let (fast, full) = bothPaths(json)
        switch (fast, full) {
        case (.success(let a), .success(let b)):
            #expect(a.config == b.config && a.terms == b.terms, comment)
        case (.failure(let a), .failure(let b)):
            #expect(a == b, comment)
        default:
            Issue.record("fast \(fast), full \(full): \(json)")
        }
    }

    /// Fingerprints are stored in every index built with a model: their form never changes.
    @Test func fingerprintsAreFNV1aOfTheBytes() {
        #expect(ModelFile.fingerprint(bytes: []) == "tqm-cbf29ce484222325")
        #expect(ModelFile.fingerprint(bytes: Array("foobar".utf8)) == "tqm-85944171f73967e8")
    }

    @Test func whatEncodeWritesReadsTheSameBothWays() throws {
        let model = randomModel(bits: 24, hidden: 16)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let terms = model.vocabulary.terms + ["café", "naïve_résumé", "東京", "x1"]
        let json = String(decoding: try encoder.encode(ModelFile.Header(config: model.config, terms: terms)), as: UTF8.self)
        expectSame(json)
        guard case .success(let header) = bothPaths(json).fast else { Issue.record("fast path failed"); return }
        #expect(header.terms == terms && header.config == model.config)
        // The whole file still round-trips.
        let decoded = try ModelFile.decode(try ModelFile.encode(model))
        #expect(decoded.vocabulary == model.vocabulary && decoded.config == model.config)
    }

    @Test func everythingOffTheNarrowShapeFallsBackToJSONDecoder() throws {
        let config = String(decoding: try JSONEncoder().encode(randomModel().config), as: UTF8.self)
        let cases = [
            #"{"config":\#(config),"terms":["a","b\"c","d"]}"#,              // an escaped quote
            #"{"config":\#(config),"terms":["caf\u00e9","x"]}"#,             // a \u escape
            #"{"config":\#(config),"terms":["a",1]}"#,                       // not a string
            #"{"config":\#(config),"terms":[]}"#,                            // empty (decodeText refuses later)
            #"{ "terms" : [ "a" , "b" ] , "config" : \#(config) }"#,          // other order, spaces
            #"{"config":\#(config),"terms":["a"],"extra":{"x":[1,"]"]}}"#,    // an unknown key
            #"{"config":\#(config),"terms":["a"],"terms":["b"]}"#,           // a key twice
            #"{"config":\#(config)}"#,                                        // terms missing
            #"{"terms":["a"]}"#,                                              // config missing
            #"{"config":{"bits":"x"},"terms":["a"]}"#,                        // a bad config
            #"{"config":5,"terms":["a"]}"#,
            #"{"config":\#(config),"terms":["a"]} trailing"#,
            #"{"config":\#(config),"terms":["a"]"#,                           // cut short
            #"{"config":\#(config),"terms":["a\#u{01}"]}"#,                   // a control character
            "[]", "", "{",
        ]
        for json in cases { expectSame(json, "\(json)") }
    }
}
