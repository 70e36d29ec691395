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
}
