import Tensors

// Loss functions: plain functions `(predictions, targets) -> scalar tensor`, so a user's own
// (the seeds' `mnistLoss`) is just as good as these. Class targets are tensors of whole-number
// class indices, as a DataLoader yields them.

/// A loss: predictions and targets in, a scalar to minimise out.
public typealias LossFunction = (Tensor, Tensor) -> Tensor

/// Mean squared error.
public func mse(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
    checkSameCount(predictions, targets, "mse")
    return (predictions - targets.reshape(predictions.shape)).square().mean()
}

/// Mean absolute error.
public func l1(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
    checkSameCount(predictions, targets, "l1")
    return (predictions - targets.reshape(predictions.shape)).abs().mean()
}

/// Cross-entropy of `[n, classes]` logits against `n` class indices, fused with a numerically
/// stable log-softmax (PyTorch's `F.cross_entropy`); the mean over rows, or the sum.
public func crossEntropy(_ logits: Tensor, _ targets: Tensor) -> Tensor {
    Tensor.crossEntropy(logits: logits, targets: classIndices(targets, for: logits, "crossEntropy"))
}

/// `crossEntropy` summed instead of averaged over rows.
public func crossEntropySum(_ logits: Tensor, _ targets: Tensor) -> Tensor {
    Tensor.crossEntropy(logits: logits, targets: classIndices(targets, for: logits, "crossEntropy"), mean: false)
}

/// Negative log-likelihood of `[n, classes]` log-probabilities (a `LogSoftmax` output) against
/// `n` class indices: `-mean(logProbs[i, target[i]])`.
public func nllLoss(_ logProbabilities: Tensor, _ targets: Tensor) -> Tensor {
    -logProbabilities.gatherColumns(classIndices(targets, for: logProbabilities, "nllLoss")).mean()
}

/// Binary cross-entropy of probabilities in 0...1 against 0/1 targets; each log is clamped at
/// -100, as PyTorch does, so a confident mistake costs 100, not infinity.
public func binaryCrossEntropy(_ probabilities: Tensor, _ targets: Tensor) -> Tensor {
    checkSameCount(probabilities, targets, "binaryCrossEntropy")
    let t = targets.reshape(probabilities.shape)
    let logP = Tensor.maximum(probabilities.log(), -100)
    let log1mP = Tensor.maximum((1 - probabilities).log(), -100)
    return -(t * logP + (1 - t) * log1mP).mean()
}

/// Binary cross-entropy on logits, fused with the sigmoid in the stable form
/// `max(x, 0) - x·t + log(1 + e^-|x|)`.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ targets: Tensor) -> Tensor {
    checkSameCount(logits, targets, "binaryCrossEntropyWithLogits")
    let t = targets.reshape(logits.shape)
    return (logits.relu() - logits * t + (1 + (-logits.abs()).exp()).log()).mean()
}

private func checkSameCount(_ p: Tensor, _ t: Tensor, _ name: String) {
    guard p.count == t.count else {
        fatalError("\(name): predictions of shape \(p.shape) and targets of shape \(t.shape) differ in size")
    }
}

private func classIndices(_ targets: Tensor, for scores: Tensor, _ name: String) -> [Int] {
    guard scores.rank == 2, targets.count == scores.shape[0] else {
        fatalError("\(name): expected scores [n, classes] and n targets, got scores \(scores.shape) and targets \(targets.shape)")
    }
    return targets.indices()
}

/// fastai's `LabelSmoothingCrossEntropy`: cross-entropy against targets smoothed by `eps`,
/// `(1 - eps) · nll(logSoftmax(x), y) + eps · mean over rows of (-Σ logSoftmax(x)) / classes`.
/// `logits [N, C]`, `targets [N]` class indices.
public func labelSmoothingCrossEntropy(eps: Float = 0.1) -> (Tensor, Tensor) -> Tensor {
    { logits, targets in
        let logProbabilities = logits.logSoftmax(dim: -1)
        let classes = Float(logits.shape.last ?? 1)
        let smooth = -logProbabilities.sum(dim: -1).mean() * (eps / classes)
        return smooth + nllLoss(logProbabilities, targets) * (1 - eps)
    }
}
