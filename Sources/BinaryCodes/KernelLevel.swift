import CHammingKernels

/// Which build of the popcount kernels runs. `best` is chosen once from the CPU
/// (`__builtin_cpu_supports`); the others exist so tests can check every build against the
/// reference and benchmarks can compare them.
public enum KernelLevel: String, CaseIterable, Sendable {
    /// Plain C, popcount by shifts and masks: runs on any CPU.
    case portable
    /// Scalar POPCNT instruction (x86_64 with POPCNT).
    case popcnt
    /// AVX2 nibble-table popcount, four queries per pass (x86_64 with AVX2).
    case avx2

    /// The fastest build this CPU runs.
    public static let best: KernelLevel = {
        switch tq_best_level() {
        case TQ_LEVEL_AVX2: return .avx2
        case TQ_LEVEL_POPCNT: return .popcnt
        default: return .portable
        }
    }()

    /// Whether this CPU can run this build.
    public var isSupported: Bool { tq_level_supported(cLevel) != 0 }

    var cLevel: tq_level_t {
        switch self {
        case .portable: return TQ_LEVEL_PORTABLE
        case .popcnt: return TQ_LEVEL_POPCNT
        case .avx2: return TQ_LEVEL_AVX2
        }
    }
}
