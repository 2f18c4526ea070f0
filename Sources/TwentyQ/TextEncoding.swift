import BinaryCodes
import CodeStore
import Encoder

/// How texts become what an index stores and what its ranked search asks with: codes from a
/// text model, term records from `LexicalAnalyzer`, and queries with logits. One place for both
/// stores: a `DocumentIndex` (LMDB) and an index of text documents in PostgreSQL.
package struct TextEncoding: Sendable {
    package let model: EncoderModel

    package init(model: EncoderModel) { self.model = model }

    /// The entries that store `documents`: code, terms, and the document's fields with its
    /// content hash ("hash"; `contentHashes` when the caller has them already) and snippet
    /// ("snippet"). Everything per document (analysis, code, snippet, metadata JSON) runs in one
    /// parallel pass: built after the codes on one thread, the snippets and JSON were a fifth of
    /// indexing's serial time (docs/BENCHMARKS.md).
    /// - Throws: the first document's (in input order) `DocumentIndex.encodeFields` error.
    package func entries(_ documents: [Document], contentHashes: [String]? = nil, threads: Int) throws -> [IndexEntry] {
        precondition(contentHashes == nil || contentHashes!.count == documents.count)
        var out = [Result<IndexEntry, Error>?](repeating: nil, count: documents.count)
        let workers = max(1, min(threads, documents.count / 64))
        out.withUnsafeMutableBufferPointer { buffer in
            parallelFor(iterations: workers) { w in
                for i in stride(from: w, to: documents.count, by: workers) {
                    let d = documents[i]
                    let (features, hashes) = model.analyze(d.text)
                    let code = model.encode(features: features, termHashes: hashes)
                    var fields = d.fields
                    fields["hash"] = contentHashes?[i] ?? DocumentIndex.contentHash(d.text)
                    fields["snippet"] = DocumentIndex.snippet(d.text)
                    buffer[i] = Result {
                        IndexEntry(id: d.id, code: code, metadata: try DocumentIndex.encodeFields(fields), terms: TermCounts(terms: hashes))
                    }
                }
            }
        }
        return try out.map { try $0!.get() }
    }

    /// The queries for a ranked search: code, logits (with `ranking.asymmetric`), terms, and
    /// whether the model knows any of the text's terms. A pasted document (more distinct terms
    /// than `ranking.maxQueryTerms`) ranked by BM25 gets no logits: its 5,000-document
    /// shortlist is then chosen by Hamming distance, as good for it on the training-side sets
    /// (docs/BENCHMARKS.md: MAP 0.789 against 0.790 on unseen passages, label precision 0.456
    /// against 0.455 on 20 Newsgroups) and without scoring four times as many codes.
    package func rankedQueries(_ texts: [String], ranking: RankingOptions, threads: Int) -> [RankedQuery] {
        var out = [RankedQuery?](repeating: nil, count: texts.count)
        let workers = max(1, min(threads, texts.count / 64))
        out.withUnsafeMutableBufferPointer { buffer in
            parallelFor(iterations: workers) { w in
                for i in stride(from: w, to: texts.count, by: workers) {
                    let (features, terms) = model.analyze(texts[i])
                    let logits = model.logits(features: features, termHashes: terms)
                    let code = EncoderModel.code(logits: logits)
                    let typed = ranking.isTyped(terms)
                    let pasted = ranking.rescoring != .none && !typed
                    buffer[i] = RankedQuery(code: code, logits: ranking.asymmetric && !pasted ? queryLogits(logits, typed: typed) : nil,
                                            terms: terms, codeIsInformative: !features.isEmpty, countedWords: countedWords(typed: typed))
                }
            }
        }
        return out.map { $0! }
    }

    /// The words of the code a typed query's Hamming pre-selection counts: with query bits, the
    /// words that hold them (from the word holding the first query bit: the trained bits in it,
    /// when their count is not a multiple of 64, count too), as its asymmetric score weighs them
    /// alone (`queryLogits`), under `--hamming` too. Else nil: every bit counts.
    func countedWords(typed: Bool) -> Range<Int>? {
        guard typed, model.projection != nil else { return nil }
        return model.config.bits / 64 ..< BinaryCode.wordCount(bits: model.bits)
    }

    /// The logits a query's asymmetric score weighs the bits by. With query bits, a typed query
    /// (at most `maxQueryTerms` distinct terms) is scored by them alone: the trained bits'
    /// logits are set to 0, since those bits were trained for document-to-document similarity
    /// and a few binarised words carry little of it (Cranfield, trained bits alone: MAP 0.052;
    /// query bits alone: docs/EVALUATION.md). A pasted document keeps every bit's logit.
    func queryLogits(_ logits: [Float], typed: Bool) -> [Float] {
        guard typed, model.projection != nil else { return logits }
        var out = logits
        for b in 0 ..< model.config.bits { out[b] = 0 }
        return out
    }
}
