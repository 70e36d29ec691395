import Tensors

/// max(x, 0) element-wise.
public final class ReLU: Module {
    public override func outputShape(for input: [Int]) throws -> [Int]? { input }
    public override func forward(_ input: Tensor) -> Tensor { input.relu() }
}

/// The logistic function element-wise.
public final class Sigmoid: Module {
    public override func outputShape(for input: [Int]) throws -> [Int]? { input }
    public override func forward(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// Hyperbolic tangent element-wise.
public final class Tanh: Module {
    public override func outputShape(for input: [Int]) throws -> [Int]? { input }
    public override func forward(_ input: Tensor) -> Tensor { input.tanh() }
}

/// Softmax along `dim` (by default the last: one distribution per row).
public final class Softmax: Module {
    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard (-input.count..<input.count).contains(dim) else { throw LayerShapeError(self, "dim \(dim) is out of range for input \(input)") }
        return input
    }
    public let dim: Int
    public init(dim: Int = -1) { self.dim = dim }
    public override func forward(_ input: Tensor) -> Tensor { input.softmax(dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

/// Log-softmax along `dim` (by default the last); pair it with `nllLoss`.
public final class LogSoftmax: Module {
    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard (-input.count..<input.count).contains(dim) else { throw LayerShapeError(self, "dim \(dim) is out of range for input \(input)") }
        return input
    }
    public let dim: Int
    public init(dim: Int = -1) { self.dim = dim }
    public override func forward(_ input: Tensor) -> Tensor { input.logSoftmax(dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

/// Flattens axes `startDim...endDim` into one: `[batch, 1, 28, 28]` becomes `[batch, 784]`.
public final class Flatten: Module {
    public let startDim: Int, endDim: Int
    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
    }
    public override func forward(_ input: Tensor) -> Tensor { input.flatten(startDim: startDim, endDim: endDim) }
    public override func outputShape(for input: [Int]) throws -> [Int]? {
        let start = startDim < 0 ? startDim + input.count : startDim, end = endDim < 0 ? endDim + input.count : endDim
        guard start >= 0, end < input.count, start <= end else {
            throw LayerShapeError(self, "cannot flatten axes \(startDim)...\(endDim) of input \(input)")
        }
        return Array(input[..<start]) + [input[start...end].reduce(1, *)] + Array(input[(end + 1)...])
    }
    public override var extraDescription: String { "start_dim=\(startDim), end_dim=\(endDim)" }
}
