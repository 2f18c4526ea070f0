import Foundation

/// The one rule for ids read from JSON (documents, vectors, codes): a string is taken as it is,
/// an integer is written as decimal text; anything else (true, null, 1.5, an array) is refused,
/// so `{"id": true}` can never become document "1".
public enum JSONID {
    /// The id text of a JSON value from `JSONSerialization`, or nil when it is not a string or
    /// an integer.
    public static func text(_ value: Any) -> String? {
        if let s = value as? String { return s }
        guard let n = value as? NSNumber, !isBoolean(n) else { return nil }
        switch String(cString: n.objCType) {
        case "q", "i", "l", "s", "Q", "I", "L", "S", "C": return n.stringValue
        default: return nil
        }
    }

    /// What a refused value is, for messages.
    public static func describe(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if let n = value as? NSNumber { return isBoolean(n) ? "a boolean (\(n.boolValue))" : "the number \(n)" }
        if value is [Any] { return "an array" }
        if value is [String: Any] { return "an object" }
        return "\(value)"
    }

    /// JSONSerialization gives true and false as NSNumbers whose type code is "c" (char); JSON
    /// numbers never get that code.
    public static func isBoolean(_ n: NSNumber) -> Bool {
        String(cString: n.objCType) == "c"
    }
}
