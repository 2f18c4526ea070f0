import Foundation

/// The text of a file of unknown encoding, or nil for a file that is not text. A folder holds
/// more than UTF-8: old changelogs and AUTHORS files, XML and
/// many HTML pages are ISO-8859-1 (Latin-1); Windows Notepad saves "Unicode" as UTF-16 with a
/// byte-order mark. The rule, in order:
/// 1. a UTF-16 byte-order mark (FF FE or FE FF), then valid UTF-16: UTF-16;
/// 2. a NUL byte in the first 8 KiB: binary (nil);
/// 3. valid UTF-8: UTF-8 (nearly every file; ASCII is UTF-8);
/// 4. every byte a text byte of Windows-1252: Windows-1252, the superset of Latin-1 that the
///    web reads any "ISO-8859-1" page as (WHATWG Encoding);
/// 5. otherwise nil: binary or another legacy encoding.
///
/// Text bytes are those `file(1)` counts as text: printable ASCII, tab, line feed, vertical tab,
/// form feed, carriage return, bell, backspace and escape, and every byte from 0x80 up. Any
/// other control byte (0x01-0x06, 0x0E-0x1A, 0x1C-0x1F, DEL) in the whole file makes it binary:
/// compressed data (an archive, an image, a PDF's streams) holds such bytes about every tenth,
/// so it is not taken for text, while a text file in Latin-1 holds none.
public enum FileText {
    public enum Encoding: String, Sendable {
        case utf8 = "UTF-8", utf16 = "UTF-16", windows1252 = "Windows-1252"
    }

    public static func decode(_ data: Data) -> (text: String, encoding: Encoding)? {
        if data.count >= 2, data.count % 2 == 0 {
            let first = data[data.startIndex], second = data[data.startIndex + 1]
            let order: String.Encoding? = first == 0xFF && second == 0xFE ? .utf16LittleEndian
                : first == 0xFE && second == 0xFF ? .utf16BigEndian : nil
            if let order, let text = String(data: data.dropFirst(2), encoding: order),
               !text.unicodeScalars.contains(where: { $0.value < 0x80 && !isTextByte(UInt8($0.value)) }) {
                return (text, .utf16)
            }
        }
        if data.prefix(8192).contains(0) { return nil }
        if let text = String(data: data, encoding: .utf8) { return (text, .utf8) }
        if let text = windows1252(data) { return (text, .windows1252) }
        return nil
    }

    /// `data` read as Windows-1252, or nil when a byte is not a text byte.
    public static func windows1252(_ data: Data) -> String? {
        var scalars = String.UnicodeScalarView()
        scalars.reserveCapacity(data.count)
        for byte in data {
            guard isTextByte(byte) else { return nil }
            if byte >= 0x80 && byte < 0xA0 {
                scalars.append(Unicode.Scalar(cp1252High[Int(byte - 0x80)])!)
            } else {
                scalars.append(Unicode.Scalar(byte))
            }
        }
        return String(scalars)
    }

    /// Printable ASCII, BEL, BS, HT, LF, VT, FF, CR, ESC, and 0x80-0xFF (`file(1)`'s text set).
    @inline(__always) static func isTextByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || (byte >= 0x20 && byte != 0x7F) || (byte >= 0x07 && byte <= 0x0D) || byte == 0x1B
    }

    /// Windows-1252's 0x80-0x9F (WHATWG's index): punctuation and letters where Latin-1 has C1
    /// controls; the five bytes it leaves undefined map to those controls, as browsers do.
    static let cp1252High: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]
}
