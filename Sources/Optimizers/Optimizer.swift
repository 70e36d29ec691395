import Autograd
import Tensors

/// Updates parameters from their gradients, as PyTorch's `torch.optim.Optimizer`:
///
///     let opt = SGD(model.parameters, lr: 0.1)
///     loss.backward(); opt.step(); opt.zeroGrad()
///
/// Hyper-parameters are public variables that a scheduler may change between steps. Your own
/// optimizer (the seeds' `BasicOptim`) only needs `parameters`, `lr` and `step()`:
///
///     final class BasicOptim: Optimizer {
///         var parameters: [Tensor], lr: Float
///         init(_ parameters: [Tensor], lr: Float) { self.parameters = parameters; self.lr = lr }
///         func step() { noGrad { for i in parameters.indices { parameters[i] -= parameters[i].grad! * lr } } }
///     }
public protocol Optimizer: AnyObject {
    /// The parameters updated by `step()` (the model's own: updates are seen by the model).
    var parameters: [Tensor] { get }
    /// The learning rate (of the last parameter group, with discriminative rates).
    var lr: Float { get set }
    /// Each parameter's learning rate as a multiple of `lr` (empty: all 1): how parameter
    /// groups get discriminative learning rates (fastai's `slice(1e-5, 1e-3)`). Optimizers that
    /// do not support them keep this empty.
    var lrMultipliers: [Float] { get set }
    /// SGD's momentum or Adam's β1; 0 for optimizers without one.
    var momentum: Float { get set }
    /// The weight decay; 0 for optimizers without one.
    var weightDecay: Float { get set }
    /// Moves each parameter against its gradient (parameters without a gradient are skipped).
    func step()
    /// Clears every parameter's gradient.
    func zeroGrad()
    /// The optimizer's state (momentum buffers, moving averages, step counts) by name, for
    /// checkpoints; empty for stateless optimizers.
    func stateDict() -> [String: Tensor]
    /// Restores state saved by `stateDict()`; throws when names or shapes do not match.
    func loadStateDict(_ state: [String: Tensor]) throws
}

/// Shared by the optimizers: per-parameter state tensors named `"<i>.<name>"`.
func stateDict(_ slots: [(String, [Tensor?])]) -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for (name, tensors) in slots {
        for (i, t) in tensors.enumerated() { if let t { result["\(i).\(name)"] = t.clone() } }
    }
    return result
}

/// Loads per-parameter state tensors named `"<i>.<name>"` for `parameters`, listing mismatches.
func loadState(_ state: [String: Tensor], names: [String], parameters: [Tensor]) throws -> [String: [Tensor?]] {
    var result: [String: [Tensor?]] = [:]
    var problems: [String] = []
    for name in names {
        result[name] = parameters.enumerated().map { i, p in
            guard let t = state["\(i).\(name)"] else { return nil }
            if t.shape != p.shape { problems.append("optimizer state \(i).\(name): saved \(t.shape), parameter \(p.shape)") }
            return t.clone()
        }
    }
    let known = Set(names.flatMap { n in parameters.indices.map { "\($0).\(n)" } })
    for key in state.keys.sorted() where !known.contains(key) { problems.append("optimizer state \(key): not expected by this optimizer") }
    if !problems.isEmpty { throw StateMismatch(problems) }
    return result
}

extension Optimizer {
    public var lrMultipliers: [Float] {
        get { [] }
        set {}
    }
    /// Parameter `i`'s learning rate.
    public func lr(ofParameter i: Int) -> Float { i < lrMultipliers.count ? lr * lrMultipliers[i] : lr }
    public var momentum: Float {
        get { 0 }
        set {}
    }
    public var weightDecay: Float {
        get { 0 }
        set {}
    }
    public func zeroGrad() {
        for p in parameters { p.zeroGrad() }
    }
    public func stateDict() -> [String: Tensor] { [:] }
    public func loadStateDict(_ state: [String: Tensor]) throws {
        if !state.isEmpty { throw StateMismatch(state.keys.sorted().map { "optimizer state \($0): this optimizer keeps no state" }) }
    }
}
