import Autograd
import Foundation
import Layers
import Tensors

/// fastai's `MixUp` for classification: each training batch is replaced by a blend of itself and
/// a shuffled copy, `λ·x + (1-λ)·x[shuffled]` with one `λ` per item from `Beta(alpha, alpha)`
/// (the larger of `λ` and `1-λ`), and for the training part of the fit MixUp swaps in its own
/// loss, as fastai's does: the cross-entropy against the same blend of the two one-hot targets
/// (what fastai's `lerp` of the two losses is for cross-entropy). Validation is untouched.
/// Random choices come from a generator seeded from the global one.
public final class MixUp: Callback {
    public let alpha: Double
    private let random: RandomGenerator
    private var mixedTargets: Tensor?
    /// The Learner's loss while MixUp's is swapped in.
    private var savedLoss: LossFunction?

    public init(alpha: Double = 0.4) {
        self.alpha = alpha
        random = RandomGenerator(seed: Random.withGlobal { $0.next() })
    }

    public override func beforeBatch(_ learn: Learner) throws {
        mixedTargets = nil
        guard learn.training, alpha > 0 else { return }
        let x = learn.xb, y = learn.yb.reshape([-1])
        let n = x.shape.first ?? 0
        guard n > 1 else { return }
        let lambdas = (0..<n).map { _ -> Float in
            let l = beta(alpha, alpha)
            return Float(max(l, 1 - l))
        }
        let shuffle = random.permutation(n)
        let shape = [n] + Array(repeating: 1, count: max(x.rank - 1, 0))
        let lam = Tensor(shape: shape, scalars: lambdas)
        learn.xb = x * lam + x[shuffle] * (1 - lam)
        let classes = try classCount(learn)
        let oneHot = { (t: Tensor) -> Tensor in
            var values = [Float](repeating: 0, count: n * classes)
            for (i, c) in t.indices().enumerated() where c >= 0 && c < classes { values[i * classes + c] = 1 }
            return Tensor(shape: [n, classes], scalars: values)
        }
        let l = Tensor(shape: [n, 1], scalars: lambdas)
        mixedTargets = oneHot(y) * l + oneHot(y[shuffle]) * (1 - l)
    }

    public override func beforeTrain(_ learn: Learner) throws {
        let original = learn.lossFunction
        savedLoss = original
        // Outside training (validation, or after a fit that stopped on an error) the Learner's
        // own loss, as fastai's `lf`.
        learn.lossFunction = { [weak self, weak learn] pred, targets in
            guard learn?.training == true, let mixed = self?.mixedTargets else { return original(pred, targets) }
            return -(pred.logSoftmax(dim: -1) * mixed).sum(dim: -1).mean()
        }
    }

    public override func afterTrain(_ learn: Learner) throws { restoreLoss(learn) }
    public override func afterCancelTrain(_ learn: Learner) throws { restoreLoss(learn) }
    public override func afterFit(_ learn: Learner) throws { restoreLoss(learn) }

    private func restoreLoss(_ learn: Learner) {
        if let savedLoss { learn.lossFunction = savedLoss }
        savedLoss = nil
        mixedTargets = nil
    }

    /// The number of classes: the vocab's size.
    private func classCount(_ learn: Learner) throws -> Int {
        if let vocab = learn.dls.vocab, !vocab.isEmpty { return vocab.count }
        throw LearnerError("MixUp needs the classes: loaders with a vocab (ImageDataLoaders, DataBlock)")
    }

    /// A sample of Beta(a, b), from two gamma samples.
    private func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(a), y = gamma(b)
        return x + y > 0 ? x / (x + y) : 0.5
    }

    /// A sample of Gamma(shape, 1) (Marsaglia and Tsang; shapes below 1 boosted by `U^(1/shape)`).
    private func gamma(_ shape: Double) -> Double {
        if shape < 1 { return gamma(shape + 1) * pow(Double(max(random.nextUniform(), 1e-12)), 1 / shape) }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat {
                x = Double(random.nextNormal())
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = Double(random.nextUniform())
            if u < 1 - 0.0331 * x * x * x * x || log(max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }
}
