import Encoder

/// Every training setting, with its default. The defaults train the shipped model; `twentyq
/// train` exposes the common ones as flags.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var bits = 64                          // output code width (16...1024)
    public var hidden = 256                       // hidden units between the two low-bit layers
    public var weights: WeightFormat = .ternary   // weight format of both encoder layers
    public var vocabularySize = 20_000            // terms kept: unigrams first, then bigrams, each most document-frequent first
    public var minDocumentFrequency = 3           // a term must occur in this many documents
    public var maxDocumentRatio = 0.5             // ... and in at most this share of them
    public var bigrams = true                     // adjacent-token bigrams as terms
    public var maxTokens = 5_000                  // tokens read per document (truncation)
    public var epochs = 30                        // passes over the corpus
    public var batchSize = 128                    // documents per step
    public var learningRate: Float = 3e-3         // AdamW peak learning rate
    public var warmupSteps = 100                  // linear warm-up from 0 to the peak
    public var minLearningRateRatio: Float = 0.1  // cosine decay ends at this share of the peak
    public var beta1: Float = 0.9                 // AdamW first-moment decay
    public var beta2: Float = 0.999               // AdamW second-moment decay
    public var weightDecay: Float = 1.0           // AdamW decoupled weight decay (weights, not biases; EVALUATION.md, "Weight decay")
    public var inputInitScale: Float = 1          // standard deviation of the first layer's initial latent weights
    public var objective: Objective = .spectral   // what the bits are trained to do (see Objective)
    public var neighbors = 20                     // spectral: neighbours per document in the kNN graph
    public var eigenIterations = 200              // spectral: subspace iterations
    public var itq = true                         // spectral: rotate the embedding by ITQ before thresholding
    public var balanceWeight: Float = 1.0         // bit balance: (mean P(bit) - 0.5)^2 per bit
    public var decorrelationWeight: Float = 3.0   // bit independence: off-diagonal covariance^2
    public var stochasticBits = true              // sample bits ~ Bernoulli(sigmoid(logit)) in training
    public var latentClip: Float = 0              // clip latent weights to +-clip x row scale (0 = off)
    public var seed: UInt64 = 42                  // initialisation, shuffling, bit sampling
    public var threads = 2                        // threads for element-wise work (results do not depend on it)

    public init() {}
}

/// The training objective. None needs labels.
public enum Objective: String, Codable, CaseIterable, Sendable {
    /// Predict self-taught target bits: the median-thresholded leading eigenvectors of the
    /// corpus's TF-IDF kNN graph (binary cross-entropy).
    case spectral
    /// Reconstruct the document's words from its bits through a softmax decoder (NASH-style
    /// generative semantic hashing).
    case reconstruction
    /// Both losses, summed.
    case both
    /// Predict a dense teacher's bits for each text (binary cross-entropy): the targets are the
    /// codes that a vector encoder gives the teacher's embedding of the text (a sentence model
    /// run offline, `Tools/teacher/`), so the text codes imitate the teacher's geometry for
    /// documents and short queries alike.
    case teacher

    /// Whether the bits are trained towards per-document target bits.
    var usesTargets: Bool { self != .reconstruction }
    /// Whether the word-reconstruction decoder is trained.
    var reconstructs: Bool { self == .reconstruction || self == .both }
}
