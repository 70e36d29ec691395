// Reductions over everything or one axis, with `keepDim`: sum, mean, max, min, argmax,
// argmin, variance, std.

extension Tensor {
    /// Views the tensor as `[outer, n, inner]` around axis `dim`.
    private func around(_ dim: Int, op: String) -> (axis: Int, outer: Int, n: Int, inner: Int) {
        if rank == 0 { return (0, 1, 1, 1) }
        let d = Tensor.normalizeAxis(dim, rank: rank, op: op)
        return (d, shape[..<d].reduce(1, *), shape[d], shape[(d + 1)...].reduce(1, *))
    }

    private func reducedShape(_ axis: Int, keepDim: Bool) -> [Int] {
        if rank == 0 { return [] }
        var s = shape
        if keepDim { s[axis] = 1 } else { s.remove(at: axis) }
        return s
    }

    private func reduced<Op: ReduceOp>(_ op: Op, dim: Int?, keepDim: Bool, name: String) -> Tensor {
        guard let dim else {
            if count == 0 && !(op is SumReduce) { fatalError("\(name): cannot reduce an empty tensor") }
            let result = Tensor(uninitializedShape: keepDim ? shape.map { _ in 1 } : [])
            Kernels.reduce(op, pointer, outer: 1, n: count, inner: 1, result.pointer)
            return result
        }
        let (axis, outer, n, inner) = around(dim, op: name)
        if n == 0 && !(op is SumReduce) { fatalError("\(name): cannot reduce dimension \(dim) of size 0 (shape \(shape))") }
        let result = Tensor(uninitializedShape: reducedShape(axis, keepDim: keepDim))
        Kernels.reduce(op, pointer, outer: outer, n: n, inner: inner, result.pointer)
        return result
    }

    /// The sum of all elements (as a scalar tensor), or along `dim`.
    public func sum(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        reduced(SumReduce(), dim: dim, keepDim: keepDim, name: "sum").recorded(.sum(dim: dim, keepDim: keepDim), self)
    }

    /// The sum over several axes at once.
    public func sum(dims: [Int], keepDim: Bool = false) -> Tensor {
        let axes = Set(dims.map { Tensor.normalizeAxis($0, rank: rank, op: "sum") }).sorted(by: >)
        var result = self
        for axis in axes { result = result.sum(dim: axis, keepDim: true) }
        return keepDim ? result : result.reshape(shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
    }

    /// The mean of all elements, or along `dim`.
    public func mean(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        let n = dim.map { around($0, op: "mean").n } ?? count
        return sum(dim: dim, keepDim: keepDim) * (1 / Float(n))
    }

    /// The largest element, or the largest along `dim` (values only; `argmax(dim:)` gives positions).
    public func max(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        reduced(MaxReduce(), dim: dim, keepDim: keepDim, name: "max").recorded(.extreme(dim: dim, keepDim: keepDim), self)
    }

    /// The smallest element, or the smallest along `dim`.
    public func min(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        reduced(MinReduce(), dim: dim, keepDim: keepDim, name: "min").recorded(.extreme(dim: dim, keepDim: keepDim), self)
    }

    private func argReduced(dim: Int?, keepDim: Bool, largest: Bool, name: String) -> Tensor {
        if count == 0 { fatalError("\(name): cannot reduce an empty tensor") }
        guard let dim else {
            let result = Tensor(uninitializedShape: keepDim ? shape.map { _ in 1 } : [])
            Kernels.argReduce(pointer, outer: 1, n: count, inner: 1, largest: largest, result.pointer)
            return result
        }
        let (axis, outer, n, inner) = around(dim, op: name)
        let result = Tensor(uninitializedShape: reducedShape(axis, keepDim: keepDim))
        Kernels.argReduce(pointer, outer: outer, n: n, inner: inner, largest: largest, result.pointer)
        return result
    }

    /// The position of the largest element (in the flattened tensor), or along `dim`, as
    /// whole-number Floats: `(preds.argmax(dim: 1) .== y).mean()` is the accuracy.
    public func argmax(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        argReduced(dim: dim, keepDim: keepDim, largest: true, name: "argmax")
    }

    /// The position of the smallest element, or along `dim`.
    public func argmin(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        argReduced(dim: dim, keepDim: keepDim, largest: false, name: "argmin")
    }

    /// The variance of all elements, or along `dim`; `unbiased` divides by n - 1 (PyTorch's default).
    public func variance(dim: Int? = nil, unbiased: Bool = true, keepDim: Bool = false) -> Tensor {
        let n = dim.map { around($0, op: "var").n } ?? count
        let centred = self - mean(dim: dim, keepDim: true)
        let divisor = Float(Swift.max(n - (unbiased ? 1 : 0), 0))
        return centred.square().sum(dim: dim, keepDim: keepDim) / divisor
    }

    /// The standard deviation of all elements, or along `dim`.
    public func std(dim: Int? = nil, unbiased: Bool = true, keepDim: Bool = false) -> Tensor {
        variance(dim: dim, unbiased: unbiased, keepDim: keepDim).sqrt()
    }
}
