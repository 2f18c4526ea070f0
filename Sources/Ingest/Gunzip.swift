import CZlib
import Foundation

/// A gzip file's contents, decompressed in memory by zlib: a folder's `README.gz`,
/// `changelog.Debian.gz` or `page.html.gz` is one document like its uncompressed self
/// (Debian keeps most of `/usr/share/doc` so). A `.jsonl.gz` corpus is streamed through
/// `gzip -dc` instead (`Corpus.reading`): it may be far larger than memory.
public enum Gunzip {
    /// Why a gzip file gave no contents.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Not gzip (no 1f 8b header), damaged (a bad block, CRC or length), or cut short.
        case damaged(String)
        /// It decompresses to more than the limit: a document that size is no document (and a
        /// small file that expands that far is a decompression bomb).
        case tooLarge(limit: Int)

        public var description: String {
            switch self {
            case .damaged(let reason): return "not a readable gzip file (\(reason))"
            case .tooLarge(let limit): return "decompresses to more than \(limit >> 20) MiB, more than one document may hold"
            }
        }
    }

    /// The largest decompressed size `decompress` accepts by default: 256 MiB, far above any
    /// text a person reads as one document (the general corpus's longest passage is a few kB;
    /// the whole of 20 Newsgroups is 35 MB), far below this machine's memory.
    public static let defaultLimit = 256 << 20

    /// True when `data` begins as a gzip member does (bytes 1f 8b, method 8: deflate).
    public static func looksLikeGzip(_ data: Data) -> Bool {
        data.count >= 3 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B && data[data.startIndex + 2] == 8
    }

    /// Decompresses every member of a gzip file (`cat a.gz b.gz` is one file, as `gzip -dc`
    /// reads it); bytes after the last member that do not begin another are ignored, as gzip
    /// ignores trailing garbage (tar pads with zeros).
    /// - Parameter limit: the most bytes the contents may hold.
    /// - Throws: `Failure.damaged` (naming zlib's reason) and `Failure.tooLarge`.
    /// - Complexity: O(compressed + decompressed bytes); memory: the contents, once.
    public static func decompress(_ data: Data, limit: Int = defaultLimit) throws(Failure) -> Data {
        guard looksLikeGzip(data) else { throw .damaged("it does not begin with a gzip header") }
        var stream = z_stream()
        // 15 + 16: the largest window, gzip wrapping only (a zlib or raw stream is refused).
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .damaged("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var out = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let outcome: Failure? = data.withUnsafeBytes { raw -> Failure? in
            let input = raw.bindMemory(to: UInt8.self)
            var offset = 0
            while true {
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + offset)
                stream.avail_in = UInt32(input.count - offset)
                var status = Z_OK
                repeat {
                    status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                        stream.next_out = buffer.baseAddress
                        stream.avail_out = UInt32(buffer.count)
                        let status = inflate(&stream, Z_NO_FLUSH)
                        if status == Z_OK || status == Z_STREAM_END {
                            out.append(buffer.baseAddress!, count: buffer.count - Int(stream.avail_out))
                        }
                        return status
                    }
                    if out.count > limit { return .tooLarge(limit: limit) }
                    if status == Z_BUF_ERROR, stream.avail_in == 0 { return .damaged("it ends in the middle of its data") }
                    if status != Z_OK && status != Z_STREAM_END {
                        let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                        return .damaged(message)
                    }
                } while status != Z_STREAM_END
                offset = input.count - Int(stream.avail_in)
                // Another member follows only if its header does; anything else is trailing bytes.
                guard input.count - offset >= 3, input[offset] == 0x1F, input[offset + 1] == 0x8B, input[offset + 2] == 8 else { return nil }
                guard inflateReset(&stream) == Z_OK else { return .damaged("zlib could not read its next member") }
            }
        }
        if let outcome { throw outcome }
        return out
    }
}
