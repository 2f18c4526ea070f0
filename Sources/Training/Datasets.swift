import Foundation
import Ingest

/// The evaluation protocols of ../shared/data/README.md (semantic hashing, VDSH/NASH family):
/// database = train split, queries = test split, relevant = shares a label.
public struct LabeledSplit: Sendable {
    public var train: [CorpusDocument]
    public var test: [CorpusDocument]
}

public enum Datasets {
    /// 20 Newsgroups "bydate": message bodies, the header block (up to the first blank line) dropped.
    public static func twentyNewsgroups(dataDirectory: String) throws -> LabeledSplit {
        let docs = try Corpus.readJSONL(dataDirectory + "/20news/20news-bydate.jsonl.gz").map { doc -> CorpusDocument in
            var d = doc
            if let range = d.text.range(of: "\n\n") { d.text = String(d.text[range.upperBound...]) }
            return d
        }
        return LabeledSplit(train: docs.filter { $0.split == "train" }, test: docs.filter { $0.split == "test" })
    }

    /// The 20 most frequent training topics of Reuters-21578 ApteMod.
    public static let reutersTopics: Set<String> = [
        "earn", "acq", "money-fx", "grain", "crude", "trade", "interest", "wheat", "ship", "corn",
        "money-supply", "dlr", "sugar", "oilseed", "coffee", "gnp", "gold", "veg-oil", "soybean", "livestock",
    ]

    /// Reuters-21578 ApteMod restricted to `reutersTopics`: title and body, labels outside the
    /// 20 dropped, documents left with none dropped.
    public static func reuters(dataDirectory: String) throws -> LabeledSplit {
        let docs = try Corpus.readJSONL(dataDirectory + "/reuters/reuters21578-aptemod90.jsonl.gz").compactMap { doc -> CorpusDocument? in
            var d = doc
            d.labels = doc.labels.filter { reutersTopics.contains($0) }
            return d.labels.isEmpty ? nil : d
        }
        let titled = docs.map { doc -> CorpusDocument in
            var d = doc
            if let t = doc.fields["title"], !t.isEmpty { d.text = t + "\n" + d.text }
            return d
        }
        return LabeledSplit(train: titled.filter { $0.split == "train" }, test: titled.filter { $0.split == "test" })
    }

    /// Loads `name` ("20news" or "reuters").
    public static func load(_ name: String, dataDirectory: String) throws -> LabeledSplit {
        switch name {
        case "20news": return try twentyNewsgroups(dataDirectory: dataDirectory)
        case "reuters": return try reuters(dataDirectory: dataDirectory)
        default: throw CorpusError.unreadable(path: name, reason: "unknown dataset; use 20news or reuters")
        }
    }
}
