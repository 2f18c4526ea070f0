/// Text from documents and ids made safe for a terminal: control characters (C0, DEL, C1: an
/// escape sequence in an id could recolour or clear the screen, a newline could fake a result
/// line) are shown as `\u{..}` escapes. JSON output escapes them by itself.
enum TerminalText {
    static func safe(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
