// Making tensors: from scalars and (nested) arrays, filled, ranges, identity, random.

extension Tensor {
    /// A scalar (rank-0) tensor.
    public init(_ value: Float) {
        self.init(shape: [], storage: TensorStorage(repeating: value, count: 1))
    }

    /// A vector holding `scalars`.
    public init(_ scalars: [Float]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// A matrix from its rows: `Tensor([[1, 2], [3, 4]])` has shape `[2, 2]`.
    /// Traps when the rows differ in length.
    public init(_ rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        for (i, row) in rows.enumerated() where row.count != columns {
            fatalError("Tensor([[Float]]): row \(i) has \(row.count) elements, row 0 has \(columns)")
        }
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// A rank-3 tensor from nested arrays; every inner array must have the same length.
    public init(_ planes: [[[Float]]]) {
        if planes.isEmpty { self.init(shape: [0, 0, 0], scalars: []); return }
        self = Tensor.stack(planes.map { Tensor($0) })
    }

    /// A rank-4 tensor from nested arrays; every inner array must have the same length.
    public init(_ blocks: [[[[Float]]]]) {
        if blocks.isEmpty { self = Tensor(shape: [0, 0, 0, 0], scalars: []); return }
        self = Tensor.stack(blocks.map { Tensor($0) })
    }

    /// A tensor from 8-bit pixel values scaled into `0...1` (value / 255), e.g. a grayscale
    /// image as `[1, 28, 28]` or `[28, 28]`.
    public init(pixels: [UInt8], shape: [Int]) {
        Tensor.checkShape(shape, op: "Tensor(pixels:shape:)")
        guard Tensor.elementCount(shape) == pixels.count else {
            fatalError("Tensor(pixels:shape:): shape \(shape) needs \(Tensor.elementCount(shape)) pixels, got \(pixels.count)")
        }
        self.init(uninitializedShape: shape)
        let out = pointer
        pixels.withUnsafeBufferPointer { src in
            for i in 0..<src.count { out[i] = Float(src[i]) * (1 / 255) }
        }
    }

    /// A tensor of `shape` with every element `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        checkShape(shape, op: "full")
        return Tensor(shape: shape, storage: TensorStorage(repeating: value, count: elementCount(shape)))
    }

    /// Zeros of the given shape.
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }
    /// Ones of the given shape.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }
    /// Zeros shaped like `other`.
    public static func zeros(like other: Tensor) -> Tensor { full(other.shape, 0) }
    /// Ones shaped like `other`.
    public static func ones(like other: Tensor) -> Tensor { full(other.shape, 1) }
    /// `value` everywhere, shaped like `other`.
    public static func full(like other: Tensor, _ value: Float) -> Tensor { full(other.shape, value) }

    /// `[start, start + step, ...]` up to but excluding `end` (torch.arange).
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0, "arange: step must not be zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = start + Float(i) * step }
        return Tensor(values)
    }

    /// `[0, 1, ..., end - 1]`.
    public static func arange(_ end: Int) -> Tensor { arange(0, Float(end)) }

    /// `count` evenly spaced values from `start` to `end`, both included (torch.linspace).
    public static func linspace(_ start: Float, _ end: Float, count: Int) -> Tensor {
        precondition(count >= 0, "linspace: count \(count) must not be negative")
        if count == 1 { return Tensor([start]) }
        let step = (end - start) / Float(Swift.max(count - 1, 1))
        var values = [Float](repeating: 0, count: count)
        // Fill from both ends, as PyTorch does, so that the last value is exactly `end`.
        let half = count / 2
        for i in 0..<count { values[i] = i < half ? start + step * Float(i) : end - step * Float(count - 1 - i) }
        return Tensor(values)
    }

    /// The `n × m` identity matrix (ones on the diagonal).
    public static func eye(_ n: Int, _ m: Int? = nil) -> Tensor {
        let columns = m ?? n
        let result = zeros([n, columns])
        for i in 0..<Swift.min(n, columns) { result.pointer[i * columns + i] = 1 }
        return result
    }

    /// Standard normal samples (mean 0, std 1), drawn from `generator` or the global generator.
    public static func randn(_ shape: [Int], generator: RandomGenerator? = nil) -> Tensor {
        normal(shape, mean: 0, std: 1, generator: generator)
    }

    /// Uniform samples in `0 ..< 1`.
    public static func rand(_ shape: [Int], generator: RandomGenerator? = nil) -> Tensor {
        uniform(shape, 0, 1, generator: generator)
    }

    /// Uniform samples in `low ..< high`.
    public static func uniform(_ shape: [Int], _ low: Float, _ high: Float, generator: RandomGenerator? = nil) -> Tensor {
        var result = zeros(shape)
        result.uniformInPlace(low, high, generator: generator)
        return result
    }

    /// Normal samples with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, generator: RandomGenerator? = nil) -> Tensor {
        var result = zeros(shape)
        result.normalInPlace(mean: mean, std: std, generator: generator)
        return result
    }

    /// A random permutation of `0 ..< n`, as an index list (`x[Tensor.randperm(n)]` shuffles rows).
    public static func randperm(_ n: Int, generator: RandomGenerator? = nil) -> [Int] {
        Random.using(generator) { $0.permutation(n) }
    }

    /// Fills the tensor with uniform samples in `low ..< high` (PyTorch's `uniform_`).
    /// Works through subscripts too: `w[..., 0].uniformInPlace(-1, 1)`.
    public mutating func uniformInPlace(_ low: Float = 0, _ high: Float = 1, generator: RandomGenerator? = nil) {
        prepareInPlace("uniform_")
        makeUnique()
        let out = pointer, n = count
        Random.using(generator) { g in
            for i in 0..<n { out[i] = low + (high - low) * g.nextUniform() }
        }
    }

    /// Fills the tensor with normal samples (PyTorch's `normal_`).
    public mutating func normalInPlace(mean: Float = 0, std: Float = 1, generator: RandomGenerator? = nil) {
        prepareInPlace("normal_")
        makeUnique()
        let out = pointer, n = count
        Random.using(generator) { g in
            for i in 0..<n { out[i] = mean + std * g.nextNormal() }
        }
    }

    /// Sets every element to `value` (PyTorch's `fill_`).
    public mutating func fill(_ value: Float) {
        prepareInPlace("fill_")
        makeUnique()
        pointer.update(repeating: value, count: count)
    }
}

// MARK: - Conversions out

extension Tensor {
    /// The rows of a matrix as nested arrays. Traps unless the tensor has rank 2.
    public func toArray2D() -> [[Float]] {
        guard rank == 2 else { fatalError("toArray2D: tensor of shape \(shape) is not a matrix") }
        let columns = shape[1]
        return (0..<shape[0]).map { [Float](UnsafeBufferPointer(start: pointer + $0 * columns, count: columns)) }
    }

    /// A rank-3 tensor as nested arrays.
    public func toArray3D() -> [[[Float]]] {
        guard rank == 3 else { fatalError("toArray3D: tensor of shape \(shape) is not rank 3") }
        return (0..<shape[0]).map { self[$0].toArray2D() }
    }

    /// The elements as 8-bit pixels: each clamped to `0...1`, times 255, rounded.
    public func toPixels() -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            let v = pointer[i]
            result[i] = v.isNaN ? 0 : UInt8((Swift.min(Swift.max(v, 0), 1) * 255).rounded())
        }
        return result
    }
}

extension Tensor {
    /// The tensor itself: every FastSwift tensor already holds Floats (comparisons give 0/1
    /// Floats). It lets PyTorch code such as `(preds .> 0.5).float().mean()` read the same.
    public func float() -> Tensor { self }
}
