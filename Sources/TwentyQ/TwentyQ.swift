// TwentyQ: binary codes, exact Hamming search and an LMDB code store, for apps.
//
// `import TwentyQ` brings in what an app uses and nothing else (docs/API.md lists it, and a
// test keeps that list in step and free of storage, pointer and kernel types):
// - `DocumentIndex` (texts), `VectorIndex` (dense embeddings) and `CodeIndex` (ready-made
//   codes), each persistent in LMDB, and their hits, reports and errors;
// - models: `EncoderModel` and `VectorEncoderModel`, `ModelFile`, `DefaultModel`, `VectorFile`;
// - files to text: `DocumentFile` (PDF, office documents, RTF, HTML, man pages, encodings);
// - codes and in-memory search: `BinaryCode`, `CodeMatrix`, `HammingSearch`, `SearchOptions`.
// The modules behind them (BinaryCodes, CodeStore, Encoder, Ingest) are this package's own rooms, not
// re-exported: their other public declarations serve the CLI and the trainer.
import BinaryCodes
import CodeStore
import Encoder
import Ingest

/// Version of the TwentyQ library and CLI.
public enum TwentyQVersion {
    public static let string = "0.1.0"
}

// Codes and in-memory search.
/// A binary code of 1 to 4096 bits, in 64-bit words (bit i is bit i % 64 of word i / 64).
public typealias BinaryCode = BinaryCodes.BinaryCode
/// Codes of one width, contiguous in memory: queries for a search, or a set to search in.
public typealias CodeMatrix = BinaryCodes.CodeMatrix
/// Errors about codes: a width out of range, a bad hex string, mismatched widths, an invalid k.
public typealias CodeError = BinaryCodes.CodeError
/// Exact k-nearest-neighbour and radius search over a `CodeMatrix` in memory, on all cores.
public typealias HammingSearch = BinaryCodes.HammingSearch
/// One neighbour of an in-memory search: its row and its Hamming distance.
public typealias Neighbor = BinaryCodes.Neighbor
/// How a search runs (threads, kernel, multi-index tables); results never depend on it.
public typealias SearchOptions = BinaryCodes.SearchOptions
/// Whether a search goes through the multi-index tables: automatically, always or never.
public typealias MultiIndexUse = BinaryCodes.MultiIndexUse
/// A seeded, reproducible random number generator (SplitMix64).
public typealias SeededGenerator = BinaryCodes.SeededGenerator

// The index of ready-made codes, and what every index reports.
/// A persistent index of ready-made codes in LMDB, keyed by id (the <doc:Codes> article).
public typealias CodeIndex = CodeStore.CodeIndex
/// One item to add to a `CodeIndex`: id, code and optional metadata bytes.
public typealias IndexEntry = CodeStore.IndexEntry
/// One result of any index's search: id, Hamming distance, score, BM25 and fields.
public typealias SearchHit = CodeStore.SearchHit
/// The name of `CodeIndex`'s hit before every index returned `SearchHit`.
@available(*, deprecated, renamed: "SearchHit")
public typealias IndexHit = CodeStore.SearchHit
/// What an `add` did: items added, replaced and left unchanged.
public typealias AddSummary = CodeStore.AddSummary
/// Errors of the indexes: a missing or damaged index, a model mismatch, bad ids or settings.
public typealias IndexError = CodeStore.IndexError
/// What an index holds: documents, vectors or codes.
public typealias IndexKind = CodeStore.IndexKind
/// Sizes, width, counts, model fingerprint and table statistics of an index.
public typealias IndexInfo = CodeStore.IndexInfo
/// LMDB's page statistics of one of an index's tables.
public typealias TableStatistics = CodeStore.TableStatistics
/// When and how an index keeps multi-index tables for searches at small radius.
public typealias MultiIndexSettings = CodeStore.MultiIndexSettings
/// Whether an index's multi-index tables are built, and their sizes.
public typealias MultiIndexStatus = CodeStore.MultiIndexStatus
/// What `CodeIndex.check` found: each table verified, and any damage.
public typealias CheckReport = CodeStore.CheckReport
/// What compacting an index did: documents copied, bytes before and after.
public typealias CompactReport = CodeStore.CompactReport
/// What `CodeIndex.repair(at:)` kept and dropped from a damaged index.
public typealias RepairReport = CodeStore.RepairReport
/// How text queries are ranked: shortlist size, rescoring, BM25 settings.
public typealias RankingOptions = CodeStore.RankingOptions
/// How a text query's shortlist is ordered: by BM25, fused with the code score, or by codes alone.
public typealias Rescoring = CodeStore.Rescoring
/// Pseudo-relevance feedback (RM3) of typed queries: documents, terms, original query weight.
public typealias RelevanceFeedback = CodeStore.RelevanceFeedback

// Files to text.
/// The text of one file as `twentyq index` reads it: PDF, Word, Excel, PowerPoint, OpenDocument,
/// EPUB, RTF, HTML, manual pages, `.gz`, text in UTF-8, UTF-16 or Windows-1252.
public typealias DocumentFile = Ingest.DocumentFile

// Models and input files.
/// A trained text model: text to features to a binary code through low-bit layers.
public typealias EncoderModel = Encoder::EncoderModel
/// A text model's shape: vocabulary, featurizer, layer widths, bits and weight format.
public typealias ModelConfig = Encoder::ModelConfig
/// How a text model turns text into tokens: normalisation, case folding, token limits, bigrams.
public typealias Featurizer = Encoder::Featurizer
/// A text model's query bits: signs of random projections of a text's hashed TF-IDF.
public typealias LexicalProjection = Encoder::LexicalProjection
/// The shape of a model's query bits: width, hash buckets, seed.
public typealias ProjectionConfig = Encoder::ProjectionConfig
/// How a model's weights are stored: ternary with a scale, 4-bit float (e3m0, e2m1), 1-bit or float.
public typealias WeightFormat = Encoder::WeightFormat
/// Reading and writing model files (.tqm), with checksums and fingerprints.
public typealias ModelFile = Encoder::ModelFile
/// A model read from a file: a text model or a vector model.
public typealias AnyModel = Encoder::AnyModel
/// Errors reading a model file: missing, truncated, damaged or of another version.
public typealias ModelFileError = Encoder::ModelFileError
/// The shipped text model: found in the package's resources, or at `TWENTYQ_DEFAULT_MODEL`.
public typealias DefaultModel = Encoder::DefaultModel
/// Why a bit of a text's code is set: the terms that pushed it most.
public typealias BitExplanation = Encoder::BitExplanation
/// Dense vectors of one dimension, row by row, with optional ids and metadata.
public typealias VectorSet = Encoder::VectorSet
/// Reading and writing vectors as .npy, .fvecs or JSONL.
public typealias VectorFile = Encoder::VectorFile
/// Errors reading a vector file: format, dimensions, values that are not finite.
public typealias VectorFileError = Encoder::VectorFileError
/// A trained vector model: dense embeddings to binary codes (the <doc:Vectors> article).
public typealias VectorEncoderModel = Encoder::VectorEncoderModel
/// A vector model's shape: dimensions, method, metric, bits and weight format.
public typealias VectorModelConfig = Encoder::VectorModelConfig
/// How a vector model makes codes: trained low-bit layers, ITQ, a random rotation or the signs themselves.
public typealias VectorMethod = Encoder::VectorMethod
/// The similarity a vector model and its rescoring use: cosine or dot product.
public typealias VectorMetric = Encoder::VectorMetric
/// How a vector index stores vectors beside their codes: int8, float16 or float32.
public typealias VectorStorage = Encoder::VectorStorage
