// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "TwentyQ",
    // macOS 14: Hummingbird 2's minimum (the `serve` command); TwentyQ itself asks for no more.
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "TwentyQ", targets: ["TwentyQ"]),
        // Training models from an app (links OpenBLAS); apps that ship a model file need only TwentyQ.
        .library(name: "TwentyQTraining", targets: ["Training"]),
        .library(name: "TwentyQPostgres", targets: ["TwentyQPostgres"]),
        .executable(name: "twentyq", targets: ["twentyq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `twentyq serve`: HTTP server, graceful shutdown, logs and Prometheus metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // Codes in PostgreSQL (issue #19).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
    ],
    targets: [
        // LMDB from the system (Debian: liblmdb-dev). Module map and shim only; no Swift API.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"]), .brew(["lmdb"])]
        ),
        // Popcount scan kernels in C, compiled for three CPU levels and chosen at run time,
        // so a plain `swift build -c release` gets hardware popcount without unsafe flags.
        .target(name: "CHammingKernels"),
        // Faults inside LMDB on a damaged file, told apart from any other (the CLI's "damaged"
        // exit; the index fuzzing test's recovery).
        .target(name: "CMappedFaults", dependencies: ["CLMDB"]),
        // zlib from the system (Debian: zlib1g-dev), for its fast CRC-32 and for reading a
        // folder's gzip files.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        // Codes, the naive reference distance, k-NN and radius search over code matrices.
        .target(name: "BinaryCodes", dependencies: ["CHammingKernels", "CZlib"]),
        // The LMDB wrapper and TwentyQ's schema on top of it.
        .target(name: "CodeStore", dependencies: ["CLMDB", "CMappedFaults", "BinaryCodes", "CHammingKernels"]),
        // AVX2 builds of the encoder's inference loops (ternary rows, the query bits' sign
        // projections), chosen at run time like the popcount kernels; Encoder keeps the Swift
        // loops as their reference.
        .target(name: "CInferenceKernels"),
        // Text to codes: featurizer, low-bit weight formats, packed inference, model files.
        .target(name: "Encoder", dependencies: ["BinaryCodes", "Ingest", "CInferenceKernels"]),
        // Input: JSONL corpora, folder walks, HTML to text, gzip files. Shared by `index`,
        // `train` and the trainer; depends on Foundation and zlib.
        .target(name: "Ingest", dependencies: ["CZlib"]),
        // OpenBLAS (Debian: libopenblas0), loaded with dlopen when training starts, so the
        // commands and apps that do not train neither link nor start it.
        .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // Quantisation-aware training, objectives, evaluation. Apps need not build it.
        .target(name: "Training", dependencies: ["Ingest", "Encoder", "BinaryCodes", "COpenBLAS"]),
        // The public facade apps import.
        .target(name: "TwentyQ", dependencies: ["BinaryCodes", "CodeStore", "Encoder", "Ingest"]),
        // `twentyq serve`: the JSON API over HTTP, the search page, access tokens and metrics.
        // HTTP only: every answer comes from the TwentyQ library, as the CLI's do.
        .target(
            name: "Serve",
            dependencies: [
                "TwentyQ",
                "PostgresStore",
                "TwentyQPostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("Resources/openapi.json"), .copy("Resources/page.html")]
        ),
        // Codes in PostgreSQL: a table per index, searched by Hamming distance in SQL
        // (bit_count(code # query)), beside the LMDB store (docs/SCALE.md).
        .target(
            name: "PostgresStore",
            dependencies: [
                "BinaryCodes", "CodeStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The command-line tool.
        .target(name: "TwentyQPostgres", dependencies: ["TwentyQ", "PostgresStore", "BinaryCodes", "CodeStore", "Encoder"]),
        .executableTarget(
            name: "twentyq",
            dependencies: [
                "TwentyQ",
                // The CLI also uses the rooms behind the facade (benchmarks, maintenance).
                "BinaryCodes",
                "CodeStore",
                "Encoder",
                "Ingest",
                "Training",
                "CMappedFaults",
                "Serve",
                "PostgresStore",
                "TwentyQPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "TestSupport", dependencies: ["BinaryCodes", "Encoder", "CMappedFaults"], path: "Tests/TestSupport"),
        .testTarget(name: "BinaryCodesTests", dependencies: ["BinaryCodes", "TestSupport"]),
        .testTarget(name: "CodeStoreTests", dependencies: ["CodeStore", "TestSupport"]),
        .testTarget(name: "EncoderTests", dependencies: ["Encoder", "TestSupport"]),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Ingest", "Encoder", "TestSupport"]),
        .testTarget(name: "TwentyQCLITests", dependencies: ["TwentyQ", "BinaryCodes", "CodeStore", "Encoder", "Ingest", "Training", "TestSupport", "Serve", "TwentyQPostgres", "twentyq"]),
        .testTarget(name: "PostgresStoreTests", dependencies: ["PostgresStore", "BinaryCodes", "CodeStore", "TestSupport"]),
    ]
)
