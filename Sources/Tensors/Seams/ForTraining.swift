// What Tensors offers the Training layer, and only it: writing values received from other
// processes into a model's own tensors (distributed training).
//
// Client: Training.

extension Tensor {
    /// Writes `count` values from `source` into this tensor's storage in place, whoever else
    /// shares it (a gradient averaged across processes, parameters received from another).
    package func overwrite(from source: UnsafePointer<Float>) {
        storage.pointer.update(from: source, count: count)
        storage.version &+= 1
    }

    /// Calls `body` with this tensor's `count` elements for writing in place, whoever else shares
    /// the storage (a gradient summed across processes where it lies), and marks them written.
    package func updateInPlace<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        defer { storage.version &+= 1 }
        return try body(storage.pointer)
    }

    /// The storage holding this tensor's values: tensors with equal identities share them, so a
    /// caller updating several in place updates each storage once.
    package var storageIdentity: ObjectIdentifier { ObjectIdentifier(storage) }
}
