// Shape manipulation: reshape/view, flatten, squeeze/unsqueeze, transpose/permute,
// expand/broadcast, cat/stack, split/chunk. Axes may be negative, counting from the end.

extension Tensor {
    /// The row-major strides of `shape`, in elements.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) { strides[d] = s; s *= shape[d] }
        return strides
    }

    /// `axis` as an index into a shape of `rank` axes (negative counts from the end); traps with
    /// the op's name when it is out of range. `extra` allows one past the end (for unsqueeze).
    static func normalizeAxis(_ axis: Int, rank: Int, op: String, extra: Int = 0) -> Int {
        let n = rank + extra
        let a = axis < 0 ? axis + n : axis
        guard a >= 0 && a < Swift.max(n, 1) else {
            fatalError("\(op): dimension \(axis) is out of range for a tensor of rank \(rank)")
        }
        return a
    }

    /// The same elements with a new shape (PyTorch's `reshape`/`view`). One size may be -1: it
    /// is inferred from the element count. Shares storage with `self` (no copy).
    ///
    ///     x.reshape([-1, 28 * 28])
    public func reshape(_ newShape: [Int]) -> Tensor {
        var shape = newShape
        let inferred = shape.indices.filter { shape[$0] == -1 }
        guard inferred.count <= 1 else { fatalError("reshape: only one dimension can be -1, got \(newShape)") }
        for s in shape where s < -1 { fatalError("reshape: invalid size \(s) in \(newShape)") }
        if let i = inferred.first {
            let known = shape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else {
                fatalError("reshape: shape \(newShape) is invalid for input of size \(count) (shape \(self.shape))")
            }
            shape[i] = count / known
        }
        guard Tensor.elementCount(shape) == count else {
            fatalError("reshape: shape \(newShape) is invalid for input of size \(count) (shape \(self.shape))")
        }
        return Tensor(shape: shape, storage: storage).recorded(.reshape, self)
    }

    /// Same as `reshape` (every tensor is contiguous, so a view never needs a copy).
    public func view(_ newShape: [Int]) -> Tensor { reshape(newShape) }

    /// Merges axes `startDim...endDim` into one (by default all: a vector).
    public func flatten(startDim: Int = 0, endDim: Int = -1) -> Tensor {
        if rank == 0 { return reshape([1]) }
        let s = Tensor.normalizeAxis(startDim, rank: rank, op: "flatten")
        let e = Tensor.normalizeAxis(endDim, rank: rank, op: "flatten")
        guard s <= e else { fatalError("flatten: startDim \(startDim) comes after endDim \(endDim) for shape \(shape)") }
        let merged = shape[s...e].reduce(1, *)
        return reshape(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// Removes every axis of size 1.
    public func squeeze() -> Tensor { reshape(shape.filter { $0 != 1 }) }

    /// Removes axis `dim` if its size is 1 (otherwise returns the tensor unchanged, like PyTorch).
    public func squeeze(_ dim: Int) -> Tensor {
        if rank == 0 { return self }
        let d = Tensor.normalizeAxis(dim, rank: rank, op: "squeeze")
        guard shape[d] == 1 else { return self }
        var s = shape
        s.remove(at: d)
        return reshape(s)
    }

    /// Inserts an axis of size 1 at `dim` (`-1` appends one): `t.unsqueeze(1)` turns `[n]` into `[n, 1]`.
    public func unsqueeze(_ dim: Int) -> Tensor {
        let d = Tensor.normalizeAxis(dim, rank: rank, op: "unsqueeze", extra: 1)
        var s = shape
        s.insert(1, at: d)
        return reshape(s)
    }

    /// The axes reordered: result axis `i` is `self`'s axis `dims[i]`.
    public func permute(_ dims: [Int]) -> Tensor {
        guard dims.count == rank else { fatalError("permute: \(dims) does not name each of the \(rank) dimensions of shape \(shape)") }
        let axes = dims.map { Tensor.normalizeAxis($0, rank: rank, op: "permute") }
        guard Set(axes).count == rank else { fatalError("permute: \(dims) repeats a dimension") }
        if axes == Array(0..<rank) { return self }
        let strides = Tensor.contiguousStrides(shape)
        let newShape = axes.map { shape[$0] }
        let result = Tensor(uninitializedShape: newShape)
        Kernels.stridedCopy(
            pointer, srcStrides: axes.map { strides[$0] },
            result.pointer, dstStrides: Tensor.contiguousStrides(newShape), shape: newShape)
        return result.recorded(.permute(axes: axes), self)
    }

    /// Swaps two axes (by default the last two).
    public func transpose(_ dim0: Int = -2, _ dim1: Int = -1) -> Tensor {
        if rank < 2 { return self }
        var axes = Array(0..<rank)
        axes.swapAt(Tensor.normalizeAxis(dim0, rank: rank, op: "transpose"), Tensor.normalizeAxis(dim1, rank: rank, op: "transpose"))
        return permute(axes)
    }

    /// The transpose: the axes in reverse order (a matrix's rows become its columns).
    public var T: Tensor { rank < 2 ? self : permute(Array((0..<rank).reversed())) }

    /// The tensor repeated along broadcast axes to `newShape` (PyTorch's `expand`/`broadcast_to`):
    /// each axis of size 1 (or missing on the left) may grow; the others must match.
    public func expand(to newShape: [Int]) -> Tensor {
        if newShape == shape { return self }
        guard let b = broadcastShape(shape, newShape), b == newShape else {
            fatalError(shapeMismatchMessage(op: "expand", shape, newShape, reason: "do not fit: the first cannot be broadcast to the second"))
        }
        var srcStrides = [Int](repeating: 0, count: newShape.count)
        let own = Tensor.contiguousStrides(shape)
        for d in 0..<shape.count where shape[d] != 1 { srcStrides[d + newShape.count - rank] = own[d] }
        let result = Tensor(uninitializedShape: newShape)
        Kernels.stridedCopy(
            pointer, srcStrides: srcStrides, result.pointer,
            dstStrides: Tensor.contiguousStrides(newShape), shape: newShape)
        return result.recorded(.expand, self)
    }

    /// Same as `expand(to:)`.
    public func broadcast(to newShape: [Int]) -> Tensor { expand(to: newShape) }

    /// Joins tensors along an existing axis; all other sizes must match.
    ///
    ///     Tensor.cat([threes, sevens])   // [n3 + n7, 28, 28]
    public static func cat(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        guard let first = tensors.first else { fatalError("cat: expected a non-empty list of tensors") }
        let d = normalizeAxis(dim, rank: first.rank, op: "cat")
        for t in tensors.dropFirst() {
            var a = first.shape, b = t.shape
            guard a.count == b.count else {
                fatalError(shapeMismatchMessage(op: "cat", first.shape, t.shape, reason: "differ in rank"))
            }
            a[d] = 0; b[d] = 0
            guard a == b else {
                fatalError(shapeMismatchMessage(op: "cat", first.shape, t.shape, reason: "differ outside dimension \(d)"))
            }
        }
        var shape = first.shape
        shape[d] = tensors.reduce(0) { $0 + $1.shape[d] }
        let result = Tensor(uninitializedShape: shape)
        let outer = shape[..<d].reduce(1, *)
        let inner = shape[(d + 1)...].reduce(1, *)
        let rowLength = shape[d] * inner
        var offset = 0
        for t in tensors {
            let chunk = t.shape[d] * inner
            for o in 0..<outer {
                (result.pointer + o * rowLength + offset).update(from: t.pointer + o * chunk, count: chunk)
            }
            offset += chunk
        }
        return result.recorded(.cat(dim: d), inputs: tensors)
    }

    /// Joins same-shaped tensors along a new axis: `stack` of n `[28, 28]` images is `[n, 28, 28]`.
    public static func stack(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        guard let first = tensors.first else { fatalError("stack: expected a non-empty list of tensors") }
        for t in tensors where t.shape != first.shape {
            fatalError(shapeMismatchMessage(op: "stack", first.shape, t.shape, reason: "differ: stack needs equal shapes"))
        }
        let d = normalizeAxis(dim, rank: first.rank, op: "stack", extra: 1)
        return cat(tensors.map { $0.unsqueeze(d) }, dim: d)
    }

    /// Splits into pieces of `size` along `dim` (the last may be smaller).
    public func split(_ size: Int, dim: Int = 0) -> [Tensor] {
        precondition(size > 0, "split: size \(size) must be positive")
        let d = Tensor.normalizeAxis(dim, rank: rank, op: "split")
        let n = shape[d]
        return stride(from: 0, to: Swift.max(n, 1), by: size).map { narrow(dim: d, start: $0, length: Swift.min(size, n - $0)) }
    }

    /// Splits into pieces of the given sizes along `dim`; the sizes must add up to its length.
    public func split(sizes: [Int], dim: Int = 0) -> [Tensor] {
        let d = Tensor.normalizeAxis(dim, rank: rank, op: "split")
        guard sizes.reduce(0, +) == shape[d], sizes.allSatisfy({ $0 >= 0 }) else {
            fatalError("split: sizes \(sizes) do not add up to \(shape[d]), the length of dimension \(d) of shape \(shape)")
        }
        var start = 0
        return sizes.map { length in
            defer { start += length }
            return narrow(dim: d, start: start, length: length)
        }
    }

    /// Splits into `chunks` nearly equal pieces along `dim` (torch.chunk: pieces of
    /// ceil(length / chunks), so there may be fewer than `chunks`).
    public func chunk(_ chunks: Int, dim: Int = 0) -> [Tensor] {
        precondition(chunks > 0, "chunk: number of chunks \(chunks) must be positive")
        let d = Tensor.normalizeAxis(dim, rank: rank, op: "chunk")
        return split(Swift.max(1, (shape[d] + chunks - 1) / chunks), dim: d)
    }

    /// The elements `start ..< start + length` along `dim`, as a new tensor.
    public func narrow(dim: Int, start: Int, length: Int) -> Tensor {
        let d = Tensor.normalizeAxis(dim, rank: rank, op: "narrow")
        guard start >= 0, length >= 0, start + length <= shape[d] else {
            fatalError("narrow: range \(start)..<\(start + length) is out of bounds for dimension \(d) of shape \(shape)")
        }
        var ranges = shape.map { 0..<$0 }
        ranges[d] = start..<(start + length)
        return slice(ranges)
    }
}
