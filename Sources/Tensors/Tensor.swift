/// An n-dimensional array of `Float`s: FastSwift's one numeric type.
///
/// A tensor has a `shape` (`[]` for a scalar, `[3]` for a vector, `[2, 3]` for a matrix, ...)
/// and stores its elements contiguously in row-major order. It is a value: assigning it shares
/// the storage, and the first mutation of a shared tensor copies it (copy-on-write).
///
/// Ops follow PyTorch's semantics and broadcasting rules:
///
///     let x = Tensor([[1, 2], [3, 4]])
///     let y = (x * 2 + 1).sigmoid()          // element-wise, with scalars on either side
///     let z = x • Tensor.randn([2, 5])       // matrix product (PyTorch's `x @ w`)
///     print(x.sum(dim: 0))                   // tensor([4., 6.])
///
/// Integer data (class labels, indices) is held as whole-number Floats, exact up to 2²⁴;
/// index lists are plain `[Int]` arrays (`x[indices]`, `Tensor.randperm(n)`).
public struct Tensor: Sendable {
    /// The elements, row-major.
    var storage: TensorStorage
    /// The size of each axis, outermost first.
    public private(set) var shape: [Int]
    /// Autograd's record (nil for a plain tensor); shared by every copy of this tensor.
    var record: GradientRecord?

    /// A tensor of the given shape holding `storage`'s elements (their count must match).
    init(shape: [Int], storage: TensorStorage) {
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of `shape` whose elements are uninitialised: the caller writes them all.
    init(uninitializedShape shape: [Int], hugePages: Bool = false) {
        self.init(shape: shape, storage: TensorStorage(uninitializedCount: Tensor.elementCount(shape), hugePages: hugePages))
    }

    /// A tensor with the given shape and elements, row-major.
    ///
    ///     Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
    ///
    /// Traps when `scalars.count` is not the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        Tensor.checkShape(shape, op: "Tensor(shape:scalars:)")
        guard Tensor.elementCount(shape) == scalars.count else {
            fatalError("Tensor(shape:scalars:): shape \(shape) needs \(Tensor.elementCount(shape)) elements, got \(scalars.count)")
        }
        let storage = TensorStorage(uninitializedCount: scalars.count)
        scalars.withUnsafeBufferPointer { storage.pointer.initialize(from: $0.baseAddress!, count: $0.count) }
        self.init(shape: shape, storage: storage)
    }

    /// The number of axes: 0 for a scalar, 1 for a vector, 2 for a matrix.
    public var rank: Int { shape.count }

    /// The number of elements (PyTorch's `numel()`).
    public var count: Int { storage.count }

    /// The elements in row-major order.
    public var scalars: [Float] {
        [Float](UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// The value of a one-element tensor (PyTorch's `item()`). Traps when there is more than one.
    public func item() -> Float {
        guard count == 1 else { fatalError("item(): tensor of shape \(shape) has \(count) elements, not 1") }
        return storage.pointer[0]
    }

    /// Calls `body` with the elements, row-major.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Calls `body` with the elements for writing, copying them first if the storage is shared.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        prepareInPlace("withUnsafeMutableBufferPointer")
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Copies the storage if another tensor shares it, so that this one may write to it.
    ///
    /// Parameters (leaves that require gradients) are the exception: like PyTorch tensors, all
    /// copies of a parameter are the same parameter, so an optimizer's in-place step, made on
    /// its own copy, changes the model's too.
    /// Every in-place write goes through here, so it also marks the storage as changed.
    mutating func makeUnique() {
        defer { storage.version &+= 1 }
        if let record, record.isLeaf, record.requiresGrad { return }
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// Read-only pointer to the elements; valid while `self` is alive and unmodified.
    var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    /// The product of `shape`'s sizes (1 for a scalar).
    static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for s in shape { n *= s }
        return n
    }

    /// Traps unless every size in `shape` is non-negative.
    static func checkShape(_ shape: [Int], op: String) {
        for s in shape where s < 0 { fatalError("\(op): negative size in shape \(shape)") }
    }
}

extension Tensor: Equatable {
    /// True when both tensors have the same shape and exactly the same elements.
    /// (Element-wise comparison, PyTorch's `a == b`, is `a .== b`.)
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.shape == rhs.shape else { return false }
        if lhs.storage === rhs.storage { return true }
        for i in 0..<lhs.count where lhs.pointer[i] != rhs.pointer[i] { return false }
        return true
    }
}
