import Autograd
import Foundation
import Tensors

// Inference plans for models, below the layers: a layer has one `forward`, and a model made of
// FastSwift's layers that runs in eval mode under `noGrad` is traced once per input shape and
// run through the compiled `InferencePlan` (convolutions fused with their batch norm, residual
// and ReLU, maps kept channel-major), the same values to the bit.

/// A layer whose forward pass applies the same ops to every input of a shape (no branch on the
/// values), so a trace of it is the layer: what lets a model of these layers be planned
/// without being asked. Your own modules can be planned explicitly (`inferencePlan(for:)`).
protocol FixedGraph: Module {}

extension Sequential: FixedGraph {}
extension Conv2d: FixedGraph {}
extension BatchNorm: FixedGraph {}
extension Linear: FixedGraph {}
extension ReLU: FixedGraph {}
extension Sigmoid: FixedGraph {}
extension Tanh: FixedGraph {}
extension Softmax: FixedGraph {}
extension LogSoftmax: FixedGraph {}
extension Flatten: FixedGraph {}
extension Dropout: FixedGraph {}
extension WindowPool2d: FixedGraph {}
extension AdaptiveAvgPool2d: FixedGraph {}
extension AdaptiveMaxPool2d: FixedGraph {}
extension AdaptiveConcatPool2d: FixedGraph {}
extension BasicBlock: FixedGraph {}
extension Bottleneck: FixedGraph {}
extension ResNet: FixedGraph {}

extension Module {
    /// This module's forward pass compiled for inputs shaped as `example` (`[N, ...]`): trace it
    /// once in eval mode and call the plan for each batch. For your own modules (FastSwift's
    /// layers are planned without asking): the plan follows the ops the example's forward pass
    /// applied, so a forward pass that branches on its input's values must not be planned. The
    /// plan keeps the batch norms' statistics of now: plan again after training.
    /// Throws `InferencePlan.Unsupported` naming an op a plan cannot run.
    public func inferencePlan(for example: Tensor) throws -> InferencePlan {
        let wasTraining = isTraining
        eval()
        defer { if wasTraining { train() } }
        return try InferencePlan.trace({ self.forward($0) }, example: example).plan
    }

    /// The output of this module's inference plan for `x` (made or remade as needed), or nil
    /// when the module is not planned: it holds a layer that is not a `FixedGraph`, no
    /// convolution (nothing to fuse), or a forward hook; or its graph holds an op a plan cannot
    /// run. Plans are kept per input shape, with the identity and contents of every parameter
    /// and buffer they were traced with: a change to any (a training step, a loaded state, a
    /// new tensor) traces again.
    func plannedInference(_ x: Tensor) -> Tensor? {
        guard let state = PlanningState(self) else { return nil }
        let cache = inferencePlanCache
        if let entry = cache.entry(for: x.shape), entry.state == state {
            return entry.plan.map { $0(x) }
        }
        let packedWeights = cache.packedWeights(for: state)
        guard let traced = try? InferencePlan.trace({ self.forward($0) }, example: x, packedWeights: packedWeights) else {
            cache.store(InferencePlanCache.Entry(shape: x.shape, state: state, plan: nil))
            return nil
        }
        cache.store(InferencePlanCache.Entry(shape: x.shape, state: state, plan: traced.plan))
        return traced.output
    }
}

/// What a plan depends on in a module tree: each module and its mode, each parameter's and
/// buffer's storage and write count. Nil when the tree cannot be planned automatically.
struct PlanningState: Equatable {
    private var modules: [ObjectIdentifier] = []
    private var tensors: [ContentIdentity] = []

    init?(_ root: Module) {
        var hasConvolution = false
        var pending = [root]
        while let module = pending.popLast() {
            guard module is FixedGraph, !module.hasForwardHooks, !module.isTraining else { return nil }
            if module is Conv2d { hasConvolution = true }
            modules.append(ObjectIdentifier(module))
            let (stored, children) = module.storedTensorsAndModules()
            for t in stored { tensors.append(t.contentIdentity) }
            pending += children.reversed()
        }
        guard hasConvolution else { return nil }
    }
}

/// A module's inference plans, by input shape (the last few shapes it ran: a loader's full
/// and last partial batch, single items, a server's batch sizes). A class held by the module (not reflected as a
/// parameter: `Module`'s own properties are not), shared by threads.
final class InferencePlanCache: @unchecked Sendable {
    struct Entry {
        let shape: [Int]
        let state: PlanningState
        /// Nil when the module's graph cannot be planned.
        let plan: InferencePlan?
    }

    private static let capacity = 8
    private let lock = NSLock()
    private var entries: [Entry] = []
    /// The packed weights the plans of the current state share (dropped when the state changes).
    private var packs: (state: PlanningState, store: PackedWeightStore)?

    func packedWeights(for state: PlanningState) -> PackedWeightStore {
        lock.lock()
        defer { lock.unlock() }
        if let packs, packs.state == state { return packs.store }
        let store = PackedWeightStore()
        packs = (state, store)
        return store
    }

    func entry(for shape: [Int]) -> Entry? {
        lock.lock()
        defer { lock.unlock() }
        return entries.last { $0.shape == shape }
    }

    func store(_ entry: Entry) {
        lock.lock()
        defer { lock.unlock() }
        entries.removeAll { $0.shape == entry.shape }
        entries.append(entry)
        if entries.count > Self.capacity { entries.removeFirst() }
    }
}
