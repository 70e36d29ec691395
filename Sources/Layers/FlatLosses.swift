import Tensors

// fastai's loss classes (`BaseLoss` and its `...Flat` subclasses): a loss that also knows the
// activation turning a model's outputs into predictions (softmax, sigmoid, none) and how those
// predictions decode into targets (the most likely class, the labels over a threshold, the
// values themselves). `getPreds`, `predict` and `showResults` use both; a target block names the
// one its targets need, and the Learner takes it when no loss is given.

/// A loss with its activation and its decoding (fastai's `BaseLoss`). Outputs and targets are
/// flattened as fastai's `...Flat` losses do, so images of class scores `[N, C, H, W]` against
/// masks `[N, H, W]` need no reshaping.
public protocol BaseLoss: Sendable {
    /// The loss of the model's `outputs` against `targets`: a scalar tensor (with gradients).
    func callAsFunction(_ outputs: Tensor, _ targets: Tensor) -> Tensor
    /// The model's outputs as predictions: probabilities for classes, the outputs for values.
    func activation(_ outputs: Tensor) -> Tensor
    /// Predictions (`activation`'s result) decoded into the targets' form.
    func decodes(_ predictions: Tensor) -> Tensor
}

/// Cross-entropy over the classes on `axis` (fastai's `CrossEntropyLossFlat`): scores
/// `[N, C]` against `N` class indices, or with `axis: 1` scores `[N, C, H, W]` against
/// `[N, H, W]` masks of class indices (every pixel one row). Activation: softmax over `axis`;
/// decodes: the most likely class.
public struct CrossEntropyLossFlat: BaseLoss {
    /// The axis of the class scores (-1: the last).
    public let axis: Int

    public init(axis: Int = -1) { self.axis = axis }

    public func callAsFunction(_ outputs: Tensor, _ targets: Tensor) -> Tensor {
        let rows = scoresAsRows(outputs)
        guard targets.count == rows.shape[0] else {
            fatalError("CrossEntropyLossFlat: \(rows.shape[0]) rows of class scores (outputs \(outputs.shape)) but \(targets.count) targets \(targets.shape)")
        }
        return Tensor.crossEntropy(logits: rows, targets: targets.indices())
    }

    /// `[..., C, ...]` with the classes on `axis` as rows `[M, C]`.
    private func scoresAsRows(_ outputs: Tensor) -> Tensor {
        let dim = axis < 0 ? outputs.rank + axis : axis
        guard outputs.rank > 1, dim >= 0, dim < outputs.rank else { return outputs.reshape([-1, 1]) }
        let classes = outputs.shape[dim]
        guard dim != outputs.rank - 1 else { return outputs.reshape([-1, classes]) }
        var order = Array(0..<outputs.rank)
        order.remove(at: dim)
        return outputs.permute(order + [dim]).reshape([-1, classes])
    }

    public func activation(_ outputs: Tensor) -> Tensor { outputs.softmax(dim: axis) }
    public func decodes(_ predictions: Tensor) -> Tensor { predictions.argmax(dim: axis) }
}

/// Binary cross-entropy on logits, for several labels per item (fastai's `BCEWithLogitsLossFlat`):
/// outputs `[N, classes]` against one-hot targets of the same size. Activation: sigmoid;
/// decodes: 1 where the probability exceeds `threshold`, else 0.
public struct BCEWithLogitsLossFlat: BaseLoss {
    /// The probability above which a label is predicted (fastai's `thresh`).
    public let threshold: Float

    public init(threshold: Float = 0.5) { self.threshold = threshold }

    public func callAsFunction(_ outputs: Tensor, _ targets: Tensor) -> Tensor { binaryCrossEntropyWithLogits(outputs, targets) }
    public func activation(_ outputs: Tensor) -> Tensor { outputs.sigmoid() }
    public func decodes(_ predictions: Tensor) -> Tensor { predictions .> threshold }
}

/// Mean squared error over every value (fastai's `MSELossFlat`), for regression and points:
/// outputs and targets of the same number of values. No activation; decodes to the values.
public struct MSELossFlat: BaseLoss {
    public init() {}
    public func callAsFunction(_ outputs: Tensor, _ targets: Tensor) -> Tensor { mse(outputs, targets) }
    public func activation(_ outputs: Tensor) -> Tensor { outputs }
    public func decodes(_ predictions: Tensor) -> Tensor { predictions }
}

/// Mean absolute error over every value (fastai's `L1LossFlat`). No activation; decodes to the values.
public struct L1LossFlat: BaseLoss {
    public init() {}
    public func callAsFunction(_ outputs: Tensor, _ targets: Tensor) -> Tensor { l1(outputs, targets) }
    public func activation(_ outputs: Tensor) -> Tensor { outputs }
    public func decodes(_ predictions: Tensor) -> Tensor { predictions }
}
