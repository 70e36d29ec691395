// Indexing and assignment through subscripts, with PyTorch's meanings:
//   x[i]              first axis at i (negative counts from the end): rank drops by one
//   x[0..<5], x[2...] a range of the first axis
//   x[..., 0]         every row, column 0 (PyTorch's x[:, 0]); x[..., 1..<3] columns 1 and 2
//   x[.all, 0, 2..<4] any mix per axis, with TensorIndex
//   x[[3, 0, 7]]      rows gathered by an index list (x[randIdx])
//   x[mask: m]        the elements (or rows) where a 0/1 mask is non-zero
// Every subscript also assigns: the new value broadcasts to the selection's shape, so
// `x[..., 0].uniformInPlace(-1, 1)` fills a column in place.

/// One axis of a multi-axis subscript.
public enum TensorIndex: ExpressibleByIntegerLiteral, Sendable {
    /// A single position (the axis disappears from the result). Negative counts from the end.
    case index(Int)
    /// A range of positions (the axis stays).
    case range(Range<Int>)
    /// A range from `lowerBound` to the end of the axis.
    case from(Int)
    /// The whole axis (PyTorch's `:`).
    case all

    public init(integerLiteral value: Int) { self = .index(value) }
}

extension Tensor {
    /// Resolves per-axis indices into one range per axis plus the axes to drop.
    private func resolve(_ indices: [TensorIndex], op: String) -> (ranges: [Range<Int>], dropped: [Int]) {
        guard indices.count <= rank else {
            fatalError("\(op): too many indices (\(indices.count)) for a tensor of shape \(shape)")
        }
        var ranges = shape.map { 0..<$0 }
        var dropped: [Int] = []
        for (axis, index) in indices.enumerated() {
            let size = shape[axis]
            switch index {
            case .index(let i):
                let j = i < 0 ? i + size : i
                guard j >= 0 && j < size else {
                    fatalError("\(op): index \(i) is out of bounds for dimension \(axis) with size \(size) (shape \(shape))")
                }
                ranges[axis] = j..<(j + 1)
                dropped.append(axis)
            case .range(let r):
                guard r.lowerBound >= 0 && r.upperBound <= size else {
                    fatalError("\(op): range \(r) is out of bounds for dimension \(axis) with size \(size) (shape \(shape))")
                }
                ranges[axis] = r
            case .from(let start):
                guard start >= 0 && start <= size else {
                    fatalError("\(op): range \(start)... is out of bounds for dimension \(axis) with size \(size) (shape \(shape))")
                }
                ranges[axis] = start..<size
            case .all:
                break
            }
        }
        return (ranges, dropped)
    }

    /// The sub-tensor selected by one range per axis (rank unchanged), copied.
    func slice(_ ranges: [Range<Int>]) -> Tensor {
        let newShape = ranges.map(\.count)
        let strides = Tensor.contiguousStrides(shape)
        var offset = 0
        for d in 0..<rank { offset += ranges[d].lowerBound * strides[d] }
        let result = Tensor(uninitializedShape: newShape)
        if result.count > 0 {
            Kernels.stridedCopy(
                pointer + offset, srcStrides: strides, result.pointer,
                dstStrides: Tensor.contiguousStrides(newShape), shape: newShape)
        }
        return result.recorded(.slice(ranges: ranges), self)
    }

    /// Writes `value` (broadcast to the selection's shape) into the sub-tensor selected by
    /// one range per axis.
    mutating func assignSlice(_ ranges: [Range<Int>], _ value: Tensor, selectionShape: [Int], op: String) {
        let sliceShape = ranges.map(\.count)
        guard let b = broadcastShape(value.shape, selectionShape), b == selectionShape else {
            fatalError(
                shapeMismatchMessage(
                    op: op, value.shape, selectionShape,
                    reason: "do not fit: the value cannot be broadcast to the selection"))
        }
        prepareInPlace(op)
        makeUnique()
        let source = value.expand(to: selectionShape)
        let strides = Tensor.contiguousStrides(shape)
        var offset = 0
        for d in 0..<rank { offset += ranges[d].lowerBound * strides[d] }
        if source.count > 0 {
            Kernels.stridedCopy(
                source.pointer, srcStrides: Tensor.contiguousStrides(sliceShape),
                pointer + offset, dstStrides: strides, shape: sliceShape)
        }
    }

    /// Selects with one `TensorIndex` per leading axis (the rest are taken whole).
    public subscript(_ indices: TensorIndex...) -> Tensor {
        get { self[indices] }
        set { self[indices] = newValue }
    }

    /// Selects with one `TensorIndex` per leading axis (the rest are taken whole).
    public subscript(_ indices: [TensorIndex]) -> Tensor {
        get {
            let (ranges, dropped) = resolve(indices, op: "index")
            let sliced = slice(ranges)
            if dropped.isEmpty { return sliced }
            return sliced.reshape(sliced.shape.enumerated().filter { !dropped.contains($0.offset) }.map(\.element))
        }
        set {
            let (ranges, dropped) = resolve(indices, op: "index assignment")
            let selection = ranges.enumerated().filter { !dropped.contains($0.offset) }.map(\.element.count)
            assignSlice(ranges, newValue, selectionShape: selection, op: "index assignment")
        }
    }

    /// One position on each leading axis: `x[i, j]` (each axis disappears from the result).
    public subscript(_ indices: Int...) -> Tensor {
        get { self[indices.map { .index($0) }] }
        set { self[indices.map { .index($0) }] = newValue }
    }

    /// The first axis at `i` (negative counts from the end).
    public subscript(_ i: Int) -> Tensor {
        get { self[[.index(i)]] }
        set { self[[.index(i)]] = newValue }
    }

    /// A range of the first axis: `x[0..<5]`, `x[2...]`, `x[..<3]`.
    public subscript<R: RangeExpression>(_ range: R) -> Tensor where R.Bound == Int {
        get { self[[.range(firstAxisRange(range))]] }
        set { self[[.range(firstAxisRange(range))]] = newValue }
    }

    /// Every row, column `j` (PyTorch's `x[:, j]`).
    public subscript(_: UnboundedRange, _ j: Int) -> Tensor {
        get { self[[.all, .index(j)]] }
        set { self[[.all, .index(j)]] = newValue }
    }

    /// Every row, a range of columns (PyTorch's `x[:, a:b]`).
    public subscript<R: RangeExpression>(_: UnboundedRange, _ columns: R) -> Tensor where R.Bound == Int {
        get { self[[.all, .range(axisRange(columns, axis: 1))]] }
        set { self[[.all, .range(axisRange(columns, axis: 1))]] = newValue }
    }

    private func firstAxisRange<R: RangeExpression>(_ range: R) -> Range<Int> where R.Bound == Int {
        axisRange(range, axis: 0)
    }

    private func axisRange<R: RangeExpression>(_ range: R, axis: Int) -> Range<Int> where R.Bound == Int {
        guard axis < rank else { fatalError("index: dimension \(axis) does not exist in a tensor of shape \(shape)") }
        return range.relative(to: 0..<shape[axis])
    }

    /// Rows gathered by an index list (negative indices count from the end); assigning
    /// scatters rows back (`x[idx] = v`).
    ///
    ///     let shuffled = x[Tensor.randperm(x.shape[0])]
    public subscript(_ indices: [Int]) -> Tensor {
        get {
            guard rank >= 1 else { fatalError("index: cannot gather rows of a scalar") }
            return gatherBlocks(resolveRows(indices, op: "index"), trailing: Array(shape.dropFirst()))
        }
        set {
            guard rank >= 1 else { fatalError("index assignment: cannot scatter rows of a scalar") }
            scatterBlocks(resolveRows(indices, op: "index assignment"), trailing: Array(shape.dropFirst()), newValue, op: "index assignment")
        }
    }

    private func resolveRows(_ indices: [Int], op: String) -> [Int] {
        indices.map { i in
            let j = i < 0 ? i + shape[0] : i
            guard j >= 0 && j < shape[0] else {
                fatalError("\(op): index \(i) is out of bounds for dimension 0 with size \(shape[0]) (shape \(shape))")
            }
            return j
        }
    }

    /// The elements (or, for a mask over the leading axes, the sub-tensors) where `mask` is
    /// non-zero, stacked along a new first axis (PyTorch's `x[mask]`). `mask`'s shape must equal
    /// `self`'s leading axes. Assigning writes `newValue` (broadcast) into those places.
    public subscript(mask mask: Tensor) -> Tensor {
        get { gatherBlocks(maskedPositions(mask, op: "masked select"), trailing: Array(shape[mask.rank...])) }
        set { scatterBlocks(maskedPositions(mask, op: "masked assignment"), trailing: Array(shape[mask.rank...]), newValue, op: "masked assignment") }
    }

    private func maskedPositions(_ mask: Tensor, op: String) -> [Int] {
        guard mask.rank <= rank, Array(shape[..<mask.rank]) == mask.shape else {
            fatalError(shapeMismatchMessage(op: op, shape, mask.shape, reason: "do not fit: the mask must match the leading dimensions"))
        }
        var positions: [Int] = []
        for i in 0..<mask.count where mask.pointer[i] != 0 { positions.append(i) }
        return positions
    }

    /// The blocks of shape `trailing` at flat block positions `positions` (viewing `self` as
    /// `[blocks] + trailing`), stacked into `[positions.count] + trailing`.
    private func gatherBlocks(_ positions: [Int], trailing: [Int]) -> Tensor {
        let length = Tensor.elementCount(trailing)
        let result = Tensor(uninitializedShape: [positions.count] + trailing)
        for (k, p) in positions.enumerated() {
            (result.pointer + k * length).update(from: pointer + p * length, count: length)
        }
        return result.recorded(.gatherBlocks(positions: positions, blockLength: length), self)
    }

    /// Writes `value`, broadcast to `[positions.count] + trailing`, into the blocks at `positions`.
    private mutating func scatterBlocks(_ positions: [Int], trailing: [Int], _ value: Tensor, op: String) {
        let selection = [positions.count] + trailing
        guard let b = broadcastShape(value.shape, selection), b == selection else {
            fatalError(
                shapeMismatchMessage(
                    op: op, value.shape, selection,
                    reason: "do not fit: the value cannot be broadcast to the selection"))
        }
        let source = value.expand(to: selection)
        prepareInPlace(op)
        makeUnique()
        let length = Tensor.elementCount(trailing)
        for (k, p) in positions.enumerated() {
            (pointer + p * length).update(from: source.pointer + k * length, count: length)
        }
    }
}
