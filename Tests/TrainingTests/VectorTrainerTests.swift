import BinaryCodes
import Encoder
import Foundation
import TestSupport
import Testing
@testable import Training

@Suite struct VectorTrainerTests {
    static let data = clusteredVectors(count: 600, dimensions: 32, seed: 11)
    static let queries = clusteredVectors(count: 60, dimensions: 32, seed: 12)

    func tinyConfig(bits: Int = 16, format: WeightFormat = .ternary, steps: Int = 60, threads: Int = 1, hidden: Int? = nil) -> VectorTrainingConfig {
        var c = VectorTrainingConfig()
        c.bits = bits
        c.hidden = hidden
        c.weights = format
        c.steps = steps
        c.anchors = 32
        c.randomPool = 64
        c.neighborPool = 10
        c.warmupSteps = 10
        c.learningRate = 3e-3
        c.threads = threads
        return c
    }

    /// Tie-aware recall@10 of `model` on the test data, by the evaluation code.
    func recall(_ model: VectorEncoderModel) throws -> Double {
        let truth = try VectorEvaluation.exactNeighbors(database: Self.data, queries: Self.queries, metric: .cosine, k: 10)
        return try VectorEvaluation.recall(database: model.encode(Self.data), queries: model.encode(Self.queries), truth: truth)
    }

    /// The trainer's row-split product gives the same bits for any thread count (rows in fixed
    /// blocks of 64), with and without transposition, for a row count that is no multiple of 64.
    @Test(arguments: [(false, false), (false, true), (true, false)])
    func rowSplitProductIsTheSameForEveryThreadCount(transA: Bool, transB: Bool) {
        let m = 150, n = 37, k = 91
        var rng = SeededGenerator(seed: 5)
        let a = (0..<(m * k)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 997 }
        let b = (0..<(k * n)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 991 }
        let lda = transA ? m : k, ldb = transB ? k : n
        func product(threads: Int) -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            VectorTrainer.rowsGemm(transA, transB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb, &c, ldc: n, threads: threads)
            return c
        }
        let one = product(threads: 1)
        #expect(product(threads: 2) == one)
        #expect(product(threads: 3) == one)
        // And it is the product: within float rounding of a plain sum in Double.
        for (i, j) in [(0, 0), (63, 5), (64, 36), (149, 20)] {
            var sum = 0.0
            for p in 0..<k {
                let x = transA ? a[p * m + i] : a[i * k + p]
                let y = transB ? b[j * k + p] : b[p * n + j]
                sum += Double(x) * Double(y)
            }
            #expect(abs(Double(one[i * n + j]) - sum) < 1e-3)
        }
    }

    @Test func signBaselineIsTheSignOfEachDimension() {
        let model = VectorBaselines.sign(dimensions: 32)
        for r in 0..<20 {
            let v = Self.data.row(r)
            let code = model.encode(v)
            for j in 0..<32 { #expect(code[bit: j] == (v[j] > 0)) }
        }
    }

    @Test(arguments: [8, 32, 48])
    func rotationRowsAreUnitAndOrthogonalWhenTheyCanBe(bits: Int) {
        let d = 32
        let w = VectorBaselines.randomRotation(dimensions: d, bits: bits, seed: 3)
        for a in 0..<bits {
            let norm = (0..<d).reduce(Float(0)) { $0 + w[a * d + $1] * w[a * d + $1] }
            #expect(abs(norm - 1) < 1e-3)
            if bits <= d {
                for b in 0..<a {
                    let dot = (0..<d).reduce(Float(0)) { $0 + w[a * d + $1] * w[b * d + $1] }
                    #expect(abs(dot) < 1e-3)
                }
            }
        }
    }

    @Test func itqProjectionIsOrthonormalAndCentred() throws {
        let d = 32, bits = 16
        let fit = VectorBaselines.itqProjection(Self.data, bits: bits, iterations: 20, seed: 1, metric: .cosine, maxRows: 10_000)
        for a in 0..<bits {
            for b in 0...a {
                let dot = (0..<d).reduce(Float(0)) { $0 + fit.weights[a * d + $1] * fit.weights[b * d + $1] }
                #expect(abs(dot - (a == b ? 1 : 0)) < 2e-3)
            }
        }
        // Centred: every bit is near 50% ones over the training data.
        let model = try VectorBaselines.itq(Self.data, bits: bits, iterations: 20, seed: 1)
        let codes = model.encode(Self.data)
        for j in 0..<bits {
            let ones = (0..<codes.count).filter { codes[$0][bit: j] }.count
            #expect(ones > 150 && ones < 450, "bit \(j): \(ones) of 600")
        }
    }

    @Test func itqBeatsARandomRotationOnStructuredData() throws {
        let itq = try recall(VectorBaselines.itq(Self.data, bits: 16, seed: 1))
        let rotation = try recall(VectorBaselines.rotation(dimensions: 32, bits: 16, seed: 1))
        #expect(itq > rotation, "ITQ \(itq), rotation \(rotation)")
    }

    @Test(arguments: [0, nil] as [Int?])
    func trainingIsReproducibleAcrossRunsAndThreadCounts(hidden: Int?) throws {
        let a = try VectorTrainer(config: tinyConfig(steps: 20, threads: 1, hidden: hidden)).train(Self.data)
        let b = try VectorTrainer(config: tinyConfig(steps: 20, threads: 1, hidden: hidden)).train(Self.data)
        let c = try VectorTrainer(config: tinyConfig(steps: 20, threads: 2, hidden: hidden)).train(Self.data)
        #expect(a.config.hidden == (hidden == 0 ? nil : 64))
        #expect(try ModelFile.encode(a) == ModelFile.encode(b))
        #expect(try ModelFile.encode(a) == ModelFile.encode(c))
        var other = tinyConfig(steps: 20, hidden: hidden)
        other.seed = 43
        #expect(try ModelFile.encode(VectorTrainer(config: other).train(Self.data)) != ModelFile.encode(a))
    }

    @Test(arguments: [WeightFormat.ternary, .float, .binary], [0, 48])
    func trainingLowersTheLossAndKeepsTheFormat(format: WeightFormat, hidden: Int) throws {
        var losses: [Float] = []
        var config = tinyConfig(format: format, steps: 200, hidden: hidden)
        config.anchors = 64
        let model = try VectorTrainer(config: config).train(Self.data) { losses.append($0.loss) }
        #expect(losses.count == 3)  // steps 1, 100, 200
        #expect(losses.last! < losses.first!, "losses \(losses)")
        #expect(model.projection.format == format && model.config.method == .trained)
        #expect(model.hiddenLayer?.format == (hidden > 0 ? format : nil) && model.hiddenLayer?.rows == (hidden > 0 ? hidden : nil))
        if format == .ternary {
            for layer in [model.projection] + (model.hiddenLayer.map { [$0] } ?? []) {
                let values = Set(layer.dequantized().enumerated().map { $0.element / layer.scales[$0.offset / layer.cols] })
                #expect(values.isSubset(of: [-1, 0, 1]))
            }
        }
    }

    /// The two factors a two-layer model starts from multiply back to the start projection.
    @Test(arguments: [32, 64, 80])
    func twoLayerStartFactorsMultiplyToTheStartProjection(hidden: Int) {
        let d = 32, bits = 16
        let w0 = VectorBaselines.randomRotation(dimensions: d, bits: bits, seed: 9).map { $0 * 3 }
        let (w1, w2) = VectorTrainer.factor(w0, bits: bits, d: d, hidden: hidden, seed: 4)
        for j in 0..<bits {
            for i in 0..<d {
                let product = (0..<hidden).reduce(Float(0)) { $0 + w2[j * hidden + $1] * w1[$1 * d + i] }
                #expect(abs(product - w0[j * d + i]) < 1e-4, "(\(j), \(i)): \(product) vs \(w0[j * d + i])")
            }
        }
    }

    @Test(arguments: [0, 40])
    func packedInferenceMatchesTheDequantisedLayers(hidden: Int) throws {
        for format in WeightFormat.allCases {
            let model = try VectorTrainer(config: tinyConfig(format: format, steps: 5, hidden: hidden)).train(Self.data)
            let w = model.projection.dequantized()
            let w1 = model.hiddenLayer?.dequantized()
            let inputs = model.projection.cols
            #expect(inputs == (hidden > 0 ? hidden : 32))
            for r in 0..<10 {
                var x = VectorMetric.cosine.prepare(Self.queries.row(r))
                if let w1 { x = (0..<hidden).map { h in (0..<32).reduce(Float(0)) { $0 + w1[h * 32 + $1] * x[$1] } } }
                let logits = model.logits(Self.queries.row(r))
                for j in 0..<16 {
                    let reference = (0..<inputs).reduce(Float(0)) { $0 + w[j * inputs + $1] * x[$1] } + model.bias[j]
                    #expect(abs(logits[j] - reference) <= 1e-4 * max(1, abs(reference)), "\(format) bit \(j)")
                }
                let code = model.encode(Self.queries.row(r))
                for j in 0..<16 { #expect(code[bit: j] == (logits[j] > 0)) }
            }
            // The batch encoder (threads, scratch per worker) gives the same codes as one at a time.
            let batch = model.encode(Self.queries, threads: 2)
            let (codes, logits) = model.codesAndLogits(Self.queries)
            for r in 0..<Self.queries.count {
                #expect(batch[r] == model.encode(Self.queries.row(r)), "\(format) row \(r)")
                #expect(codes[r] == batch[r] && logits[r] == model.logits(Self.queries.row(r)), "\(format) row \(r)")
            }
        }
    }

    @Test(arguments: [0, 40])
    func vectorModelFilesRoundTripAndAreToldApartFromTextModels(hidden: Int) throws {
        for format in WeightFormat.allCases {
            let model = try VectorTrainer(config: tinyConfig(format: format, steps: 5, hidden: hidden)).train(Self.data)
            let bytes = try ModelFile.encode(model)
            guard case .vectors(let back) = try ModelFile.decodeAny(bytes) else { Issue.record("not read as a vector model"); continue }
            #expect(back.config == model.config && back.projection == model.projection && back.bias == model.bias)
            #expect(back.hiddenLayer == model.hiddenLayer && (back.hiddenLayer == nil) == (hidden == 0))
            // A one-layer model's header has no "hidden" key, so files written before two-layer models keep their bytes;
            // two-layer models are version 3, which older readers refuse as a newer format instead of a damaged file.
            #expect(String(decoding: bytes, as: UTF8.self).contains("\"hidden\"") == (hidden > 0))
            #expect(bytes[8] == (hidden > 0 ? 3 : 2))
            if hidden > 0 {
                // A version-2 frame around a two-layer body is named as malformed, not misread.
                var relabelled = bytes
                relabelled[8] = 2
                let crc = CRC32.checksum(relabelled[..<(relabelled.count - 4)])
                for i in 0..<4 { relabelled[relabelled.count - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * i)) }
                #expect(throws: ModelFileError.malformed(path: "m", detail: "a version 2 vector model with a hidden layer")) {
                    try ModelFile.decodeAny(relabelled, path: "m")
                }
            }
            #expect(throws: ModelFileError.wrongKind(path: "m", found: "vectors", expected: "text")) { try ModelFile.decode(bytes, path: "m") }
            var damaged = bytes
            damaged[bytes.count / 2] ^= 0x10
            #expect(throws: ModelFileError.checksumMismatch(path: "m")) { try ModelFile.decodeAny(damaged, path: "m") }
        }
        let text = try ModelFile.encode(randomModel())
        guard case .text = try ModelFile.decodeAny(text) else { Issue.record("a text model read as another kind"); return }
    }

    /// The tie-aware recall against a direct count on a tiny case with ties.
    @Test func recallCountsTiesWithTheTenthAsFound() throws {
        // Database codes with distances 0, 1, 1, 1, 2, 2, ... from the zero query.
        var db = try CodeMatrix(bits: 8)
        let distances = [0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 8]
        for dist in distances { try db.append(BinaryCode(bits: 8, words: [UInt64((1 << dist) - 1)])) }
        let queries = try CodeMatrix(bits: 8, words: [0])
        // 10th smallest distance is 2: rows with distance <= 2 (0...10) count.
        let truth: [[Int32]] = [[0, 1, 2, 3, 4, 11, 12, 13, 5, 6]]
        #expect(try VectorEvaluation.recall(database: db, queries: queries, truth: truth) == 0.7)
        // Excluding row 0 (as a query's own row): the 10th smallest is still 2 (rows 1...10), row 0 is not found.
        #expect(try VectorEvaluation.recall(database: db, queries: queries, truth: truth, exclude: [0]) == 0.6)
    }
}
