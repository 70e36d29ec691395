import Tensors

/// Zeroes each element with probability `p` in training mode and scales the rest by 1/(1-p),
/// so that the expected value is unchanged; does nothing in evaluation mode. The mask comes
/// from the global generator, so `seed(_:)` makes it repeat.
public final class Dropout: Module {
    public let p: Float

    public init(p: Float = 0.5) {
        precondition(p >= 0 && p < 1, "Dropout: p must be in 0..<1, got \(p)")
        self.p = p
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? { input }

    public override func forward(_ input: Tensor) -> Tensor {
        guard isTraining, p > 0 else { return input }
        let keep = (Tensor.rand(input.shape) .>= p) * (1 / (1 - p))
        return input * keep
    }

    public override var extraDescription: String { "p=\(p)" }
}
