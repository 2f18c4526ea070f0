// TwentyQ: binary codes, exact Hamming search and an LMDB code store, for apps.
//
// `import TwentyQ` brings in everything an app uses:
// - `BinaryCode`, `CodeMatrix`, `HammingSearch` (exact k-NN and radius search, any width from
//   1 to 4096 bits, on all cores) and `HammingReference` (the naive reference);
// - `CodeIndex`, the persistent index: add, replace and remove codes by id, search them.
// The trained text encoder arrives with the encoder work (see docs/ROADMAP.md).
@_exported import BinaryCodes
@_exported import CodeStore
@_exported import Encoder

/// Version of the TwentyQ library and CLI.
public enum TwentyQVersion {
    public static let string = "0.1.0"
}
