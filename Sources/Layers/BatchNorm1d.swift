import Autograd
import Tensors

/// Batch normalisation over `[batch, features]` (or `[batch, features, length]`), as PyTorch's
/// `BatchNorm1d`: in training, each feature is normalised by the batch's mean and biased
/// variance, and the running statistics move by `momentum` toward the batch's (with the unbiased
/// variance); in evaluation, the running statistics are used. Then `* weight + bias`.
public final class BatchNorm1d: Module {
    public var weight: Tensor
    public var bias: Tensor
    public var runningMean: Tensor
    public var runningVar: Tensor
    public let features: Int
    public let eps: Float, momentum: Float

    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        self.features = features
        self.eps = eps
        self.momentum = momentum
        weight = Tensor.ones([features])
        weight.requiresGrad = true
        bias = Tensor.zeros([features])
        bias.requiresGrad = true
        runningMean = Tensor.zeros([features])
        runningVar = Tensor.ones([features])
    }

    public override func forward(_ input: Tensor) -> Tensor {
        guard (input.rank == 2 || input.rank == 3), input.shape[1] == features else {
            fatalError("BatchNorm1d(\(features)): expected [batch, \(features)] or [batch, \(features), length], got \(input.shape)")
        }
        // Statistics over every axis but the features (axis 1).
        let axes = input.rank == 2 ? [0] : [0, 2]
        let statShape = input.rank == 2 ? [1, features] : [1, features, 1]
        let mean: Tensor, variance: Tensor
        if isTraining {
            let n = input.count / features
            guard n > 1 else { fatalError("BatchNorm1d: expected more than 1 value per feature when training, got input \(input.shape)") }
            mean = input.mean(dims: axes, keepDim: true)
            variance = (input - mean).square().mean(dims: axes, keepDim: true)
            noGrad {
                let unbiased = variance.detach().reshape([features]) * (Float(n) / Float(n - 1))
                runningMean = runningMean * (1 - momentum) + mean.detach().reshape([features]) * momentum
                runningVar = runningVar * (1 - momentum) + unbiased * momentum
            }
        } else {
            mean = runningMean.reshape(statShape)
            variance = runningVar.reshape(statShape)
        }
        let normalised = (input - mean) / (variance + eps).sqrt()
        return normalised * weight.reshape(statShape) + bias.reshape(statShape)
    }

    public override var extraDescription: String { "\(features), eps=\(eps), momentum=\(momentum), affine=True" }
}

extension Tensor {
    /// The mean over several axes at once.
    func mean(dims: [Int], keepDim: Bool) -> Tensor {
        let n = dims.reduce(1) { $0 * shape[$1 < 0 ? $1 + rank : $1] }
        return sum(dims: dims, keepDim: keepDim) / Float(n)
    }
}
