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

/// The bookkeeping SGD and Adam share: each parameter's state tensors (named as PyTorch names
/// them, made the first time the parameter steps), its step count, their checkpoint form
/// (`"<i>.<name>"`, `"<i>.step"`), and the step loop that updates every parameter with a
/// gradient in one parallel pass. An optimizer keeps one and gives it the update of one piece.
final class ParameterStates {
    /// The names of each parameter's state tensors, in the order `Piece.state` lists them.
    let names: [String]
    /// Whether step counts are kept and saved (Adam's bias correction needs them).
    let countsSteps: Bool
    private var tensors: [[Tensor?]]
    private var steps: [Int]

    init(names: [String], countsSteps: Bool, parameters: Int) {
        precondition(names.count <= 2, "ParameterStates: at most two state tensors per parameter (Piece.state)")
        self.names = names
        self.countsSteps = countsSteps
        tensors = names.map { _ in [Tensor?](repeating: nil, count: parameters) }
        steps = [Int](repeating: 0, count: parameters)
    }

    /// A run of one parameter's elements to update, with the matching runs of its gradient and
    /// state (`state[j]` for `names[j]`, nil when the step keeps no state).
    struct Piece {
        let parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>
        let state: (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?)
        let count: Int
        /// The parameter's learning rate, its step number (from 1), and whether its state was
        /// made on this step.
        let lr: Float, step: Int, stateIsNew: Bool

        /// The elements `range` of this piece.
        func slice(_ range: Range<Int>) -> Piece {
            let start = range.lowerBound
            return Piece(
                parameter: parameter + start, gradient: gradient + start, state: (state.0.map { $0 + start }, state.1.map { $0 + start }),
                count: range.count, lr: lr, step: step, stateIsNew: stateIsNew)
        }
    }

    /// Updates every parameter that has a gradient: counts its step, makes its state when
    /// `keepsState` and it has none, then calls `update` on pieces of all of them, split over
    /// the threads as if they were one buffer.
    func step(_ parameters: [Tensor], keepsState: Bool, lr: (Int) -> Float, _ update: (Piece) -> Void) {
        // `parameter` and `gradient` keep alive the storage the pointers point into.
        var segments: [(parameter: Tensor, gradient: Tensor, whole: Piece)] = []
        for i in parameters.indices {
            guard let gradient = parameters[i].grad else { continue }
            var parameter = parameters[i]
            let stateIsNew = keepsState && !names.isEmpty && tensors[0][i] == nil
            if stateIsNew { for j in names.indices { tensors[j][i] = Tensor.zeros(like: parameter) } }
            steps[i] += 1
            let state = keepsState ? names.indices.map { tensors[$0][i]!.mutableElements() } : []
            let whole = Piece(
                parameter: parameter.elementsForUpdate(), gradient: gradient.elements,
                state: (state.first, state.dropFirst().first), count: gradient.count, lr: lr(i), step: steps[i],
                stateIsNew: stateIsNew)
            segments.append((parameter, gradient, whole))
        }
        Kernels.forEachPiece(of: segments.map(\.whole.count)) { s, range in update(segments[s].whole.slice(range)) }
    }

    /// The state as named tensors (copies): `"<i>.<name>"`, and `"<i>.step"` when steps are counted.
    func stateDict() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (j, name) in names.enumerated() {
            for (i, t) in tensors[j].enumerated() { if let t { result["\(i).\(name)"] = t.clone() } }
        }
        if countsSteps { for (i, s) in steps.enumerated() where s > 0 { result["\(i).step"] = Tensor(Float(s)) } }
        return result
    }

    /// Replaces the state with `state` (from `stateDict()`), after checking every name, shape
    /// and step count against `parameters`; throws listing every mismatch and changes nothing then.
    func load(_ state: [String: Tensor], parameters: [Tensor]) throws {
        var problems: [String] = []
        var loaded = names.map { _ in [Tensor?](repeating: nil, count: parameters.count) }
        var loadedSteps = [Int](repeating: 0, count: parameters.count)
        for key in state.keys.sorted() {
            let t = state[key]!
            let parts = key.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let i = Int(parts[0]), parameters.indices.contains(i) else {
                problems.append("optimizer state \(key): not expected by this optimizer"); continue
            }
            if parts[1] == "step" && countsSteps {
                guard t.count == 1 else { problems.append("optimizer state \(key): a step count must be one number, got shape \(t.shape)"); continue }
                let value = t.scalars[0]
                guard value.isFinite, value >= 0, value == value.rounded(), value < 1e15 else {
                    problems.append("optimizer state \(key): \(value) is not a step count"); continue
                }
                loadedSteps[i] = Int(value)
            } else if let j = names.firstIndex(of: String(parts[1])) {
                if t.shape != parameters[i].shape {
                    problems.append("optimizer state \(key): saved \(t.shape), parameter \(parameters[i].shape)")
                } else {
                    loaded[j][i] = t.clone()
                }
            } else {
                problems.append("optimizer state \(key): not expected by this optimizer")
            }
        }
        for i in parameters.indices {
            let present = loaded.map { $0[i] != nil }
            if Set(present).count > 1 || (countsSteps && !present.isEmpty && present[0] != (loadedSteps[i] > 0)) {
                problems.append(
                    "optimizer state \(i): " + names.joined(separator: ", ")
                        + (countsSteps ? " and a positive step" : "") + " must be saved together")
            }
        }
        if !problems.isEmpty { throw StateMismatch(problems) }
        tensors = loaded
        if countsSteps { steps = loadedSteps }
    }
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
