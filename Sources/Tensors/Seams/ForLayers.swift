// What Tensors offers the Layers layer, and only it: writing loaded values into a model's own
// tensors, telling whether a tensor's contents changed, and tracing a forward pass into an
// inference plan, with the store of packed weights its plans share.
//
// Client: Layers.

import Foundation

extension Tensor {
    /// Writes `values` (same shape) into this tensor's storage in place, whoever else shares it:
    /// loading a checkpoint into a model's own parameters and buffers, whose copies (held by
    /// the model and the optimizer) must all see the new values. Runs outside autograd.
    package func overwrite(with values: Tensor) {
        precondition(values.shape == shape, "overwrite: shapes \(values.shape) and \(shape) differ")
        storage.pointer.update(from: values.storage.pointer, count: count)
        storage.version &+= 1
    }

    /// Which storage holds the values and how many writes it has seen: equal identities mean
    /// equal values (a cache of something computed from a weight checks this).

    package var contentIdentity: ContentIdentity { ContentIdentity(storage: ObjectIdentifier(storage), version: storage.version) }
}

/// A tensor's storage and its write count (`Tensor.contentIdentity`).
package struct ContentIdentity: Equatable, Sendable {
    let storage: ObjectIdentifier
    let version: Int
}

extension InferencePlan {
    /// Traces `forward` on `example` (with gradients recorded, whatever the caller's mode) and
    /// compiles what it recorded; also returns the traced output. Throws `Unsupported` when the
    /// graph holds an op a plan cannot run. The plan takes its packed convolution weights from
    /// `packedWeights` (one store shared by the plans of one model packs each weight once).
    package static func trace(
        _ forward: (Tensor) -> Tensor, example: Tensor, packedWeights: PackedWeightStore = PackedWeightStore()
    ) throws -> (plan: InferencePlan, output: Tensor) {
        var input = example.detach()
        input.requiresGrad = true
        let output = GradMode.enabled { forward(input) }
        return (try compile(output: output, input: input, packedWeights: packedWeights), output.detach())
    }
}

/// Convolution weights packed for the GEMM, one per weight and tap layout, shared by the plans
/// of one model: a plan for another batch size packs nothing new (a ResNet-18's weights are
/// packed once, not once per batch size a server runs). A weight is packed on first use and
/// again when its contents change.
package final class PackedWeightStore: @unchecked Sendable {
    private struct Key: Hashable {
        let storage: ObjectIdentifier
        let taps: [Int]
        /// Winograd's transform and the dense matrix serve maps of one size; the GEMM's packing
        /// any size with these taps.
        let winograd: WinogradGeometry?
        let dense: DenseConvolution?
    }

    private let lock = NSLock()
    /// The weight is kept with its packing, so its storage (the key) cannot be reused.
    private var entries: [Key: (weight: Tensor, identity: ContentIdentity, packed: Tensor.InferenceWeight)] = [:]

    package init() {}

    func packed(_ weight: Tensor, _ geometry: ConvGeometry) -> Tensor.InferenceWeight {
        let identity = weight.contentIdentity
        let key = Key(
            storage: identity.storage, taps: geometry.taps,
            winograd: WinogradGeometry(geometry, outChannels: weight.shape[0]), dense: DenseConvolution(geometry))
        lock.lock()
        defer { lock.unlock() }
        if let entry = entries[key], entry.identity == identity { return entry.packed }
        let packed = Tensor.inferenceWeight(weight, geometry)
        entries[key] = (weight, identity, packed)
        return packed
    }
}
