import Tensors

/// A metric: a name and a function of a batch's predictions and targets, averaged over the
/// whole validation set weighted by batch size (a short last batch counts by its size).
///
///     let batchAccuracy = Metric("batch_accuracy") { p, y in ((p.sigmoid() .> 0.5) .== y).mean().item() }
public struct Metric {
    public let name: String
    public let function: (Tensor, Tensor) -> Float

    public init(_ name: String, _ function: @escaping (Tensor, Tensor) -> Float) {
        self.name = name
        self.function = function
    }
}

/// The share of rows whose highest score is the target class.
public var accuracy: Metric {
    Metric("accuracy") { predictions, targets in (predictions.argmax(dim: -1) .== targets.reshape([-1])).mean().item() }
}

/// 1 - accuracy.
public var errorRate: Metric {
    Metric("error_rate") { predictions, targets in 1 - (predictions.argmax(dim: -1) .== targets.reshape([-1])).mean().item() }
}
