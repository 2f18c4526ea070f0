import CHammingKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which build of the popcount kernels runs. `best` is chosen once from the CPU
/// (`__builtin_cpu_supports`), unless the environment variable `TWENTYQ_KERNEL` names a build
/// this CPU runs (`portable`, `popcnt`, `avx2`, `avx512`): benchmarks compare builds in one binary
/// that way, and a user can step down from a build they distrust. `best` or an empty value is
/// the same as leaving it unset (as `bench search --kernel best`). Any other value is ignored
/// here (`twentyq` refuses to start with it: `environmentError`). The other cases exist so tests
/// can check every build against the reference.
public enum KernelLevel: String, CaseIterable, Sendable {
    /// Plain C, popcount by shifts and masks: runs on any CPU.
    case portable
    /// Scalar POPCNT instruction (x86_64 with POPCNT).
    case popcnt
    /// AVX2 nibble-table popcount, four queries per pass (x86_64 with AVX2).
    case avx2
    /// AVX-512 with VPOPCNTDQ (x86_64: Intel Ice Lake and later, AMD Zen 4 and later): eight
    /// queries per pass, distances eight codes at a time. Fewer than eight queries in a call go
    /// through the AVX2 kernels.
    case avx512

    /// The fastest build this CPU runs, or the one `TWENTYQ_KERNEL` names.
    public static let best: KernelLevel = {
        if let name = environmentValue, let chosen = KernelLevel(rawValue: name), chosen.isSupported {
            return chosen
        }
        return detected
    }()

    /// The environment variable that chooses `best`.
    static let environmentVariable = "TWENTYQ_KERNEL"

    /// The build `TWENTYQ_KERNEL` names; nil when it is unset, empty or `best`.
    private static var environmentValue: String? {
        guard let value = getenv(environmentVariable).map({ String(cString: $0) }), !value.isEmpty, value != "best" else { return nil }
        return value
    }

    /// Why `TWENTYQ_KERNEL` cannot be followed (an unknown build, or one this CPU does not run);
    /// nil when it is unset or names a build this CPU runs.
    package static var environmentError: String? {
        guard let name = environmentValue else { return nil }
        let runnable = allCases.filter(\.isSupported).map(\.rawValue).joined(separator: ", ")
        guard let level = KernelLevel(rawValue: name) else {
            return "\(environmentVariable)=\(name) names no kernel build; use one of \(runnable), or best (the fastest)"
        }
        guard level.isSupported else {
            return "\(environmentVariable)=\(name): this CPU does not run the \(name) build; use one of \(runnable), or best (the fastest)"
        }
        return nil
    }

    /// The fastest build this CPU runs, whatever `TWENTYQ_KERNEL` says.
    private static let detected: KernelLevel = {
        switch tq_best_level() {
        case TQ_LEVEL_AVX512: return .avx512
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
        case .avx512: return TQ_LEVEL_AVX512
        }
    }
}
