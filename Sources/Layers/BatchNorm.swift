import Autograd
import Tensors

/// Batch normalisation over channel axis 1, as PyTorch's `BatchNorm1d`/`BatchNorm2d`: in
/// training, each channel is normalised by the batch's mean and biased variance, and the
/// running statistics move by `momentum` toward the batch's (using the unbiased variance); in
/// evaluation, the running statistics are used. Then `· weight + bias` (initially 1 and 0).
public class BatchNorm: Module {
    public var weight: Tensor
    public var bias: Tensor
    public var runningMean: Tensor
    public var runningVar: Tensor
    public let features: Int
    public let eps: Float, momentum: Float
    /// The input ranks this module accepts (2 and 3 for 1-d, 4 for 2-d).
    let ranks: Set<Int>

    init(_ features: Int, eps: Float, momentum: Float, ranks: Set<Int>) {
        self.features = features
        self.eps = eps
        self.momentum = momentum
        self.ranks = ranks
        weight = Tensor.ones([features])
        weight.requiresGrad = true
        bias = Tensor.zeros([features])
        bias.requiresGrad = true
        runningMean = Tensor.zeros([features])
        runningVar = Tensor.ones([features])
    }

    public override func forward(_ input: Tensor) -> Tensor { normalize(input, relu: false) }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard ranks.contains(input.count), input[1] == features else {
            throw LayerShapeError(self, "expected input with \(features) channels on axis 1 and rank \(ranks.sorted()), got \(input)")
        }
        if isTraining && input.reduce(1, *) / features <= 1 {
            throw LayerShapeError(
                self,
                "expected more than 1 value per channel when training, got input \(input) "
                    + "(a batch of one: use a batch size above 1, or dropLast for the last partial batch)")
        }
        return input
    }

    /// `self(input).relu()` in one pass forward and backward (what `Sequential` runs for a
    /// batch norm followed by a `ReLU`, and ResNet's blocks call).
    public func forwardReLU(_ input: Tensor) -> Tensor { normalize(input, relu: true) }

    /// `relu(self(input))`: one fused pass (`forwardReLU`), unless a forward hook watches
    /// either layer (`summary()`), which must then see each output.
    public func followed(by relu: ReLU, _ input: Tensor) -> Tensor {
        hasForwardHooks || relu.hasForwardHooks ? relu(self(input)) : forwardReLU(input)
    }

    private func normalize(_ input: Tensor, relu: Bool) -> Tensor {
        guard ranks.contains(input.rank), input.shape[1] == features else {
            fatalError("\(type(of: self))(\(features)): expected input with \(features) channels on axis 1 and rank \(ranks.sorted()), got \(input.shape)")
        }
        let (output, batchMean, batchVariance) = Tensor.batchNorm(
            input, weight: weight, bias: bias, runningMean: runningMean,
            runningVariance: runningVar, training: isTraining, eps: eps,
            relu: relu)
        if isTraining {
            noGrad {
                let n = Float(input.count / features)
                runningMean = runningMean * (1 - momentum) + batchMean * momentum
                runningVar = runningVar * (1 - momentum) + batchVariance * (momentum * n / (n - 1))
            }
        }
        return output
    }

    /// The running statistics under PyTorch's names, so state dicts match PyTorch's key for key.
    public override var ownBuffers: [(name: String, tensor: Tensor)] { [("running_mean", runningMean), ("running_var", runningVar)] }

    public override var extraDescription: String { "\(features), eps=\(eps), momentum=\(momentum), affine=True" }
}

/// Batch normalisation of `[N, C]` or `[N, C, L]` inputs.
public final class BatchNorm1d: BatchNorm {
    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        super.init(features, eps: eps, momentum: momentum, ranks: [2, 3])
    }
}

/// Batch normalisation of `[N, C, H, W]` inputs.
public final class BatchNorm2d: BatchNorm {
    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        super.init(features, eps: eps, momentum: momentum, ranks: [4])
    }
}
