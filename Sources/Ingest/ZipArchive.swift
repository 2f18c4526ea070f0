import CZlib
import Foundation

/// The members of a ZIP archive held in memory, read by its central directory: what office
/// documents (`.docx`, `.odt`, `.pptx`, `.xlsx`) and e-books (`.epub`) are made of. Stored and
/// deflated members; each member's CRC-32 is checked. Not ZIP64 (a document of more than 4 GiB),
/// not encrypted members, not multi-disk archives: those are refused by name.
public struct ZipArchive {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case damaged(String)
        case unsupported(String)
        case tooLarge(limit: Int)

        public var description: String {
            switch self {
            case .damaged(let reason): return "not a readable ZIP archive (\(reason))"
            case .unsupported(let what): return "a ZIP archive this reader does not take (\(what))"
            case .tooLarge(let limit): return "a member decompresses to more than \(limit >> 20) MiB"
            }
        }
    }

    public struct Member {
        public let name: String
        let method: UInt16
        let flags: UInt16
        let crc: UInt32
        let compressedSize: Int
        public let size: Int
        let headerOffset: Int
    }

    public let members: [Member]
    private let data: Data

    /// Reads the central directory of `data`.
    /// - Throws: `Failure` when there is none (not a ZIP), when it is damaged, or ZIP64.
    public init(_ data: Data) throws(Failure) {
        self.data = data
        let bytes = [UInt8](data)
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        // The end-of-central-directory record: 22 bytes and a comment of up to 64 KiB, last.
        guard bytes.count >= 22 else { throw .damaged("too short to hold a central directory") }
        var end = -1
        for at in stride(from: bytes.count - 22, through: max(0, bytes.count - 22 - 65_535), by: -1) where u32(at) == 0x0605_4B50 {
            end = at
            break
        }
        guard end >= 0 else { throw .damaged("no end of central directory") }
        guard u16(end + 4) == 0, u16(end + 6) == 0 else { throw .unsupported("split over several disks") }
        let count = u16(end + 10), directorySize = u32(end + 12), directoryOffset = u32(end + 16)
        guard count != 0xFFFF, directoryOffset != 0xFFFF_FFFF else { throw .unsupported("ZIP64") }
        guard directoryOffset + directorySize <= end else { throw .damaged("its central directory lies outside the file") }
        var members: [Member] = []
        var at = directoryOffset
        for _ in 0..<count {
            guard at + 46 <= end, u32(at) == 0x0201_4B50 else { throw .damaged("a central directory entry is cut or misplaced") }
            let nameLength = u16(at + 28), extraLength = u16(at + 30), commentLength = u16(at + 32)
            guard at + 46 + nameLength <= end else { throw .damaged("a member's name runs past the directory") }
            let name = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            let compressed = u32(at + 20), size = u32(at + 24), offset = u32(at + 42)
            guard compressed != 0xFFFF_FFFF, size != 0xFFFF_FFFF, offset != 0xFFFF_FFFF else { throw .unsupported("ZIP64") }
            members.append(Member(name: name, method: UInt16(u16(at + 10)), flags: UInt16(u16(at + 8)), crc: UInt32(u32(at + 16)),
                                  compressedSize: compressed, size: size, headerOffset: offset))
            at += 46 + nameLength + extraLength + commentLength
        }
        self.members = members
    }

    /// The member named `name`, if the archive holds one.
    public func member(_ name: String) -> Member? { members.first { $0.name == name } }

    /// The contents of `member`, decompressed and checked against its CRC-32.
    /// - Throws: `Failure.tooLarge` when its size passes `limit`; `.unsupported` for an
    ///   encrypted member or another method than stored and deflate; `.damaged` otherwise.
    public func contents(of member: Member, limit: Int = Gunzip.defaultLimit) throws(Failure) -> Data {
        guard member.flags & 1 == 0 else { throw .unsupported("\(member.name) is encrypted") }
        guard member.size <= limit else { throw .tooLarge(limit: limit) }
        let start = data.startIndex + member.headerOffset
        guard member.headerOffset + 30 <= data.count,
              data[start] == 0x50, data[start + 1] == 0x4B, data[start + 2] == 0x03, data[start + 3] == 0x04 else {
            throw .damaged("\(member.name)'s local header is missing")
        }
        let nameLength = Int(data[start + 26]) | Int(data[start + 27]) << 8
        let extraLength = Int(data[start + 28]) | Int(data[start + 29]) << 8
        let from = member.headerOffset + 30 + nameLength + extraLength
        guard from + member.compressedSize <= data.count else { throw .damaged("\(member.name) is cut short") }
        let stored = data[(data.startIndex + from)..<(data.startIndex + from + member.compressedSize)]
        let out: Data
        switch member.method {
        case 0:
            guard member.compressedSize == member.size else { throw .damaged("\(member.name)'s sizes disagree") }
            out = Data(stored)
        case 8:
            out = try Self.inflateRaw(stored, size: member.size, name: member.name)
        default:
            throw .unsupported("\(member.name) is compressed by method \(member.method)")
        }
        let crc = out.withUnsafeBytes { raw -> UInt32 in
            guard let base = raw.baseAddress else { return 0 }
            return UInt32(truncatingIfNeeded: crc32_z(0, base.assumingMemoryBound(to: UInt8.self), raw.count))
        }
        guard crc == member.crc else { throw .damaged("\(member.name) fails its CRC-32") }
        return out
    }

    /// A raw deflate stream that must give exactly `size` bytes.
    private static func inflateRaw(_ input: Data, size: Int, name: String) throws(Failure) -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .damaged("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var out = Data(count: size + 1)  // one byte more: a stream that gives more is damaged
        let status = input.withUnsafeBytes { raw -> Int32 in
            out.withUnsafeMutableBytes { target -> Int32 in
                stream.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: UInt8.self).baseAddress)
                stream.avail_in = UInt32(raw.count)
                stream.next_out = target.bindMemory(to: UInt8.self).baseAddress
                stream.avail_out = UInt32(target.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else {
            throw .damaged("\(name) does not inflate to its recorded size")
        }
        out.removeLast()
        return out
    }
}
