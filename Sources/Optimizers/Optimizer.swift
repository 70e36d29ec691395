import Autograd
import Tensors

/// The hyper-parameters of one parameter group (fastai's `hypers`): what a scheduler sets between
/// steps, addressed by key path: `opt.set(\.lr, 0.01)`, `ParamScheduler([\.momentum: ...])`.
/// An optimizer reads the ones it uses (SGD: `lr`, `momentum`, `weightDecay`; Adam all five).
public struct Hyperparameters: Equatable, Sendable {
    /// The learning rate.
    public var lr: Float
    /// SGD's momentum, or Adam's β1 (fastai's `mom`).
    public var momentum: Float
    /// Adam's β2, the decay of the squared gradient's running average (fastai's `sqr_mom`).
    public var sqrMom: Float
    /// Added to Adam's denominator.
    public var eps: Float
    /// The weight decay (fastai's `wd`), applied as the optimizer applies it (decoupled or L2).
    public var weightDecay: Float

    /// Hyper-parameters with the given values (those an optimizer does not use are kept, unread).
    public init(lr: Float, momentum: Float = 0, sqrMom: Float = 0.99, eps: Float = 1e-5, weightDecay: Float = 0) {
        self.lr = lr
        self.momentum = momentum
        self.sqrMom = sqrMom
        self.eps = eps
        self.weightDecay = weightDecay
    }
}

/// A hyper-parameter by key path: `\.lr`, `\.momentum`, `\.sqrMom`, `\.eps` or `\.weightDecay`.
public typealias Hyperparameter = WritableKeyPath<Hyperparameters, Float>

/// Parameters that share hyper-parameters (fastai's parameter group): the unit of freezing and
/// of discriminative learning rates (`visionLearner` makes three: early body, late body, head).
public struct ParameterGroup {
    /// The group's parameters, in the order the optimizer's state numbers them.
    public let parameters: [Tensor]
    /// The group's hyper-parameters.
    public var hypers: Hyperparameters
}

/// Updates parameters from their gradients, as fastai's `Optimizer` and PyTorch's
/// `torch.optim.Optimizer`: parameters in groups, each with its hyper-parameters.
///
///     let opt = SGD(model.parameters, lr: 0.1)
///     loss.backward(); opt.step(); opt.zeroGrad()
///
/// Your own optimizer (the seeds' `BasicOptim`) subclasses it and overrides `step()`:
///
///     final class BasicOptim: Optimizer {
///         override func step() { noGrad { for p in parameters { p -= p.grad! * lr } } }
///     }
///     let opt = BasicOptim(model.parameters, lr: 0.1)
///
/// SGD and Adam keep per-parameter state in a `ParameterStates` and give it their update.
open class Optimizer {
    /// The parameter groups, first to last, with their hyper-parameters.
    public private(set) var groups: [ParameterGroup]
    /// Parameters that keep training when their group is frozen (fastai's `force_train`: the
    /// Learner puts batch norms' here, `train_bn`).
    public var alwaysTrained: Set<ObjectIdentifier> = []
    /// Parameters that get no weight decay (fastai's `do_wd = False`: the Learner puts batch
    /// norms' and biases' here when asked, `wdBNBias: false`).
    public var withoutWeightDecay: Set<ObjectIdentifier> = []

    /// An optimizer over parameter groups (fastai's `param_lists`), each starting with `hypers`.
    public init(_ groups: [[Tensor]], hypers: Hyperparameters) {
        self.groups = (groups.isEmpty ? [[]] : groups).map { ParameterGroup(parameters: $0, hypers: hypers) }
    }

    /// An optimizer over parameter groups with learning rate `lr` (other hyper-parameters 0).
    public convenience init(_ groups: [[Tensor]], lr: Float) {
        self.init(groups, hypers: Hyperparameters(lr: lr))
    }

    /// An optimizer over one group of parameters (the model's own: `model.parameters`).
    public convenience init(_ parameters: [Tensor], lr: Float) {
        self.init([parameters], hypers: Hyperparameters(lr: lr))
    }

    /// Every parameter, group after group (the numbering of `stateDict()`).
    public var parameters: [Tensor] { groups.flatMap(\.parameters) }

    /// The last group's learning rate (the head's, with discriminative rates: what the recorder
    /// shows); setting it sets every group's.
    public var lr: Float {
        get { groups[groups.count - 1].hypers.lr }
        set { set(\.lr, newValue) }
    }

    /// Sets a hyper-parameter of every group (fastai's `set_hyper`).
    public func set(_ key: Hyperparameter, _ value: Float) {
        for g in groups.indices { groups[g].hypers[keyPath: key] = value }
    }

    /// Sets a hyper-parameter group by group, first to last (fastai's `set_hyper` with a list);
    /// one value sets every group.
    public func set(_ key: Hyperparameter, _ values: [Float]) {
        precondition(values.count == 1 || values.count == groups.count, "Optimizer.set: \(values.count) values for \(groups.count) groups")
        for g in groups.indices { groups[g].hypers[keyPath: key] = values.count == 1 ? values[0] : values[g] }
    }

    /// A hyper-parameter of every group, first to last.
    public func values(_ key: Hyperparameter) -> [Float] { groups.map { $0.hypers[keyPath: key] } }

    /// Freezes the groups before group `n` (counting from the end when negative) and unfreezes
    /// the rest (fastai's `freeze_to`): frozen parameters get no gradient and are not updated,
    /// except `alwaysTrained` ones.
    public func freezeTo(_ n: Int) {
        let first = n < 0 ? max(groups.count + n, 0) : min(n, groups.count)
        for (g, group) in groups.enumerated() {
            for var p in group.parameters {
                let trainable = g >= first || p.parameterIdentity.map(alwaysTrained.contains) == true
                if !trainable { p.zeroGrad() }
                p.requiresGrad = trainable
            }
        }
    }

    /// Freezes every group but the last: fastai's `freeze`.
    public func freeze() { freezeTo(-1) }

    /// Makes every group trainable: fastai's `unfreeze`.
    public func unfreeze() { freezeTo(0) }

    /// Moves each parameter against its gradient (parameters without a gradient are skipped).
    open func step() {
        fatalError("\(type(of: self)) must override step()")
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() {
        for p in parameters { p.zeroGrad() }
    }

    /// The optimizer's state (momentum buffers, moving averages, step counts) by name, for
    /// checkpoints: `"<i>.<name>"` for parameter `i` of `parameters`; empty for stateless ones.
    open func stateDict() -> [String: Tensor] { [:] }

    /// Restores state saved by `stateDict()`; throws when names or shapes do not match, and
    /// changes nothing then.
    open func loadStateDict(_ state: [String: Tensor]) throws {
        if !state.isEmpty { throw StateMismatch(state.keys.sorted().map { "optimizer state \($0): this optimizer keeps no state" }) }
    }

    /// Forgets the per-parameter state (fastai's `clear_state`), as freezing and unfreezing do.
    open func clearState() {}

    /// Parameter `p`'s weight decay in group `g`: the group's, or 0 for `withoutWeightDecay` ones.
    func weightDecay(of p: Tensor, in g: Int) -> Float {
        p.parameterIdentity.map(withoutWeightDecay.contains) == true ? 0 : groups[g].hypers.weightDecay
    }
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
        /// The parameter's group's hyper-parameters (its own weight decay), its step number
        /// (from 1), and whether its state was made on this step.
        let hypers: Hyperparameters, step: Int, stateIsNew: Bool

        /// The elements `range` of this piece.
        func slice(_ range: Range<Int>) -> Piece {
            let start = range.lowerBound
            return Piece(
                parameter: parameter + start, gradient: gradient + start, state: (state.0.map { $0 + start }, state.1.map { $0 + start }),
                count: range.count, hypers: hypers, step: step, stateIsNew: stateIsNew)
        }
    }

    /// Updates every parameter of `optimizer` that has a gradient: counts its step, makes its
    /// state when `keepsState` and it has none, then calls `update` on pieces of all of them,
    /// split over the threads as if they were one buffer.
    func step(_ optimizer: Optimizer, keepsState: Bool, _ update: (Piece) -> Void) {
        // `parameter` and `gradient` keep alive the storage the pointers point into.
        var segments: [(parameter: Tensor, gradient: Tensor, whole: Piece)] = []
        var i = 0
        for (g, group) in optimizer.groups.enumerated() {
            for p in group.parameters {
                defer { i += 1 }
                guard let gradient = p.grad else { continue }
                var parameter = p
                let stateIsNew = keepsState && !names.isEmpty && tensors[0][i] == nil
                if stateIsNew { for j in names.indices { tensors[j][i] = Tensor.zeros(like: parameter) } }
                steps[i] += 1
                let state = keepsState ? names.indices.map { tensors[$0][i]!.mutableElements() } : []
                var hypers = group.hypers
                hypers.weightDecay = optimizer.weightDecay(of: p, in: g)
                let whole = Piece(
                    parameter: parameter.elementsForUpdate(), gradient: gradient.elements,
                    state: (state.first, state.dropFirst().first), count: gradient.count, hypers: hypers, step: steps[i],
                    stateIsNew: stateIsNew)
                segments.append((parameter, gradient, whole))
            }
        }
        Kernels.forEachParameterPiece(of: segments.map(\.whole.count)) { s, range in update(segments[s].whole.slice(range)) }
    }

    /// Forgets every parameter's state and step count.
    func clear() {
        tensors = tensors.map { $0.map { _ in nil } }
        steps = steps.map { _ in 0 }
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
