import Autograd
import Tensors

/// A lookup table of `count` learned vectors of `dimension` floats (PyTorch's `nn.Embedding`, with
/// fastai's initialisation: normal with std 0.01, truncated at ±2): row `i` of `weight` is the
/// vector of index `i`. Its gradient is an index-add into the rows a batch touched, never a
/// product with a one-hot matrix over the whole vocabulary.
///
///     let users = Embedding(944, 50)
///     users(indices: [3, 17, 3])                 // [3, 50]
public final class Embedding: Module {
    /// `[count, dimension]`.
    public var weight: Tensor
    public let count: Int, dimension: Int

    public init(_ count: Int, _ dimension: Int) {
        precondition(count > 0 && dimension > 0, "Embedding: sizes must be positive, got \(count) x \(dimension)")
        self.count = count
        self.dimension = dimension
        weight = Tensor.normal([count, dimension], mean: 0, std: 0.01).clamp(min: -2, max: 2)
        weight.requiresGrad = true
    }

    /// The vectors of `indices` (each in `0..<count`): `[indices.count, dimension]`.
    public func callAsFunction(indices: [Int]) -> Tensor {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            fatalError("Embedding(\(count), \(dimension)): index \(bad) is out of range 0..<\(count)")
        }
        return weight[indices]
    }

    /// The vectors of a tensor of whole-number indices of any shape: `input.shape + [dimension]`.
    public override func forward(_ input: Tensor) -> Tensor {
        self(indices: input.indices()).reshape(input.shape + [dimension])
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? { input + [dimension] }

    public override var extraDescription: String { "\(count), \(dimension)" }
}

/// `sigmoid(x) · (high - low) + low`: outputs squeezed into `low...high` (fastai's `SigmoidRange`,
/// `y_range`).
public final class SigmoidRange: Module {
    public let low: Float, high: Float

    public init(_ low: Float, _ high: Float) {
        self.low = low
        self.high = high
    }

    public override func forward(_ input: Tensor) -> Tensor { input.sigmoid() * (high - low) + low }

    public override func outputShape(for input: [Int]) throws -> [Int]? { input }

    public override var extraDescription: String { "low=\(low), high=\(high)" }
}
