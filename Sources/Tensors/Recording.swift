import Foundation

// A tensor's part in autograd as users see it: `requiresGrad`, parameters' identity, `detach`
// and `clone`, and the rule for in-place changes. The records themselves (which op made a tensor
// and from what) are what Tensors offers the Autograd layer: Seams/ForAutograd.swift.

extension Tensor {
    /// The same for every copy of one parameter (a leaf that has required gradients), nil for
    /// other tensors: tells parameters apart, as Python's `id(p)`.
    public var parameterIdentity: ObjectIdentifier? {
        guard let record, record.isLeaf else { return nil }
        return ObjectIdentifier(record)
    }

    /// True when the tensor takes part in autograd: a parameter marked with
    /// `requiresGrad = true`, or a result computed from one while recording. Setting it on a
    /// plain tensor makes it a parameter (a leaf whose gradient `backward()` fills); switching
    /// it off works on leaves only (freezing).
    public var requiresGrad: Bool {
        get { record?.requiresGrad ?? false }
        set {
            if let record {
                guard record.isLeaf || newValue else {
                    fatalError("requiresGrad: only a leaf tensor's flag can be switched off; use detach()")
                }
                record.requiresGrad = newValue
            } else if newValue {
                record = GradientRecord(requiresGrad: true, node: nil)
            }
        }
    }

    /// The same values, cut off from autograd: no gradient flows through the result.
    /// Shares the storage until either side is changed.
    public func detach() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// A copy with its own storage, detached from autograd.
    public func clone() -> Tensor { Tensor(shape: shape, storage: storage.copy()) }

    /// Checks an in-place change against autograd: a parameter may be changed in place only
    /// inside `noGrad { }` (the optimizer's step), and a tensor recorded in a graph not at all.
    /// Inside `noGrad`, a recorded result is detached first.
    mutating func prepareInPlace(_ op: String) {
        guard let record else { return }
        if GradMode.isEnabled && record.requiresGrad {
            fatalError(
                record.isLeaf
                    ? "\(op): a tensor that requires grad is being changed in place; do it inside noGrad { }, as an optimizer step does"
                    : "\(op): a tensor recorded for backward is being changed in place; use the out-of-place op")
        }
        if !record.isLeaf { self.record = nil }
    }
}
