import BinaryCodes
import Encoder
import Foundation
import TestSupport
import Testing
@testable import Training

@Suite struct TrainingNetworkTests {
    static let texts = [
        "nasa space shuttle launch orbit", "space orbit moon rocket launch", "orbit of the moon and space",
        "god bible church faith", "faith in god and the church", "bible study church god",
        "hockey game team season", "the team won the hockey game", "game season playoffs team",
        "car engine oil speed", "engine of the car", "speed car road engine",
    ]

    func tinyConfig(bits: Int = 6, format: WeightFormat = .float) -> TrainingConfig {
        var c = TrainingConfig()
        c.bits = bits
        c.hidden = 5
        c.weights = format
        c.minDocumentFrequency = 1
        c.maxDocumentRatio = 1
        c.bigrams = false
        c.batchSize = 4
        c.epochs = 1
        c.threads = 1
        return c
    }

    /// Every analytic gradient against central finite differences, in the relaxed mode (bits are
    /// 2p - 1, so the whole network is differentiable) with float weights.
    @Test(arguments: [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (3.0, 2.0)], Objective.allCases)
    func backwardPassesMatchFiniteDifferences(balance: (Double, Double), objective: Objective) throws {
        let (balance, decorrelation) = balance
        var config = tinyConfig()
        config.objective = objective
        config.balanceWeight = Float(balance)
        config.decorrelationWeight = Float(decorrelation)
        let trainer = Trainer(config: config)
        var (vocabulary, docs) = trainer.prepare(Self.texts)
        var rng = SeededGenerator(seed: 3)
        for i in docs.indices { docs[i].targetBits = (0..<config.bits).map { _ in Float(rng.next() % 2) } }
        let unigram = [Float](repeating: 1 / Float(vocabulary.count), count: vocabulary.count)
        let net = TrainingNetwork(config: config, vocabularySize: vocabulary.count, unigram: unigram, rng: &rng)
        // Move the decoder and biases away from their special initial values.
        for param in net.parameters { for i in 0..<param.latent.count { param.latent[i] += 0.3 * rng.normal() } }
        let batch = docs[0..<5]
        _ = net.lossAndGradients(batch, mode: .relaxed, rng: &rng)
        for param in net.parameters {
            let analytic = param.grad.array
            for i in Set((0..<6).map { $0 * param.latent.count / 6 }) {
                let saved = param.latent[i]
                let eps: Float = 2e-3
                param.latent[i] = saved + eps
                param.requantize(threads: 1)
                let plus = net.lossAndGradients(batch, mode: .relaxed, rng: &rng).total
                param.latent[i] = saved - eps
                param.requantize(threads: 1)
                let minus = net.lossAndGradients(batch, mode: .relaxed, rng: &rng).total
                param.latent[i] = saved
                param.requantize(threads: 1)
                let numeric = (plus - minus) / (2 * eps)
                #expect(abs(numeric - analytic[i]) <= 2e-3 + 0.03 * abs(numeric),
                        "\(param.name)[\(i)]: numeric \(numeric), analytic \(analytic[i])")
            }
        }
    }

    @Test(arguments: [WeightFormat.ternary, .float, .fp4e3m0], [Objective.spectral, .reconstruction])
    func aTinyOverfitRunLowersTheLoss(format: WeightFormat, objective: Objective) throws {
        var config = tinyConfig(bits: 16, format: format)
        config.objective = objective
        config.neighbors = 3
        config.hidden = 16
        config.epochs = 60
        config.warmupSteps = 5
        config.learningRate = 0.02
        var losses: [Float] = []
        _ = try Trainer(config: config).train(texts: Self.texts) { losses.append($0.losses.reconstruction + $0.losses.targetBits) }
        #expect(losses.count == 60)
        #expect(losses.first! > 0)
        #expect(losses.last! < 0.8 * losses.first!, "\(losses.first!) -> \(losses.last!)")
    }

    /// The teacher objective learns the given bits: one code per topic (3 texts each), and
    /// after training the model's codes of the training texts agree with their targets on
    /// almost every bit; targets are refused when their count or width is wrong.
    @Test func theTeacherObjectiveLearnsTheGivenBits() throws {
        var config = tinyConfig(bits: 16, format: .ternary)
        config.objective = .teacher
        config.hidden = 16
        config.epochs = 80
        config.warmupSteps = 5
        config.learningRate = 0.02
        var rng = SeededGenerator(seed: 8)
        let topics = try (0..<4).map { _ in try BinaryCode.random(bits: 16, using: &rng) }
        let targets = Self.texts.indices.map { topics[$0 / 3] }
        let model = try Trainer(config: config).train(texts: Self.texts, targets: targets)
        let agreement = zip(Self.texts, targets).map { text, target in
            let code = model.encode(text)
            return (0..<16).filter { code[bit: $0] == target[bit: $0] }.count
        }.reduce(0, +)
        #expect(Double(agreement) / Double(16 * Self.texts.count) >= 0.9, "\(agreement) of \(16 * Self.texts.count) bits")
        #expect(throws: TrainingError.self) { try Trainer(config: config).train(texts: Self.texts, targets: Array(targets.dropLast())) }
        #expect(throws: TrainingError.self) { try Trainer(config: config).train(texts: Self.texts) }
        var spectral = config
        spectral.objective = .spectral
        #expect(throws: TrainingError.self) { try Trainer(config: spectral).train(texts: Self.texts, targets: targets) }
    }

    @Test func theSameSeedGivesTheSameModelFileByteForByte() throws {
        var config = tinyConfig(bits: 16, format: .ternary)
        config.epochs = 3
        config.threads = 2
        let a = try ModelFile.encode(try Trainer(config: config).train(texts: Self.texts))
        config.threads = 1 // the thread count must not matter
        let b = try ModelFile.encode(try Trainer(config: config).train(texts: Self.texts))
        config.seed = 43
        let c = try ModelFile.encode(try Trainer(config: config).train(texts: Self.texts))
        #expect(a == b)
        #expect(a != c)
    }

    /// The trainer's forward pass (fake-quantised floats, BLAS) and inference (packed weights)
    /// give the same logits and so the same codes.
    @Test(arguments: WeightFormat.allCases)
    func trainingForwardAndPackedInferenceAgree(format: WeightFormat) throws {
        var config = tinyConfig(bits: 16, format: format)
        config.hidden = 20
        config.epochs = 2
        let trainer = Trainer(config: config)
        let (vocabulary, docs) = trainer.prepare(Self.texts)
        let network = trainer.train(vocabulary: vocabulary, docs: docs) { _ in }
        let model = trainer.export(network, vocabulary: vocabulary, documents: docs.count)
        let trainingLogits = network.logits(docs[...])
        for (doc, expected) in zip(docs, trainingLogits) {
            let got = model.logits(doc.features)
            for (a, b) in zip(got, expected) { #expect(abs(a - b) <= 1e-4 * max(1, abs(b))) }
        }
    }

    @Test func tooLittleTextIsRefusedWithAReason() {
        #expect { try Trainer(config: tinyConfig(bits: 16)).train(texts: ["", "   "]) } throws: { "\($0)".contains("too small to train on") }
    }

    @Test func theScheduleWarmsUpThenDecays() {
        var config = TrainingConfig()
        config.warmupSteps = 10
        config.learningRate = 1
        let t = Trainer(config: config)
        #expect(t.learningRate(step: 5, total: 110) == 0.5)
        #expect(t.learningRate(step: 10, total: 110) == 1)
        #expect(abs(t.learningRate(step: 110, total: 110) - config.minLearningRateRatio) < 1e-6)
        #expect(t.learningRate(step: 60, total: 110) < 1 && t.learningRate(step: 60, total: 110) > config.minLearningRateRatio)
    }
}

@Suite struct EvaluationTests {
    @Test func precisionAveragesOverTieOrders() throws {
        // Database: 4 codes at distance 0 from the query (2 relevant), 2 at distance 64.
        let zero = try BinaryCode(zeroBits: 64), far = try BinaryCode(bits: 64, words: [~0])
        let db = try CodeMatrix(bits: 64, words: [zero, zero, zero, zero, far, far].flatMap(\.words))
        let queries = try CodeMatrix(bits: 64, words: zero.words)
        let labels: [UInt64] = [1, 2, 1, 2, 1, 1]
        // k = 2: both places go to the 4-way tie at distance 0, half of which is relevant.
        #expect(RetrievalEvaluation.hammingPrecision(database: db, dbLabels: labels, queries: queries, queryLabels: [1], k: 2) == 0.5)
        // k = 5: the 4 tied (2 relevant) + 1 of the 2 far ones (both relevant): 3/5.
        #expect(abs(RetrievalEvaluation.hammingPrecision(database: db, dbLabels: labels, queries: queries, queryLabels: [1], k: 5) - 0.6) < 1e-12)
    }

    @Test func cosinePrecisionRanksByScore() {
        let db = [SparseVector(indices: [0], values: [1]), SparseVector(indices: [1], values: [1]), SparseVector(indices: [0, 1], values: [0.8, 0.6])]
        let q = [SparseVector(indices: [0], values: [1])]
        #expect(RetrievalEvaluation.cosinePrecision(database: db, dbLabels: [1, 2, 2], queries: q, queryLabels: [1], dimension: 2, k: 1) == 1)
        #expect(RetrievalEvaluation.cosinePrecision(database: db, dbLabels: [1, 2, 2], queries: q, queryLabels: [1], dimension: 2, k: 2) == 0.5)
    }

    @Test func bitStatisticsMeasureBalanceAndCorrelation() {
        let codes: [[Bool]] = [[true, true, false], [false, false, false], [true, true, true], [false, false, true]]
        let stats = BitStatistics(codes: codes)
        #expect(stats.frequencies == [0.5, 0.5, 0.5])
        // bits 0 and 1 identical (corr 1), bit 2 independent of both (corr 0): mean |corr| = 1/3.
        #expect(abs(stats.meanAbsCorrelation - 1.0 / 3) < 1e-12)
    }
}

@Suite struct SpectralTargetsTests {
    @Test func theKNNGraphHoldsEachDocumentsTrueNearestNeighbours() {
        var rng = SeededGenerator(seed: 9)
        let docs = (0..<60).map { _ -> SparseVector in
            let terms = Set((0..<4).map { _ in Int32(rng.next() % 12) }).sorted()
            var v = terms.map { _ in Float(rng.next() % 3 + 1) }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = v.map { $0 / norm }
            return SparseVector(indices: terms, values: v)
        }
        func cosine(_ a: SparseVector, _ b: SparseVector) -> Float {
            var s: Float = 0
            for (t, x) in zip(a.indices, a.values) { if let j = b.indices.firstIndex(of: t) { s += x * b.values[j] } }
            return s
        }
        let graph = SpectralTargets.knnGraph(docs, dimension: 12, k: 3, threads: 2)
        for i in docs.indices {
            var candidates: [(Int32, Float)] = []
            for j in docs.indices where j != i {
                let s = cosine(docs[i], docs[j])
                if s > 0 { candidates.append((Int32(j), s)) }
            }
            candidates.sort { a, b in a.1 != b.1 ? a.1 > b.1 : a.0 < b.0 }
            let brute = candidates.prefix(3)
            let edges = Dictionary(uniqueKeysWithValues: graph[i].map { ($0.0, $0.1) })
            for (j, s) in brute { #expect(abs((edges[j] ?? -1) - s) < 1e-5, "doc \(i) misses neighbour \(j)") }
        }
    }

    @Test func orthonormalisationGivesOrthonormalColumns() {
        var rng = SeededGenerator(seed: 2)
        let n = 300, m = 17
        var q = (0..<(n * m)).map { _ in rng.normal() }
        SpectralTargets.orthonormalize(&q, n: n, m: m)
        for a in 0..<m { for b in 0..<m {
            let dot = (0..<n).reduce(Float(0)) { $0 + q[a * n + $1] * q[b * n + $1] }
            #expect(abs(dot - (a == b ? 1 : 0)) < 1e-4, "columns \(a), \(b): \(dot)")
        } }
    }

    /// Two cliques joined by one edge: the leading non-trivial eigenvector separates them, so the
    /// first target bit is 1 on one clique and 0 on the other.
    @Test func theFirstTargetBitSplitsTwoClusters() {
        var graph = [[(Int32, Float)]](repeating: [], count: 20)
        for i in 0..<20 { for j in 0..<20 where i != j && (i < 10) == (j < 10) { graph[i].append((Int32(j), 1)) } }
        graph[0].append((10, 0.1)); graph[10].append((0, 0.1))
        graph = graph.map { $0.sorted { $0.0 < $1.0 } }
        let vectors = SpectralTargets.leadingEigenvectors(graph, count: 3, iterations: 300, seed: 1)
        let second = Array(vectors[20..<40])
        let signs = second.map { $0 > 0 }
        #expect(Set(signs[0..<10]).count == 1 && Set(signs[10..<20]).count == 1 && signs[0] != signs[10])
    }

    /// The columns of a step shared among threads give the same vectors to the last bit as one
    /// thread (the model file must not depend on the cores), and the stage is told after every
    /// tenth of its iterations.
    @Test func eigenvectorsAreTheSameOnAnyNumberOfThreads() {
        var rng = SeededGenerator(seed: 9)
        let n = 300
        var graph = [[(Int32, Float)]](repeating: [], count: n)
        for i in 0..<n {
            for _ in 0..<6 {
                let j = Int(rng.next() % UInt64(n))
                guard j != i else { continue }
                let w = Float(rng.next() % 100 + 1) / 100
                graph[i].append((Int32(j), w)); graph[j].append((Int32(i), w))
            }
        }
        graph = graph.map { row in Dictionary(row.map { ($0.0, $0.1) }, uniquingKeysWith: max).sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
        var told: [Int] = []
        let one = SpectralTargets.leadingEigenvectors(graph, count: 17, iterations: 50, seed: 3, threads: 1) { told.append($0) }
        #expect(told == [5, 10, 15, 20, 25, 30, 35, 40, 45])
        for threads in [2, 3, 17, 40] {
            let many = SpectralTargets.leadingEigenvectors(graph, count: 17, iterations: 50, seed: 3, threads: threads)
            #expect(many.map(\.bitPattern) == one.map(\.bitPattern), "\(threads) threads")
        }
    }
}

@Suite struct ITQTests {
    @Test func thePolarFactorIsOrthogonalAndOfARotationItself() {
        var rng = SeededGenerator(seed: 4)
        let m = 12
        let a = (0..<(m * m)).map { _ in rng.normal() }
        let p = SpectralTargets.polarFactor(a, m: m)
        for i in 0..<m { for j in 0..<m {
            let dot = (0..<m).reduce(Float(0)) { $0 + p[i * m + $1] * p[j * m + $1] }
            #expect(abs(dot - (i == j ? 1 : 0)) < 1e-3)
        } }
        var q = (0..<(m * m)).map { _ in rng.normal() }
        SpectralTargets.orthonormalize(&q, n: m, m: m)
        let again = SpectralTargets.polarFactor(q, m: m)
        for (x, y) in zip(again, q) { #expect(abs(x - y) < 1e-3) }
    }

    /// ITQ alternates two exact minimisations, so ||sign(YR) - YR||^2 never rises.
    @Test func itqNeverRaisesItsObjective() {
        var rng = SeededGenerator(seed: 12)
        let n = 400, m = 8
        var y = [Float](repeating: 0, count: n * m)
        for i in 0..<n {  // two clusters, separated along some coordinates more than others
            let cluster: Float = rng.next() % 2 == 0 ? 1 : -1
            for c in 0..<m { y[c * n + i] = rng.normal() * 0.3 + cluster * (c % 3 == 0 ? 1 : 0.2) }
        }
        func objective(_ v: [Float]) -> Float { v.reduce(Float(0)) { $0 + pow(($1 >= 0 ? 1 : -1) - $1, 2) } }
        var previous = Float.infinity
        for iterations in [1, 2, 4, 8, 16, 32] {
            let value = objective(SpectralTargets.itqRotate(y, n: n, m: m, iterations: iterations, seed: 3))
            #expect(value <= previous * 1.0001, "\(iterations) iterations: \(value) after \(previous)")
            previous = value
        }
    }

    /// Two well-separated clusters in 2-D along a diagonal: no single axis splits them, ITQ
    /// finds a rotation under which the signs do, and the quantisation error falls.
    @Test func itqReducesQuantisationError() {
        var rng = SeededGenerator(seed: 6)
        let n = 200
        var y = [Float](repeating: 0, count: 2 * n)
        for i in 0..<n {
            let side: Float = i < n / 2 ? 1 : -1
            y[i] = side + 0.05 * rng.normal()
            y[n + i] = side * 0.2 + 0.05 * rng.normal()
        }
        func error(_ v: [Float]) -> Float {
            let scale = v.map(abs).reduce(0, +) / Float(v.count)
            return v.reduce(Float(0)) { $0 + pow(($1 >= 0 ? scale : -scale) - $1, 2) }
        }
        let rotated = SpectralTargets.itqRotate(y, n: n, m: 2, iterations: 30, seed: 1)
        #expect(error(rotated) < 0.5 * error(y))
        // Both rotated coordinates now split the clusters by sign (the rotation is near 45 degrees).
        for c in 0..<2 {
            let signs = (0..<n).map { rotated[c * n + $0] >= 0 }
            #expect(Set(signs[0..<(n / 2)]).count == 1 && Set(signs[(n / 2)...]).count == 1 && signs[0] != signs[n - 1])
        }
    }
}
