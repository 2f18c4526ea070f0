import Foundation

/// The text of a PDF file, by Poppler's `pdftotext` (Debian and Ubuntu: poppler-utils; macOS:
/// `brew install poppler`), run as a separate process (`ExternalConverter`): PDF parsing is a
/// large attack surface, and a PDF that crashes or hangs the parser then takes down that
/// process, not the index run.
/// Text comes out in reading order, UTF-8, pages separated by form feeds (white space to the
/// tokenizer).
public enum PDFText {
    /// Why a PDF gave no text.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// `pdftotext` is not on PATH.
        case toolMissing
        /// `pdftotext` refused the file (exit status 1: damaged, or encrypted with a password;
        /// 3: its permissions forbid copying text; other: another failure).
        case unreadable(status: Int32)
        /// `pdftotext` ran longer than `ExternalConverter.timeLimit` seconds and was stopped.
        case timedOut(seconds: Double)
        /// `pdftotext` wrote more than `ExternalConverter.textLimit` bytes and was stopped.
        case tooMuchText(limit: Int)

        public var description: String {
            switch self {
            case .toolMissing:
                return "PDF files are read by pdftotext, which is not installed: install poppler-utils (apt-get install poppler-utils; macOS: brew install poppler)"
            case .timedOut(let seconds):
                return "pdftotext took more than \(Int(seconds)) s over this PDF and was stopped (a damaged file can make it loop; "
                    + "for a PDF that is only slow, set TWENTYQ_CONVERTER_SECONDS higher)"
            case .tooMuchText(let limit):
                return "pdftotext wrote more than \(limit >> 20) MiB of text for this PDF and was stopped"
            case .unreadable(let status):
                switch status {
                case 1: return "pdftotext cannot open this PDF (damaged, or encrypted with a password)"
                case 3: return "this PDF's permissions forbid copying its text"
                case -1: return "pdftotext could not be started, or its input not written to a temporary file (TMPDIR)"
                default: return "pdftotext failed on this PDF (exit status \(status))"
                }
            }
        }
    }

    /// True when `path` (lower-cased) ends in ".pdf" or `data` begins as a PDF does ("%PDF-").
    public static func isPDF(_ path: String, _ data: Data) -> Bool {
        path.hasSuffix(".pdf") || data.starts(with: Array("%PDF-".utf8))
    }

    /// The path of `pdftotext` on PATH, looked up once per process.
    public static let tool: String? = ExternalConverter.find("pdftotext")

    /// The text of a PDF: the file at `path` when `data` is its content as on disk, else
    /// `data` (a `.pdf.gz` decompressed) through an unlinked temporary file, given to
    /// `pdftotext` in its own process (`ExternalConverter`).
    /// - Throws: `Failure`.
    public static func extract(_ data: Data, path: String?) throws(Failure) -> String {
        guard let tool else { throw .toolMissing }
        do {
            let text = try ExternalConverter.run(tool, arguments: ["-enc", "UTF-8", "-q", "-", "-"], data: data, path: path)
            return String(decoding: text, as: UTF8.self)
        } catch {
            switch error {
            case .notStarted: throw .unreadable(status: -1)
            case .failed(let status, let signaled): throw .unreadable(status: signaled ? 99 : status)
            case .timedOut(let seconds): throw .timedOut(seconds: seconds)
            case .tooMuchText(let limit): throw .tooMuchText(limit: limit)
            }
        }
    }
}
