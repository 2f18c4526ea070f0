import BinaryCodes
import Encoder
import Foundation

/// One training document: encoder input and reconstruction target over the vocabulary.
public struct TrainingDocument: Sendable {
    /// Unit-length TF-IDF (the encoder's input, as at inference).
    public var features: SparseVector
    /// Term counts scaled to sum to 1 (what the decoder must reconstruct).
    public var target: SparseVector
    /// Self-taught target bits (0 or 1), when the objective uses them.
    public var targetBits: [Float] = []
}

/// How the forward pass turns bit probabilities p = sigmoid(u) into the code s in {-1, +1}.
/// Every mode back-propagates through 2p - 1 (the straight-through estimator of NASH).
enum BitMode {
    /// s = +1 with probability p (training).
    case sample
    /// s = sign(u) (evaluation, and as inference does).
    case threshold
    /// s = 2p - 1, no binarisation: exact gradients, used by the finite-difference tests.
    case relaxed
}

/// Loss terms of one batch.
public struct Losses: Sendable {
    /// Mean negative log-likelihood of the document's words given its code.
    public var reconstruction: Float = 0
    /// Mean binary cross-entropy against the self-taught target bits.
    public var targetBits: Float = 0
    /// Weighted bit-balance penalty.
    public var balance: Float = 0
    /// Weighted decorrelation penalty.
    public var decorrelation: Float = 0
    public var total: Float { reconstruction + targetBits + balance + decorrelation }
}

/// The encoder being trained and its reconstruction decoder.
///
/// Encoder: A1 = X W1q + b1 (sparse X), H1 = relu(A1), U = H1 W2q^T + b2, p = sigmoid(U).
/// Decoder: R = S E^T + c over the vocabulary, log-softmax; reconstruction loss
/// -(1/n) sum_i sum_t target_it log softmax(R_i)_t (generative semantic hashing, as NASH).
/// Balance: w_bal / B * sum_b (mean_i p_ib - 1/2)^2.
/// Decorrelation: w_dec / (B (B - 1)) * sum_{b != c} C_bc^2 with C = Tc^T Tc / n, Tc the
/// column-centred 2p - 1: each bit should split the corpus and ask what the others do not.
final class TrainingNetwork {
    let config: TrainingConfig
    let vocabularySize: Int
    let hidden: Int
    let bits: Int
    let w1: Parameter, b1: Parameter, w2: Parameter, b2: Parameter, decoder: Parameter, decoderBias: Parameter
    var parameters: [Parameter] { [w1, b1, w2, b2, decoder, decoderBias] }
    /// The parameters the objective trains (the decoder only when reconstructing).
    var trained: [Parameter] { config.objective.reconstructs ? parameters : [w1, b1, w2, b2] }

    // Scratch, sized for `capacity` documents.
    private var capacity = 0
    private var a1 = Buffer(0), h1 = Buffer(0), u = Buffer(0), p = Buffer(0), s = Buffer(0)
    private var r = Buffer(0), dR = Buffer(0), dS = Buffer(0), dU = Buffer(0), dH1 = Buffer(0)

    init(config: TrainingConfig, vocabularySize: Int, unigram: [Float], rng: inout SeededGenerator) {
        self.config = config
        self.vocabularySize = vocabularySize
        self.hidden = config.hidden
        self.bits = config.bits
        let v = vocabularySize, h = config.hidden, b = config.bits
        // Inputs are unit vectors over ~100 terms, so N(0, 1) rows give A1 entries of unit scale.
        w1 = Parameter(name: "encoder.1", rows: v, cols: h, format: config.weights, decays: true,
                       initial: (0..<(v * h)).map { _ in rng.normal() * config.inputInitScale })
        b1 = Parameter(name: "encoder.1.bias", rows: 1, cols: h, format: nil, decays: false,
                       initial: [Float](repeating: 0, count: h))
        let scale2 = 1 / Float(h).squareRoot()
        w2 = Parameter(name: "encoder.2", rows: b, cols: h, format: config.weights, decays: true,
                       initial: (0..<(b * h)).map { _ in rng.normal() * scale2 })
        b2 = Parameter(name: "encoder.2.bias", rows: 1, cols: b, format: nil, decays: false,
                       initial: [Float](repeating: 0, count: b))
        decoder = Parameter(name: "decoder", rows: v, cols: b, format: nil, decays: true,
                            initial: (0..<(v * b)).map { _ in rng.normal() * 0.01 })
        // Start the decoder at the corpus's word distribution.
        decoderBias = Parameter(name: "decoder.bias", rows: 1, cols: v, format: nil, decays: false,
                                initial: unigram.map { log(max($0, 1e-9)) })
    }

    private func reserve(_ n: Int) {
        guard n > capacity else { return }
        capacity = n
        a1 = Buffer(n * hidden); h1 = Buffer(n * hidden); dH1 = Buffer(n * hidden)
        u = Buffer(n * bits); p = Buffer(n * bits); s = Buffer(n * bits); dS = Buffer(n * bits); dU = Buffer(n * bits)
        r = Buffer(n * vocabularySize); dR = Buffer(n * vocabularySize)
    }

    /// Encoder forward for `docs` into `u` and `p` (and a1, h1).
    private func encode(_ docs: ArraySlice<TrainingDocument>) {
        reserve(docs.count)
        let n = docs.count, h = hidden, b = bits
        let w1q = w1.forward, bias1 = b1.forward
        for (i, doc) in docs.enumerated() {
            let row = a1.pointer + i * h
            for j in 0..<h { row[j] = bias1[j] }
            for (t, x) in zip(doc.features.indices, doc.features.values) {
                let w = w1q + Int(t) * h
                for j in 0..<h { row[j] += x * w[j] }
            }
            for j in 0..<h { h1.pointer[i * h + j] = max(0, row[j]) }
        }
        // U = H1 W2q^T + b2
        for i in 0..<n { for c in 0..<b { u.pointer[i * b + c] = b2.forward[c] } }
        Dense.gemm(false, true, m: n, n: b, k: h, h1.pointer, lda: h, w2.forward, ldb: h, beta: 1, u.pointer, ldc: b)
        for i in 0..<(n * b) { p.pointer[i] = 1 / (1 + exp(-u.pointer[i])) }
    }

    /// Logits U for `docs` (as inference computes them, from the quantised weights).
    func logits(_ docs: ArraySlice<TrainingDocument>) -> [[Float]] {
        encode(docs)
        return (0..<docs.count).map { Array(UnsafeBufferPointer(start: u.pointer + $0 * bits, count: bits)) }
    }

    /// Forward and backward over one batch: returns the losses and leaves the gradients
    /// (averaged over the batch) in each parameter's `grad`.
    func lossAndGradients(_ docs: ArraySlice<TrainingDocument>, mode: BitMode, rng: inout SeededGenerator) -> Losses {
        let n = docs.count, h = hidden, b = bits
        encode(docs)
        for param in parameters { param.grad.zero() }
        var losses = Losses()

        // Bits.
        for i in 0..<(n * b) {
            switch mode {
            case .sample: s.pointer[i] = rng.unit() < p.pointer[i] ? 1 : -1
            case .threshold: s.pointer[i] = u.pointer[i] > 0 ? 1 : -1
            case .relaxed: s.pointer[i] = 2 * p.pointer[i] - 1
            }
        }

        let reconstructs = config.objective.reconstructs
        if reconstructs {
            losses.reconstruction = reconstruct(docs, n: n)
        } else {
            dS.zero()
        }
        // dP = 2 dS (through s = 2p - 1) + balance + decorrelation terms.
        for i in 0..<(n * b) { dU.pointer[i] = 2 * dS.pointer[i] }
        if config.balanceWeight > 0 {
            for c in 0..<b {
                var mean: Float = 0
                for i in 0..<n { mean += p.pointer[i * b + c] }
                mean /= Float(n)
                losses.balance += config.balanceWeight * (mean - 0.5) * (mean - 0.5) / Float(b)
                let g = config.balanceWeight * 2 * (mean - 0.5) / Float(b * n)
                for i in 0..<n { dU.pointer[i * b + c] += g }
            }
        }
        if config.decorrelationWeight > 0 && b > 1 {
            // Tc = 2p - 1 - column mean; C = Tc^T Tc / n; G = dL/dC (zero diagonal); dT = (2/n) Tc G.
            let tc = Buffer(n * b)
            for c in 0..<b {
                var mean: Float = 0
                for i in 0..<n { mean += 2 * p.pointer[i * b + c] - 1 }
                mean /= Float(n)
                for i in 0..<n { tc.pointer[i * b + c] = 2 * p.pointer[i * b + c] - 1 - mean }
            }
            let cov = Buffer(b * b)
            Dense.gemm(true, false, m: b, n: b, k: n, alpha: 1 / Float(n), tc.pointer, lda: b, tc.pointer, ldb: b, cov.pointer, ldc: b)
            let norm = config.decorrelationWeight / Float(b * (b - 1))
            for x in 0..<b { for y in 0..<b where x != y {
                let c = cov.pointer[x * b + y]
                losses.decorrelation += norm * c * c
                cov.pointer[x * b + y] = 2 * norm * c
            } }
            for x in 0..<b { cov.pointer[x * b + x] = 0 }
            // dP += 2 * dT = 2 * (2/n) Tc G
            Dense.gemm(false, false, m: n, n: b, k: b, alpha: 4 / Float(n), tc.pointer, lda: b, cov.pointer, ldb: b,
                       beta: 1, dU.pointer, ldc: b)
        }
        // dU = dP * p (1 - p)
        for i in 0..<(n * b) { dU.pointer[i] *= p.pointer[i] * (1 - p.pointer[i]) }
        // Self-taught bits: BCE(p, y) averaged over the batch and bits; d/dU = (p - y) / (n B).
        if config.objective.usesTargets {
            var bce: Float = 0
            for (i, doc) in docs.enumerated() {
                for c in 0..<b {
                    let y = doc.targetBits[c], pr = min(max(p.pointer[i * b + c], 1e-7), 1 - 1e-7)
                    bce -= y * log(pr) + (1 - y) * log(1 - pr)
                    dU.pointer[i * b + c] += (p.pointer[i * b + c] - y) / Float(n * b)
                }
            }
            losses.targetBits = bce / Float(n * b)
        }

        // Layer 2: dW2 = dU^T H1, db2 = sum dU, dH1 = dU W2q.
        Dense.gemm(true, false, m: b, n: h, k: n, dU.pointer, lda: b, h1.pointer, ldb: h, w2.grad.pointer, ldc: h)
        for i in 0..<n { for c in 0..<b { b2.grad.pointer[c] += dU.pointer[i * b + c] } }
        Dense.gemm(false, false, m: n, n: h, k: b, dU.pointer, lda: b, w2.forward, ldb: h, dH1.pointer, ldc: h)

        // ReLU and the sparse layer 1: dW1[t] += x * dA1_i.
        for i in 0..<n {
            let da = dH1.pointer + i * h, a = a1.pointer + i * h
            for j in 0..<h where a[j] <= 0 { da[j] = 0 }
            for j in 0..<h { b1.grad.pointer[j] += da[j] }
            let doc = docs[docs.startIndex + i]
            for (t, x) in zip(doc.features.indices, doc.features.values) {
                let g = w1.grad.pointer + Int(t) * h
                for j in 0..<h { g[j] += x * da[j] }
            }
        }
        return losses
    }
    /// Decoder forward and backward: R = S E^T + c, log-softmax, the reconstruction loss;
    /// leaves dS and the decoder's gradients. Returns the loss.
    private func reconstruct(_ docs: ArraySlice<TrainingDocument>, n: Int) -> Float {
        let b = bits, v = vocabularySize
        var losses = Losses()
        for i in 0..<n { (r.pointer + i * v).update(from: decoderBias.forward, count: v) }
        Dense.gemm(false, true, m: n, n: v, k: b, s.pointer, lda: b, decoder.forward, ldb: b, beta: 1, r.pointer, ldc: v)
        var rowLosses = [Float](repeating: 0, count: n)
        rowLosses.withUnsafeMutableBufferPointer { rowLoss in
            parallelFor(iterations: max(1, min(config.threads, n / 16))) { t in
                let chunks = max(1, min(self.config.threads, n / 16))
                for i in (n * t / chunks) ..< (n * (t + 1) / chunks) {
                    let row = self.r.pointer + i * v, grad = self.dR.pointer + i * v
                    var mx = -Float.infinity
                    for k in 0..<v { mx = max(mx, row[k]) }
                    var sum: Float = 0
                    for k in 0..<v { let e = exp(row[k] - mx); grad[k] = e; sum += e }
                    let logSum = log(sum) + mx
                    for k in 0..<v { grad[k] /= (sum * Float(n)) }
                    var loss: Float = 0
                    let doc = docs[docs.startIndex + i]
                    for (t, w) in zip(doc.target.indices, doc.target.values) {
                        loss -= w * (row[Int(t)] - logSum)
                        grad[Int(t)] -= w / Float(n)
                    }
                    rowLoss[i] = loss
                }
            }
        }
        losses.reconstruction = rowLosses.reduce(0, +) / Float(n)
        // dE = dR^T S, dc = sum_i dR_i, dS = dR E
        Dense.gemm(true, false, m: v, n: b, k: n, dR.pointer, lda: v, s.pointer, ldb: b, decoder.grad.pointer, ldc: b)
        for i in 0..<n { for k in 0..<v { decoderBias.grad.pointer[k] += dR.pointer[i * v + k] } }
        Dense.gemm(false, false, m: n, n: b, k: v, dR.pointer, lda: v, decoder.forward, ldb: b, dS.pointer, ldc: b)

        return losses.reconstruction
    }
}
