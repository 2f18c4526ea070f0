import BinaryCodes
import Encoder
import Foundation

/// Every setting of vector-encoder training, with its default.
public struct VectorTrainingConfig: Codable, Equatable, Sendable {
    public var bits = 256                          // code width
    public var weights: WeightFormat = .ternary    // weight format of the projection
    public var hidden: Int? = nil                  // width of a first low-bit layer: 0 = one layer, nil = `defaultHidden(dimensions:)`
    public var metric: VectorMetric = .cosine      // the float similarity the codes imitate
    public var steps = 1_500                       // optimisation steps
    public var anchors = 256                       // anchor vectors per step
    public var neighborsPerAnchor = 4              // of each anchor's `neighborPool` nearest, drawn per step
    public var neighborPool = 50                   // nearest training vectors kept per anchor
    public var randomPool = 512                    // random training vectors added to every step's pool
    public var teacherTemperature: Float = 0.05    // softmax temperature of the float similarities
    public var learningRate: Float = 3e-3          // AdamW peak learning rate
    public var warmupSteps = 100                   // linear warm-up
    public var minLearningRateRatio: Float = 0.1   // cosine decay ends at this share of the peak
    public var weightDecay: Float = 0                // AdamW decoupled weight decay
    public var balanceWeight: Float = 1.0          // bit balance: mean(tanh(logit))^2 per bit
    public var anchorNoise: Float = 0              // norm of Gaussian noise added to each anchor (then renormalised for cosine)
    public var itqIterations = 50                  // ITQ rounds of the initial projection
    public var initialization: VectorMethod = .itq // start: .itq, or .sign (identity rows, exact in every low-bit format)
    public var maxTrainingVectors = 20_000         // evenly spaced sample of the training set
    public var seed: UInt64 = 42
    public var threads = 2                         // threads for the products (results do not depend on it)

    public init() {}

    /// The hidden width used when `hidden` is nil: twice the input dimensions (measured best; docs/VECTORS.md).
    public static func defaultHidden(dimensions: Int) -> Int { 2 * dimensions }

    /// The hidden width training uses for `dimensions` inputs (0: one layer).
    public func hiddenWidth(dimensions: Int) -> Int { hidden ?? Self.defaultHidden(dimensions: dimensions) }
}

/// One progress report of vector training.
public struct VectorTrainingProgress: Sendable {
    public var step: Int
    public var steps: Int
    /// Mean KL divergence of the step's Hamming-similarity distribution from the float one.
    public var loss: Float
    /// Share of bits whose frequency over the step's pool is within [0.35, 0.65].
    public var balancedBits: Float
    public var seconds: Double
}

/// Trains a low-bit vector encoder so that Hamming ranking follows float ranking.
///
/// The encoder is linear: by default two low-bit layers (2 d hidden, below), else one
/// (bits x dimensions), in the chosen weight format, plus a bias; bit j = logit j > 0.
/// Training is quantisation-aware: float latent weights, the quantised weights in every
/// forward pass, the gradient applied to the latent weights (straight-through),
/// re-quantisation after every AdamW step.
///
/// **Objective** (similarity distillation). Each step draws `anchors` training vectors and a
/// pool: the anchors, `neighborsPerAnchor` of each anchor's `neighborPool` float-nearest
/// vectors, and `randomPool` random ones. For anchor a and pool member p the teacher's
/// similarity is the float cosine (or dot product) c(a, p), the student's the Hamming
/// similarity of their codes, s(a, p) = (agreeing bits - differing bits) / bits. The loss is
/// the KL divergence between softmax_p(c / teacherTemperature) and softmax_p(beta s), beta
/// learnt, averaged over anchors (an anchor is left out of its own row). The codes are the
/// exact signs in the forward pass; the backward pass goes through tanh (straight-through
/// estimator for the sign). A balance penalty pushes every bit towards 50% ones.
///
/// **Two layers** (`hidden` > 0): the projection is the product of two low-bit layers,
/// W2 (bits x hidden) times W1 (hidden x dimensions), with float activations between and no
/// nonlinearity. Both are trained as above (the gradient reaches W1 through W2's quantised
/// weights). W1 starts as a random matrix with orthonormal columns (times sqrt(hidden / d)),
/// W2 as the start projection times W1's pseudo-inverse, so the product starts at the same
/// projection as one layer would. With hidden >= 2 d, the product of two ternary matrices
/// represents a near-rotation much better than one ternary matrix.
///
/// **Initialisation**: the ITQ projection (for bits <= dimensions; beyond that, ITQ for the
/// first `dimensions` bits and Gaussian rows for the rest), scaled so the logits have unit
/// standard deviation. Training therefore starts from the ITQ baseline, quantised.
public struct VectorTrainer {
    public var config: VectorTrainingConfig

    public init(config: VectorTrainingConfig) {
        self.config = config
    }

    /// The trained encoder.
    /// - Throws: `TrainingError.blasUnavailable`.
    public func train(_ set: VectorSet, progress: ((VectorTrainingProgress) -> Void)? = nil) throws -> VectorEncoderModel {
        try Dense.load()
        let c = config
        let start = Date()
        let d = set.dimensions, bits = c.bits
        let (x, n) = VectorBaselines.sample(set, maxRows: c.maxTrainingVectors, metric: c.metric)
        // Initial projection: ITQ (or the identity), scaled to unit logit deviation.
        let itqBits = min(bits, d)
        var w0: [Float], b0: [Float]
        if c.initialization == .sign {
            w0 = [Float](repeating: 0, count: itqBits * d)
            for j in 0..<itqBits { w0[j * d + j] = 1 }
            b0 = [Float](repeating: 0, count: itqBits)
        } else {
            let fit = VectorBaselines.itqProjection(VectorSet(dimensions: d, values: x), bits: itqBits, iterations: c.itqIterations,
                                                    seed: c.seed, metric: .dot, maxRows: n)
            (w0, b0) = (fit.weights, fit.bias)
        }
        if bits > d {
            var extra = VectorBaselines.randomRotation(dimensions: d, bits: bits - d, seed: c.seed &+ 1)
            let rowNorm = (0..<d).reduce(Float(0)) { $0 + w0[$1] * w0[$1] }.squareRoot()
            for i in extra.indices { extra[i] *= rowNorm }
            w0 += extra
            b0 += [Float](repeating: 0, count: bits - d)
        }
        var logits = [Float](repeating: 0, count: n * bits)
        Dense.gemm(false, true, m: n, n: bits, k: d, x, lda: d, w0, ldb: d, &logits, ldc: bits)
        var sumSq: Double = 0
        for r in 0..<n { for j in 0..<bits { let z = logits[r * bits + j] + b0[j]; sumSq += Double(z * z) } }
        let sd = Float((sumSq / Double(n * bits)).squareRoot())
        let scale = sd > 0 ? 1 / sd : 1
        var layers: [Parameter] = []
        let hidden = c.hiddenWidth(dimensions: d)
        if hidden > 0 {
            let (w1, w2) = Self.factor(w0, bits: bits, d: d, hidden: hidden, seed: c.seed)
            layers.append(Parameter(name: "hidden", rows: hidden, cols: d, format: c.weights, decays: true, initial: w1))
            layers.append(Parameter(name: "projection", rows: bits, cols: hidden, format: c.weights, decays: true, initial: w2.map { $0 * scale }))
        } else {
            layers.append(Parameter(name: "projection", rows: bits, cols: d, format: c.weights, decays: true, initial: w0.map { $0 * scale }))
        }
        let bias = Parameter(name: "bias", rows: 1, cols: bits, format: nil, decays: false, initial: b0.map { $0 * scale })

        let neighbors = Self.nearestNeighbors(x, n: n, d: d, k: min(c.neighborPool, n - 1), threads: c.threads)
        var rng = SeededGenerator(seed: c.seed ^ 0x7ec7_0125)
        var logBeta: Float = log(20), betaM: Float = 0, betaV: Float = 0
        var adam = TrainingConfig()
        adam.weightDecay = c.weightDecay
        adam.threads = c.threads
        let na = min(c.anchors, n)
        for step in 1...max(1, c.steps) {
            // Anchors without repetition; pool = anchors, sampled neighbours, random vectors.
            var anchors: [Int] = []
            var chosen = Set<Int>()
            while anchors.count < na {
                let a = Int(rng.next() % UInt64(n))
                if chosen.insert(a).inserted { anchors.append(a) }
            }
            var pool = anchors
            if !neighbors.isEmpty {
                let kk = neighbors.count / n
                for a in anchors {
                    for _ in 0..<c.neighborsPerAnchor { pool.append(Int(neighbors[a * kk + Int(rng.next() % UInt64(kk))])) }
                }
            }
            for _ in 0..<c.randomPool { pool.append(Int(rng.next() % UInt64(n))) }
            var noise: [Float] = []
            if c.anchorNoise > 0 {
                noise = (0 ..< na * d).map { _ in rng.normal() * c.anchorNoise / Float(d).squareRoot() }
            }
            let loss = Self.step(x: x, d: d, bits: bits, anchors: anchors, pool: pool, noise: noise, metric: c.metric, layers: layers, bias: bias,
                                 logBeta: logBeta, temperature: c.teacherTemperature, balance: c.balanceWeight, threads: c.threads)
            let lr = learningRate(step: step)
            // Adam on log beta (a scalar), then AdamW on the weights.
            betaM = 0.9 * betaM + 0.1 * loss.betaGradient
            betaV = 0.999 * betaV + 0.001 * loss.betaGradient * loss.betaGradient
            logBeta -= 10 * lr * (betaM / (1 - pow(0.9, Float(step)))) / ((betaV / (1 - pow(0.999, Float(step)))).squareRoot() + 1e-8)
            for layer in layers { layer.step(lr: lr, t: step, config: adam) }
            bias.step(lr: lr, t: step, config: adam)
            if let progress, step == 1 || step % 100 == 0 || step == c.steps {
                progress(VectorTrainingProgress(step: step, steps: c.steps, loss: loss.value, balancedBits: loss.balancedBits,
                                                seconds: Date().timeIntervalSince(start)))
            }
        }
        let packed = layers.map { PackedMatrix(quantizing: $0.latent.array, rows: $0.rows, cols: $0.cols, format: c.weights) }
        var provenance = [
            "method": "trained\(hidden > 0 ? ", two layers" : "") (similarity distillation from an ITQ start)",
            "steps": String(c.steps), "seed": String(c.seed),
            "training_vectors": String(n), "teacher_temperature": String(c.teacherTemperature),
        ]
        provenance["learning_rate"] = String(c.learningRate)
        let config = VectorModelConfig(dimensions: d, bits: bits, weights: c.weights, method: .trained, metric: c.metric,
                                       hidden: hidden > 0 ? hidden : nil, provenance: provenance)
        return VectorEncoderModel(config: config, projection: packed.last!, bias: bias.latent.array,
                                  hiddenLayer: packed.count == 2 ? packed[0] : nil)
    }

    /// Two factors whose product is `w0` (bits x d) when hidden >= d: W1 (hidden x d) with
    /// orthonormal columns times sqrt(hidden / d) (for hidden < d, orthonormal rows, and the
    /// product is w0 projected on W1's rows), and W2 = w0 W1^T d / hidden (bits x hidden).
    static func factor(_ w0: [Float], bits: Int, d: Int, hidden: Int, seed: UInt64) -> (w1: [Float], w2: [Float]) {
        var w1 = [Float](repeating: 0, count: hidden * d)
        let gain: Float
        if hidden >= d {
            // d x hidden with orthonormal rows, transposed.
            let t = VectorBaselines.randomRotation(dimensions: hidden, bits: d, seed: seed &+ 2)
            for i in 0..<d { for j in 0..<hidden { w1[j * d + i] = t[i * hidden + j] } }
            gain = Float(hidden) / Float(d)
        } else {
            w1 = VectorBaselines.randomRotation(dimensions: d, bits: hidden, seed: seed &+ 2)
            gain = 1
        }
        let root = gain.squareRoot()
        for i in w1.indices { w1[i] *= root }
        var w2 = [Float](repeating: 0, count: bits * hidden)
        Dense.gemm(false, true, m: bits, n: hidden, k: d, alpha: 1 / gain, w0, lda: d, w1, ldb: d, &w2, ldc: hidden)
        return (w1, w2)
    }

    func learningRate(step: Int) -> Float {
        let peak = config.learningRate
        if step <= config.warmupSteps { return peak * Float(step) / Float(max(1, config.warmupSteps)) }
        let progress = Float(step - config.warmupSteps) / Float(max(1, config.steps - config.warmupSteps))
        let floor = config.minLearningRateRatio
        return peak * (floor + (1 - floor) * 0.5 * (1 + cos(Float.pi * min(1, progress))))
    }

    struct StepResult {
        var value: Float
        var betaGradient: Float
        var balancedBits: Float
    }

    /// Forward and backward pass of one step; accumulates the weight and bias gradients.
    static func step(x: [Float], d: Int, bits: Int, anchors: [Int], pool: [Int], noise: [Float] = [], metric: VectorMetric = .cosine,
                     layers: [Parameter], bias: Parameter, logBeta: Float, temperature: Float, balance: Float, threads: Int) -> StepResult {
        let weight = layers.last!
        let first = layers.count == 2 ? layers[0] : nil
        let inputs = weight.cols
        let na = anchors.count, np = pool.count
        var xa = gather(x, rows: anchors, d: d)
        let xp = gather(x, rows: pool, d: d)
        if !noise.isEmpty {
            // Perturbed anchors stand in for queries the training set does not contain.
            for r in 0..<na {
                var norm: Float = 0
                for k in 0..<d { xa[r * d + k] += noise[r * d + k]; norm += xa[r * d + k] * xa[r * d + k] }
                if metric == .cosine, norm > 0 { for k in 0..<d { xa[r * d + k] /= norm.squareRoot() } }
            }
        }
        // The projection's inputs (the vectors, or the hidden activations), logits, codes (+-1) and tanh slopes.
        func forward(_ xs: [Float], _ count: Int) -> (inputs: [Float], codes: [Float], slope: [Float], tanhs: [Float]) {
            var h = xs
            if let first {
                h = [Float](repeating: 0, count: count * inputs)
                rowsGemm(false, true, m: count, n: inputs, k: d, xs, lda: d, first.forward, ldb: d, &h, ldc: inputs, threads: threads)
            }
            var z = [Float](repeating: 0, count: count * bits)
            rowsGemm(false, true, m: count, n: bits, k: inputs, h, lda: inputs, weight.forward, ldb: inputs, &z, ldc: bits, threads: threads)
            var codes = z, slope = z, tanhs = z
            for r in 0..<count {
                for j in 0..<bits {
                    let v = z[r * bits + j] + bias.latent[j]
                    let t = tanh(v)
                    codes[r * bits + j] = v > 0 ? 1 : -1
                    tanhs[r * bits + j] = t
                    slope[r * bits + j] = 1 - t * t
                }
            }
            return (h, codes, slope, tanhs)
        }
        let a = forward(xa, na), p = forward(xp, np)
        var s = [Float](repeating: 0, count: na * np), teacher = [Float](repeating: 0, count: na * np)
        rowsGemm(false, true, m: na, n: np, k: bits, alpha: 1 / Float(bits), a.codes, lda: bits, p.codes, ldb: bits, &s, ldc: np, threads: threads)
        rowsGemm(false, true, m: na, n: np, k: d, xa, lda: d, xp, ldb: d, &teacher, ldc: np, threads: threads)
        let beta = exp(logBeta)
        var g = [Float](repeating: 0, count: na * np)
        var loss: Double = 0, betaGradient: Float = 0
        for i in 0..<na {
            let row = i * np
            var tMax = -Float.infinity, sMax = -Float.infinity
            for j in 0..<np where pool[j] != anchors[i] {
                tMax = max(tMax, teacher[row + j] / temperature)
                sMax = max(sMax, beta * s[row + j])
            }
            var tSum: Float = 0, sSum: Float = 0
            for j in 0..<np where pool[j] != anchors[i] {
                tSum += exp(teacher[row + j] / temperature - tMax)
                sSum += exp(beta * s[row + j] - sMax)
            }
            for j in 0..<np where pool[j] != anchors[i] {
                let lt = teacher[row + j] / temperature - tMax - log(tSum)
                let ls = beta * s[row + j] - sMax - log(sSum)
                let t = exp(lt), q = exp(ls)
                loss += Double(t * (lt - ls))
                let gij = (q - t) / Float(na)
                betaGradient += gij * s[row + j] * beta
                g[row + j] = gij * beta / Float(bits)
            }
        }
        // dL/dcodes, through tanh (straight-through), plus the balance penalty on the anchors.
        var da = [Float](repeating: 0, count: na * bits), dp = [Float](repeating: 0, count: np * bits)
        rowsGemm(false, false, m: na, n: bits, k: np, g, lda: np, p.codes, ldb: bits, &da, ldc: bits, threads: threads)
        rowsGemm(true, false, m: np, n: bits, k: na, g, lda: np, a.codes, ldb: bits, &dp, ldc: bits, threads: threads)
        var means = [Float](repeating: 0, count: bits)
        for r in 0..<na { for j in 0..<bits { means[j] += a.tanhs[r * bits + j] } }
        for j in 0..<bits { means[j] /= Float(na) }
        for r in 0..<na {
            for j in 0..<bits {
                da[r * bits + j] = (da[r * bits + j] + balance * 2 * means[j] / Float(na * bits)) * a.slope[r * bits + j]
            }
        }
        for i in 0..<(np * bits) { dp[i] *= p.slope[i] }
        // Weight gradient (bits x inputs) = da^T ha + dp^T hp (h = x for one layer); bias gradient = column sums.
        rowsGemm(true, false, m: bits, n: inputs, k: na, da, lda: bits, a.inputs, ldb: inputs, weight.grad.pointer, ldc: inputs, threads: threads)
        rowsGemm(true, false, m: bits, n: inputs, k: np, dp, lda: bits, p.inputs, ldb: inputs, beta: 1, weight.grad.pointer, ldc: inputs, threads: threads)
        if let first {
            // Through the quantised W2 (straight-through): dH = dZ W2, then W1's gradient (hidden x d) = dHa^T xa + dHp^T xp.
            var dha = [Float](repeating: 0, count: na * inputs), dhp = [Float](repeating: 0, count: np * inputs)
            rowsGemm(false, false, m: na, n: inputs, k: bits, da, lda: bits, weight.forward, ldb: inputs, &dha, ldc: inputs, threads: threads)
            rowsGemm(false, false, m: np, n: inputs, k: bits, dp, lda: bits, weight.forward, ldb: inputs, &dhp, ldc: inputs, threads: threads)
            rowsGemm(true, false, m: inputs, n: d, k: na, dha, lda: inputs, xa, ldb: d, first.grad.pointer, ldc: d, threads: threads)
            rowsGemm(true, false, m: inputs, n: d, k: np, dhp, lda: inputs, xp, ldb: d, beta: 1, first.grad.pointer, ldc: d, threads: threads)
        }
        for j in 0..<bits {
            var sum: Float = 0
            for r in 0..<na { sum += da[r * bits + j] }
            for r in 0..<np { sum += dp[r * bits + j] }
            bias.grad[j] = sum
        }
        var ones = [Float](repeating: 0, count: bits)
        for r in 0..<np { for j in 0..<bits where p.codes[r * bits + j] > 0 { ones[j] += 1 } }
        let balanced = ones.filter { $0 / Float(np) >= 0.35 && $0 / Float(np) <= 0.65 }.count
        return StepResult(value: Float(loss / Double(na)), betaGradient: betaGradient, balancedBits: Float(balanced) / Float(bits))
    }

    static func gather(_ x: [Float], rows: [Int], d: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows.count * d)
        for (i, r) in rows.enumerated() { for k in 0..<d { out[i * d + k] = x[r * d + k] } }
        return out
    }

    /// A row-major product split over output rows in fixed blocks of 64 rows, one `sgemm` call
    /// per block, the blocks dealt out to threads. Every block has the same shape and position
    /// whatever the thread count, so each output element is computed by the same kernel in the
    /// same order: OpenBLAS picks kernels by CPU and by matrix shape, so splitting the rows by
    /// thread (one call per thread) gave different bits for 1 and 2 threads on some CPUs.
    static func rowsGemm(_ transA: Bool, _ transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                         _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                         beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        let rowsPerBlock = 64
        let blocks = (m + rowsPerBlock - 1) / rowsPerBlock
        let workers = max(1, min(threads, blocks))
        parallelFor(iterations: workers) { w in
            for block in stride(from: w, to: blocks, by: workers) {
                let r0 = block * rowsPerBlock, r1 = min(m, r0 + rowsPerBlock)
                // Row r of op(A) starts at a + r * lda without transposition, at a + r with it.
                let aStart = transA ? a + r0 : a + r0 * lda
                Dense.gemm(transA, transB, m: r1 - r0, n: n, k: k, alpha: alpha, aStart, lda: lda, b, ldb: ldb,
                           beta: beta, c + r0 * ldc, ldc: ldc)
            }
        }
    }

    /// The `k` nearest other rows of each row by dot product (row-major n x k Int32), by
    /// blocked products; ties go to the lower row number.
    static func nearestNeighbors(_ x: [Float], n: Int, d: Int, k: Int, threads: Int) -> [Int32] {
        guard k > 0 else { return [] }
        var out = [Int32](repeating: 0, count: n * k)
        let block = 256
        let blocks = (n + block - 1) / block
        out.withUnsafeMutableBufferPointer { result in
            let resultBase = result.baseAddress!
            let workers = max(1, min(threads, blocks))
            parallelFor(iterations: workers) { w in
                var sims = [Float](repeating: 0, count: block * n)
                for bIndex in stride(from: w, to: blocks, by: workers) {
                    let r0 = bIndex * block, r1 = min(n, r0 + block)
                    x.withUnsafeBufferPointer { xs in
                        Dense.gemm(false, true, m: r1 - r0, n: n, k: d, xs.baseAddress! + r0 * d, lda: d, xs.baseAddress!, ldb: d, &sims, ldc: n)
                    }
                    for r in r0..<r1 {
                        let row = (r - r0) * n
                        // The k best by (similarity descending, row ascending), kept sorted.
                        var best: [(Int32, Float)] = []
                        best.reserveCapacity(k + 1)
                        for j in 0..<n where j != r {
                            let v = sims[row + j]
                            if best.count == k, v <= best[k - 1].1 { continue }
                            var pos = best.count
                            while pos > 0 && best[pos - 1].1 < v { pos -= 1 }
                            best.insert((Int32(j), v), at: pos)
                            if best.count > k { best.removeLast() }
                        }
                        for (t, j) in best.enumerated() { resultBase[r * k + t] = j.0 }
                    }
                }
            }
        }
        return out
    }
}
