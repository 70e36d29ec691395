import Tensors

// backward(), .grad, zeroGrad() and noGrad { }: PyTorch's autograd interface on `Tensor`.
//
// The forward ops in the Tensors layer record which op made each tensor from which inputs;
// `backward()` walks those records from the loss back to the parameters, applying the rules in
// BackwardRules.swift, and accumulates each parameter's gradient in `.grad`. It then releases
// the graph, so memory stays flat over a training loop.

extension Tensor {
    /// The gradient accumulated by `backward()` for this parameter (nil until then, or after
    /// `zeroGrad()`). Setting it to nil clears it, as PyTorch's `w.grad = None`.
    public var grad: Tensor? {
        get { gradientRecord?.grad }
        nonmutating set {
            guard let record = gradientRecord else {
                if newValue != nil { fatalError("grad: set requiresGrad = true before giving a tensor a gradient") }
                return
            }
            record.grad = newValue
        }
    }

    /// Clears the accumulated gradient (PyTorch's `w.grad = None`).
    public func zeroGrad() { grad = nil }

    /// Back-propagates from this tensor: every parameter it was computed from receives
    /// d(self)/d(parameter) added into its `.grad`. `self` must be a scalar unless an upstream
    /// `gradient` of its shape is given. The graph is released afterwards; calling `backward()`
    /// through it again traps, as in PyTorch.
    public func backward(_ gradient: Tensor? = nil) {
        guard let root = gradientRecord, root.requiresGrad else {
            fatalError("backward: the tensor does not require grad (no parameter with requiresGrad = true was used to compute it)")
        }
        let seed: Tensor
        if let gradient {
            guard gradient.shape == shape else {
                fatalError("backward: gradient of shape \(gradient.shape) does not match the tensor's shape \(shape)")
            }
            seed = gradient.detach()
        } else {
            guard count == 1 else {
                fatalError("backward: a gradient can be created implicitly only for a scalar, not for shape \(shape); pass one")
            }
            seed = Tensor.ones(shape)
        }
        noGrad { propagate(from: root, seed: seed) }
    }
}

/// False inside `noGrad { }` on this thread (PyTorch's `torch.is_grad_enabled()`): whether ops
/// are recorded for `backward()`.
public var isGradEnabled: Bool { GradMode.isEnabled }

/// Runs `body` without recording ops for autograd (PyTorch's `with torch.no_grad():`).
/// Parameter updates belong inside it: `noGrad { w -= lr * w.grad! }`.
@discardableResult
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.disabled(body)
}

/// Walks the graph below `root` in reverse topological order, pushing gradients to inputs.
private func propagate(from root: GradientRecord, seed: Tensor) {
    let order = topologicalOrder(from: root)
    var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
    for record in order.reversed() {
        guard let g = grads.removeValue(forKey: ObjectIdentifier(record)) else { continue }
        guard let node = record.node else {
            // A leaf: accumulate into .grad.
            if record.requiresGrad { record.grad = record.grad.map { $0 + g } ?? g }
            continue
        }
        let inputGrads = inputGradients(node, outputGrad: g, needed: node.inputs.map(\.requiresGrad))
        for (input, inputGrad) in zip(node.inputs, inputGrads) {
            guard let inputGrad, let inputRecord = input.gradientRecord, inputRecord.requiresGrad else { continue }
            precondition(
                inputGrad.shape == input.shape,
                "backward: \(node.operation.name) gave a gradient of shape \(inputGrad.shape) for an input of shape \(input.shape)")
            let key = ObjectIdentifier(inputRecord)
            grads[key] = grads[key].map { $0 + inputGrad } ?? inputGrad
        }
        node.inputs = []
        node.output = nil
        node.released = true
    }
}

/// The records reachable from `root` (through inputs that require grad), each after all the
/// records it depends on.
private func topologicalOrder(from root: GradientRecord) -> [GradientRecord] {
    var order: [GradientRecord] = []
    var visited: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
    // Iterative depth-first search: long chains must not overflow the stack.
    var stack: [(record: GradientRecord, nextInput: Int)] = [(root, 0)]
    while let (record, next) = stack.last {
        let inputs = record.node?.inputs ?? []
        if let node = record.node, node.released {
            fatalError("backward: trying to backward through the graph a second time; it was released by the first backward()")
        }
        if next < inputs.count {
            stack[stack.count - 1].nextInput += 1
            if let child = inputs[next].gradientRecord, child.requiresGrad, visited.insert(ObjectIdentifier(child)).inserted {
                stack.append((child, 0))
            }
        } else {
            order.append(record)
            stack.removeLast()
        }
    }
    return order
}

extension Tensor {
    /// Records `self` as the output of your own differentiable op (PyTorch's
    /// `torch.autograd.Function`): `backward` receives the gradient of `self` and returns one
    /// gradient per input, shaped like it (nil where none flows). Compute `self` from the inputs'
    /// values (e.g. inside `noGrad`, or from `detach()`ed inputs), then record it:
    ///
    ///     let y = noGrad { fastKernel(x) }.recordedCustom(name: "MyOpBackward", inputs: [x]) { g in [g * 2] }
    ///
    /// Nothing is recorded when no input requires gradients or inside `noGrad`.
    public func recordedCustom(
        name: String, inputs: [Tensor],
        backward: @escaping @Sendable (Tensor) -> [Tensor?]
    ) -> Tensor {
        recorded(.custom(name: name, backward: backward), inputs: inputs)
    }
}

extension Tensor {
    /// A parameter with these values (PyTorch's chainable `requires_grad_()`):
    /// `(Tensor.randn(shape) * std).requiringGrad()`.
    public func requiringGrad() -> Tensor {
        var p = self
        p.requiresGrad = true
        return p
    }
}
