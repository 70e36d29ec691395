/// The heap buffer behind a `Tensor`: `count` Floats, 64-byte aligned for AVX-512 loads.
///
/// Tensors share a storage until one of them is mutated; the mutating tensor then copies it
/// (copy-on-write), so a `Tensor` behaves like any Swift value.
final class TensorStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    /// Bumped by every write through a `Tensor` (`makeUnique`, `overwrite`): with the storage's
    /// identity, it tells a cache derived from the values whether they may have changed.
    var version = 0

    /// Allocates `count` uninitialised Floats; callers write every element before reading.
    init(uninitializedCount count: Int, hugePages: Bool = false) {
        self.count = count
        let raw = BufferCache.allocate(bytes: max(count, 1) * MemoryLayout<Float>.stride, hugePages: hugePages)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    /// A new storage holding the same values.
    func copy() -> TensorStorage {
        let result = TensorStorage(uninitializedCount: count)
        result.pointer.initialize(from: pointer, count: count)
        return result
    }

    deinit { BufferCache.release(UnsafeMutableRawPointer(pointer), bytes: max(count, 1) * MemoryLayout<Float>.stride) }
}
