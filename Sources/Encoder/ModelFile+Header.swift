import Foundation

extension ModelFile {
    /// A text model's JSON header. Its 20,000-odd vocabulary terms dominate it, and JSONDecoder
    /// decodes them one by one in about a fifth of a short search's run time; so when the header
    /// is exactly what `encode` writes (keys `config` and `terms` once each, every term a JSON
    /// string without escapes or control characters, valid UTF-8), the terms are read by
    /// `TermsScanner` and `config` alone goes through JSONDecoder. Anything else takes the full
    /// JSONDecoder path, so both paths give the same header or the same error.
    static func textHeader(_ reader: inout Reader, path: String) throws -> Header {
        let start = reader.offset
        let length = Int(try reader.integer() as UInt32)
        let json = try reader.bytes(length)
        var scanner = HeaderScanner(Array(json))
        if let fast = try? scanner.header() { return fast }
        reader.offset = start
        return try header(Header.self, &reader, path: path)
    }
}

/// The fast path of `ModelFile.textHeader`: nil whenever the bytes leave its narrow shape.
private struct HeaderScanner {
    let bytes: [UInt8]
    var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func header() throws -> ModelFile.Header? {
        var config: Range<Int>?, terms: [String]?
        guard expect(UInt8(ascii: "{")) else { return nil }
        while true {
            guard let key = plainString(), expect(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            switch key {
            case "config" where config == nil:
                let from = i
                guard skipValue() else { return nil }
                config = from ..< i
            case "terms" where terms == nil:
                guard let list = stringArray() else { return nil }
                terms = list
            default:
                return nil
            }
            if expect(UInt8(ascii: ",")) { continue }
            guard expect(UInt8(ascii: "}")) else { return nil }
            break
        }
        skipSpace()
        guard i == bytes.count, let config, let terms else { return nil }
        let decoded = try JSONDecoder().decode(ModelConfig.self, from: Data(bytes[config]))
        return ModelFile.Header(config: decoded, terms: terms)
    }

    mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 }
    }

    mutating func expect(_ byte: UInt8) -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == byte else { return false }
        i += 1
        return true
    }

    /// A JSON string without escapes or control characters, as valid UTF-8.
    mutating func plainString() -> String? {
        guard expect(UInt8(ascii: "\"")) else { return nil }
        let from = i
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
            guard bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 else { return nil }
            i += 1
        }
        guard i < bytes.count else { return nil }
        defer { i += 1 }
        return bytes[from ..< i].withUnsafeBufferPointer { String(validating: $0, as: UTF8.self) }
    }

    mutating func stringArray() -> [String]? {
        guard expect(UInt8(ascii: "[")) else { return nil }
        var out: [String] = []
        if expect(UInt8(ascii: "]")) { return out }
        repeat {
            guard let s = plainString() else { return nil }
            out.append(s)
        } while expect(UInt8(ascii: ","))
        return expect(UInt8(ascii: "]")) ? out : nil
    }

    /// Past one JSON value (its validity is JSONDecoder's to judge): a string with its escapes,
    /// an object or array by depth, anything else up to the next delimiter.
    mutating func skipValue() -> Bool {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var depth = 0
        while i < bytes.count {
            switch bytes[i] {
            case quote:
                i += 1
                while i < bytes.count, bytes[i] != quote { i += bytes[i] == backslash ? 2 : 1 }
                guard i < bytes.count else { return false }
                i += 1
                if depth == 0 { return true }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return true } // a scalar ended by its container
                depth -= 1
                i += 1
                if depth == 0 { return true }
            case UInt8(ascii: ",") where depth == 0:
                return true
            default:
                i += 1
            }
        }
        return false
    }
}
