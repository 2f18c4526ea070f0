import BinaryCodes
import Encoder
import Foundation

/// A trainable tensor: float latent weights, their gradient, AdamW moments, and, for a
/// quantised layer, the fake-quantised weights every forward pass uses.
///
/// Quantisation-aware training: `forward` points at `quantized`, which `requantize()` derives
/// from `latent` after every update; the gradient computed with the quantised weights is applied
/// to the latent ones unchanged (straight-through estimator).
final class Parameter {
    let name: String
    let rows: Int
    let cols: Int
    /// Quantisation format, or nil for a float tensor used as is (biases, the decoder).
    let format: WeightFormat?
    /// Whether AdamW's decoupled weight decay applies.
    let decays: Bool
    let latent: Buffer
    let grad: Buffer
    private let m: Buffer
    private let v: Buffer
    private let quantizedStorage: Buffer?
    let scales: Buffer

    init(name: String, rows: Int, cols: Int, format: WeightFormat?, decays: Bool, initial: [Float]) {
        precondition(initial.count == rows * cols)
        self.name = name
        self.rows = rows
        self.cols = cols
        self.format = format
        self.decays = decays
        latent = Buffer(initial)
        grad = Buffer(rows * cols)
        m = Buffer(rows * cols)
        v = Buffer(rows * cols)
        // Float layers use the latent weights directly; only low-bit layers keep a quantised copy.
        quantizedStorage = format.flatMap { $0 == .float ? nil : Buffer(rows * cols) }
        scales = Buffer([Float](repeating: 1, count: rows))
        requantize(threads: 1)
    }

    /// The weights the forward pass uses.
    var forward: UnsafeMutablePointer<Float> { (quantizedStorage ?? latent).pointer }

    /// Re-derives the quantised weights from the latent ones (rows split across threads;
    /// every row is computed the same way whatever the split, so results do not depend on it).
    func requantize(threads: Int) {
        guard let format, let q = quantizedStorage else { return }
        let chunks = max(1, min(threads, rows / 256))
        parallelFor(iterations: chunks) { t in
            let r0 = rows * t / chunks, r1 = rows * (t + 1) / chunks
            guard r0 < r1 else { return }
            format.fakeQuantize(UnsafeBufferPointer(start: latent.pointer + r0 * cols, count: (r1 - r0) * cols),
                                rows: r1 - r0, cols: cols,
                                into: UnsafeMutableBufferPointer(start: q.pointer + r0 * cols, count: (r1 - r0) * cols),
                                scales: UnsafeMutableBufferPointer(start: scales.pointer + r0, count: r1 - r0))
        }
    }

    /// One AdamW step on the latent weights (then re-quantisation), with learning rate `lr` at
    /// step `t` (1-based). Optionally clips latent weights to +-clip x their row scale.
    func step(lr: Float, t: Int, config: TrainingConfig) {
        let b1 = config.beta1, b2 = config.beta2, eps: Float = 1e-8
        let c1 = 1 - pow(b1, Float(t)), c2 = 1 - pow(b2, Float(t))
        let wd = decays ? config.weightDecay : 0
        let n = rows * cols
        let chunks = max(1, min(config.threads, n / 65_536))
        let w = latent.pointer, g = grad.pointer, mp = m.pointer, vp = v.pointer
        parallelFor(iterations: chunks) { c in
            for i in (n * c / chunks) ..< (n * (c + 1) / chunks) {
                let gi = g[i]
                mp[i] = b1 * mp[i] + (1 - b1) * gi
                vp[i] = b2 * vp[i] + (1 - b2) * gi * gi
                let update = (mp[i] / c1) / ((vp[i] / c2).squareRoot() + eps)
                w[i] -= lr * (update + wd * w[i])
            }
        }
        if config.latentClip > 0, format != nil {
            for r in 0..<rows {
                let limit = config.latentClip * scales[r]
                for c in 0..<cols { w[r * cols + c] = min(limit, max(-limit, w[r * cols + c])) }
            }
        }
        requantize(threads: config.threads)
    }
}
