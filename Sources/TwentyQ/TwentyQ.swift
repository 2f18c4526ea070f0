// TwentyQ: binary codes, exact Hamming search and an LMDB code store, for apps.
//
// `import TwentyQ` brings in what an app uses and nothing else (docs/API.md lists it, and a
// test keeps that list in step and free of storage, pointer and kernel types):
// - `DocumentIndex` (texts), `VectorIndex` (dense embeddings) and `CodeIndex` (ready-made
//   codes), each persistent in LMDB, and their hits, reports and errors;
// - models: `EncoderModel` and `VectorEncoderModel`, `ModelFile`, `DefaultModel`, `VectorFile`;
// - codes and in-memory search: `BinaryCode`, `CodeMatrix`, `HammingSearch`, `SearchOptions`.
// The modules behind them (BinaryCodes, CodeStore, Encoder) are this package's own rooms, not
// re-exported: their other public declarations serve the CLI and the trainer.
import BinaryCodes
import CodeStore
import Encoder

/// Version of the TwentyQ library and CLI.
public enum TwentyQVersion {
    public static let string = "0.1.0"
}

// Codes and in-memory search.
public typealias BinaryCode = BinaryCodes.BinaryCode
public typealias CodeMatrix = BinaryCodes.CodeMatrix
public typealias CodeError = BinaryCodes.CodeError
public typealias HammingSearch = BinaryCodes.HammingSearch
public typealias Neighbor = BinaryCodes.Neighbor
public typealias SearchOptions = BinaryCodes.SearchOptions
public typealias MultiIndexUse = BinaryCodes.MultiIndexUse
/// A seeded, reproducible random number generator (SplitMix64).
public typealias SeededGenerator = BinaryCodes.SeededGenerator

// The index of ready-made codes, and what every index reports.
public typealias CodeIndex = CodeStore.CodeIndex
public typealias IndexEntry = CodeStore.IndexEntry
public typealias IndexHit = CodeStore.IndexHit
public typealias AddSummary = CodeStore.AddSummary
public typealias IndexError = CodeStore.IndexError
public typealias IndexKind = CodeStore.IndexKind
public typealias IndexInfo = CodeStore.IndexInfo
public typealias TableStatistics = CodeStore.TableStatistics
public typealias MultiIndexSettings = CodeStore.MultiIndexSettings
public typealias MultiIndexStatus = CodeStore.MultiIndexStatus
public typealias CheckReport = CodeStore.CheckReport
public typealias CompactReport = CodeStore.CompactReport
public typealias RepairReport = CodeStore.RepairReport
public typealias RankingOptions = CodeStore.RankingOptions
public typealias Rescoring = CodeStore.Rescoring

// Models and input files.
public typealias EncoderModel = Encoder::EncoderModel
public typealias ModelConfig = Encoder::ModelConfig
public typealias Featurizer = Encoder::Featurizer
public typealias WeightFormat = Encoder::WeightFormat
public typealias ModelFile = Encoder::ModelFile
public typealias AnyModel = Encoder::AnyModel
public typealias ModelFileError = Encoder::ModelFileError
public typealias DefaultModel = Encoder::DefaultModel
public typealias BitExplanation = Encoder::BitExplanation
public typealias VectorSet = Encoder::VectorSet
public typealias VectorFile = Encoder::VectorFile
public typealias VectorFileError = Encoder::VectorFileError
public typealias VectorEncoderModel = Encoder::VectorEncoderModel
public typealias VectorModelConfig = Encoder::VectorModelConfig
public typealias VectorMethod = Encoder::VectorMethod
public typealias VectorMetric = Encoder::VectorMetric
public typealias VectorStorage = Encoder::VectorStorage
