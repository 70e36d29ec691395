import Autograd
import Tensors

/// A neural-network building block, as PyTorch's `nn.Module`: subclass it, store layers and
/// parameters in properties, and override `forward(_:)`.
///
///     final class SimpleNet: Module {
///         let l1 = Linear(784, 30), l2 = Linear(30, 1)
///         override func forward(_ x: Tensor) -> Tensor { l2(l1(x).relu()) }
///     }
///
/// Parameters (stored `Tensor` properties that require gradients) and sub-modules (stored
/// `Module`, `Module?` and `[Module]` properties) are found automatically: user code never lists
/// them. `train()`/`eval()` switch the mode of the whole tree.
open class Module: CustomStringConvertible {
    /// True in training mode (the default), false after `eval()`. Dropout and batch norm
    /// behave differently in the two.
    public private(set) var isTraining = true

    public init() {}

    /// The forward pass: `[batch, ...]` in, `[batch, ...]` out. Subclasses override it.
    open func forward(_ input: Tensor) -> Tensor {
        fatalError("\(type(of: self)) must override forward(_:)")
    }

    /// Checks that `forward` can take an input of shape `input`, without running it: the shape
    /// of its output, or `nil` when this module cannot tell (a custom layer that does not
    /// override this: then nothing after it is checked). Throws `LayerShapeError` naming the layer
    /// and both shapes when the input does not fit, where `forward` would stop the program.
    /// The Learner checks each new batch shape this way before it trains on it.
    open func outputShape(for input: [Int]) throws -> [Int]? { nil }

    /// Runs the forward pass: `model(x)`, then the forward hooks. In eval mode under `noGrad`,
    /// a model made of FastSwift's layers runs through its `InferencePlan` instead (the same
    /// values, fused and channel-major; see `Module+Inference.swift`).
    public final func callAsFunction(_ input: Tensor) -> Tensor {
        if !isTraining, !isGradEnabled, let output = plannedInference(input) { return output }
        let output = forward(input)
        for hook in forwardHooks.values { hook(self, input, output) }
        return output
    }

    /// Functions called after every forward pass of this module, by handle.
    private var forwardHooks: [Int: ForwardHook] = [:]
    /// The inference plans this module has run with, by input shape.
    let inferencePlanCache = InferencePlanCache()
    private var nextHookID = 0

    /// Calls `hook(module, input, output)` after each forward pass of this module (PyTorch's
    /// `register_forward_hook`) until the returned handle's `remove()`. A module with hooks, or
    /// inside a model whose layers have any, runs layer by layer (no inference plan).
    @discardableResult
    public func registerForwardHook(_ hook: @escaping ForwardHook) -> ForwardHookHandle {
        nextHookID += 1
        let id = nextHookID
        forwardHooks[id] = hook
        return ForwardHookHandle { [weak self] in self?.forwardHooks[id] = nil }
    }

    /// True while a forward hook is registered on this module.
    public var hasForwardHooks: Bool { !forwardHooks.isEmpty }

    /// The direct sub-modules with their names (property names, or positions in an array).
    open var children: [(name: String, module: Module)] {
        var result: [(String, Module)] = []
        forEachStoredProperty { name, value in
            if let m = value as? Module {
                result.append((name, m))
            } else if let ms = value as? [Module] {
                for (i, m) in ms.enumerated() { result.append(("\(name).\(i)", m)) }
            }
        }
        return result
    }

    /// This module's own parameters (not its children's), with their property names: its
    /// tensors made to require gradients, including those frozen since (`requiresGrad` false).
    open var ownParameters: [(name: String, tensor: Tensor)] {
        var result: [(String, Tensor)] = []
        forEachStoredProperty { name, value in
            if let t = value as? Tensor, t.parameterIdentity != nil { result.append((name, t)) }
        }
        return result
    }

    /// This module's own state that is not learned (batch norm's running statistics).
    open var ownBuffers: [(name: String, tensor: Tensor)] {
        var result: [(String, Tensor)] = []
        forEachStoredProperty { name, value in
            if let t = value as? Tensor, t.parameterIdentity == nil { result.append((name, t)) }
        }
        return result
    }

    /// Every parameter of the tree with its dotted path (`"0.weight"`, `"body.2.bias"`), in order.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        ownParameters + children.flatMap { child in child.module.namedParameters.map { ("\(child.name).\($0.name)", $0.tensor) } }
    }

    /// Every buffer of the tree with its dotted path.
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        ownBuffers + children.flatMap { child in child.module.namedBuffers.map { ("\(child.name).\($0.name)", $0.tensor) } }
    }

    /// Every learnable tensor of the tree, for an optimizer: `SGD(model.parameters, lr: 0.1)`.
    /// They are the model's own parameters: an optimizer's in-place update changes the model.
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// This module and every module inside it, depth first (PyTorch's `modules()`).
    public var allModules: [Module] { [self] + children.flatMap(\.module.allModules) }

    /// The number of learnable values in the tree.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Switches the tree to training mode (or to evaluation mode with `false`).
    public func train(_ on: Bool = true) {
        isTraining = on
        for child in children { child.module.train(on) }
    }

    /// Switches the tree to evaluation mode.
    public func eval() { train(false) }

    /// The text inside this module's parentheses when printed (`in_features=784, ...`).
    open var extraDescription: String { "" }

    /// The module tree as PyTorch prints it.
    public var description: String {
        let name = String(describing: type(of: self))
        let kids = children
        if kids.isEmpty { return "\(name)(\(extraDescription))" }
        var lines = ["\(name)("]
        for child in kids {
            let text = child.module.description.replacingNewlines(with: "\n  ")
            lines.append("  (\(child.name)): \(text)")
        }
        lines.append(")")
        return lines.joined(separator: "\n")
    }

    /// This module's stored tensors (parameters and buffers) and direct sub-modules, in one
    /// reflection pass (what an inference plan checks before each call).
    func storedTensorsAndModules() -> (tensors: [Tensor], modules: [Module]) {
        var tensors: [Tensor] = [], modules: [Module] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror, m.subjectType != Module.self {
            // A cast from `Any` unwraps an optional itself: no second mirror per property.
            for child in m.children {
                if let t = child.value as? Tensor {
                    tensors.append(t)
                } else if let module = child.value as? Module {
                    modules.append(module)
                } else if let list = child.value as? [Module] {
                    modules += list
                }
            }
            mirror = m.superclassMirror
        }
        return (tensors, modules)
    }

    private func forEachStoredProperty(_ body: (String, Any) -> Void) {
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror, m.subjectType != Module.self {
            for child in m.children {
                guard let label = child.label else { continue }
                // Optional values unwrap through their own mirror.
                let unwrapped = Mirror(reflecting: child.value)
                if unwrapped.displayStyle == .optional {
                    if let some = unwrapped.children.first?.value { body(label, some) }
                } else {
                    body(label, child.value)
                }
            }
            mirror = m.superclassMirror
        }
    }
}

extension String {
    func replacingNewlines(with replacement: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// A module made from a function, for steps that have no parameters (fastai's `Lambda`):
/// `Lambda { $0.reshape([-1, 28 * 28]) }`.
public final class Lambda: Module {
    private let function: (Tensor) -> Tensor
    public init(_ function: @escaping (Tensor) -> Tensor) { self.function = function }
    public override func forward(_ input: Tensor) -> Tensor { function(input) }
}

extension Module {
    /// Copies of every parameter and buffer, by dotted path (PyTorch's `state_dict`).
    public func stateDict() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, t) in namedParameters + namedBuffers { result[name] = t.clone() }
        return result
    }

    /// Writes saved values into the model's own parameters and buffers, in place (so an
    /// optimizer holding them sees the new values). Throws, listing every missing, unexpected
    /// and mis-shaped name, and changes nothing, when `state` does not fit.
    public func loadStateDict(_ state: [String: Tensor]) throws {
        let state = Self.currentNames(state)
        let problems = stateMismatches(state)
        guard problems.isEmpty else { throw StateMismatch(problems) }
        for (name, t) in namedParameters + namedBuffers {
            if let saved = state[name] { t.overwrite(with: saved) }  // all present: checked above
        }
    }

    /// What keeps `loadStateDict(state)` from loading, one line per tensor (empty when it fits).
    public func stateMismatches(_ state: [String: Tensor]) -> [String] {
        let state = Self.currentNames(state)
        let own = namedParameters + namedBuffers
        var problems: [String] = []
        let names = Set(own.map(\.name))
        for (name, t) in own {
            guard let saved = state[name] else { problems.append("\(name): missing from the checkpoint"); continue }
            if saved.shape != t.shape { problems.append("\(name): checkpoint has \(saved.shape), model has \(t.shape)") }
        }
        for name in state.keys.sorted() where !names.contains(name) { problems.append("\(name): not in the model") }
        return problems
    }
}

extension Module {
    /// Checkpoints written before batch norms took PyTorch's buffer names (`runningMean`,
    /// `runningVar`) load under the new ones (`running_mean`, `running_var`).
    static func currentNames(_ state: [String: Tensor]) -> [String: Tensor] {
        guard state.keys.contains(where: { $0.hasSuffix("runningMean") || $0.hasSuffix("runningVar") }) else { return state }
        var renamed: [String: Tensor] = [:]
        for (key, value) in state {
            var name = key
            if name.hasSuffix("runningMean") { name = String(name.dropLast(11)) + "running_mean" }
            if name.hasSuffix("runningVar") { name = String(name.dropLast(10)) + "running_var" }
            renamed[name] = value
        }
        return renamed
    }
}

/// An input a layer cannot take, found before it runs (`Module.outputShape(for:)`): names the
/// layer, the input's shape and what the layer needs.
public struct LayerShapeError: Error, CustomStringConvertible {
    /// The layer, as it prints itself (`Linear(in_features=784, out_features=10, bias=True)`).
    public let layer: String
    /// Where the layer sits in the model (`layer4.0.conv1`); empty for the model itself.
    public var path: [String] = []
    /// What does not fit.
    public let reason: String

    /// An error about `module`.
    public init(_ module: Module, _ reason: String) {
        layer = "\(type(of: module))(\(module.extraDescription))"
        self.reason = reason
    }

    public var description: String { layer + (path.isEmpty ? "" : " at \(path.joined(separator: "."))") + ": " + reason }

    /// Checks `child`, naming it `name` in the path of any error it throws.
    public static func checking(_ name: String, _ child: Module, _ input: [Int]?) throws -> [Int]? {
        guard let input else { return nil }
        do {
            return try child.outputShape(for: input)
        } catch var error as LayerShapeError {
            error.path.insert(name, at: 0)
            throw error
        }
    }
}

/// A function called after a module's forward pass with the module, its input and its output.
public typealias ForwardHook = (Module, Tensor, Tensor) -> Void

/// Removes the forward hook it was returned for (`Module.registerForwardHook`).
public struct ForwardHookHandle {
    fileprivate let removal: () -> Void
    /// Stops calling the hook.
    public func remove() { removal() }
}
