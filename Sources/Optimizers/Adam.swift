import Autograd
import Tensors

/// Adam with fastai's defaults: β1 (`momentum`) 0.9, β2 (`sqrMom`) 0.99, eps 1e-5, and weight
/// decay 0.01 applied decoupled (`p *= 1 - lr·wd`, as AdamW), with bias correction.
/// `decoupledWeightDecay: false` gives PyTorch's `Adam` (L2 decay added to the gradient).
public final class Adam: Optimizer {
    public let parameters: [Tensor]
    public var lr: Float
    public var lrMultipliers: [Float] = []
    /// β1, the decay of the gradient's running average (what one-cycle schedules).
    public var momentum: Float
    /// β2, the decay of the squared gradient's running average.
    public var sqrMom: Float
    public var eps: Float
    public var weightDecay: Float
    public var decoupledWeightDecay: Bool
    private var averages: [Tensor?], squareAverages: [Tensor?], steps: [Int]

    public init(_ parameters: [Tensor], lr: Float = 1e-3, momentum: Float = 0.9, sqrMom: Float = 0.99,
                eps: Float = 1e-5, weightDecay: Float = 0.01, decoupledWeightDecay: Bool = true) {
        self.parameters = parameters
        self.lr = lr
        self.momentum = momentum
        self.sqrMom = sqrMom
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        averages = parameters.map { _ in nil }
        squareAverages = parameters.map { _ in nil }
        steps = parameters.map { _ in 0 }
    }

    public func stateDict() -> [String: Tensor] {
        var state = Optimizers.stateDict([("exp_avg", averages), ("exp_avg_sq", squareAverages)])
        for (i, s) in steps.enumerated() where s > 0 { state["\(i).step"] = Tensor(Float(s)) }
        return state
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        let tensors = state.filter { !$0.key.hasSuffix(".step") }
        // Step counts: one whole, non-negative number per parameter that has state.
        var problems: [String] = []
        var loadedSteps = parameters.map { _ in 0 }
        for (key, t) in state where key.hasSuffix(".step") {
            guard let i = Int(key.dropLast(5)), parameters.indices.contains(i) else {
                problems.append("optimizer state \(key): not expected by this optimizer"); continue
            }
            guard t.count == 1 else { problems.append("optimizer state \(key): a step count must be one number, got shape \(t.shape)"); continue }
            let value = t.scalars[0]
            guard value.isFinite, value >= 0, value == value.rounded(), value < 1e15 else {
                problems.append("optimizer state \(key): \(value) is not a step count"); continue
            }
            loadedSteps[i] = Int(value)
        }
        let loaded: [String: [Tensor?]]
        do {
            loaded = try loadState(tensors, names: ["exp_avg", "exp_avg_sq"], parameters: parameters)
        } catch let mismatch as StateMismatch {
            throw StateMismatch(mismatch.problems + problems)
        }
        for i in parameters.indices where (loaded["exp_avg"]![i] == nil) != (loaded["exp_avg_sq"]![i] == nil)
            || (loaded["exp_avg"]![i] != nil) != (loadedSteps[i] > 0) {
            problems.append("optimizer state \(i): exp_avg, exp_avg_sq and a positive step must be saved together")
        }
        if !problems.isEmpty { throw StateMismatch(problems) }
        averages = loaded["exp_avg"]!
        squareAverages = loaded["exp_avg_sq"]!
        steps = loadedSteps
    }

    public func step() {
        noGrad {
            // Each parameter's state is made (and its step counted) first; then one parallel
            // pass updates every parameter.
            // `parameter` keeps alive the storage `p` points into.
            var segments: [(parameter: Tensor, p: UnsafeMutablePointer<Float>, g: Tensor, m: UnsafeMutablePointer<Float>,
                            v: UnsafeMutablePointer<Float>, step: Int, lr: Float)] = []
            for i in parameters.indices {
                guard let grad = parameters[i].grad else { continue }
                var p = parameters[i]
                if averages[i] == nil {
                    averages[i] = Tensor.zeros(like: p)
                    squareAverages[i] = Tensor.zeros(like: p)
                }
                steps[i] += 1
                let pointer = p.elementsForUpdate()
                segments.append((p, pointer, grad, averages[i]!.mutableElements(), squareAverages[i]!.mutableElements(), steps[i], lr(ofParameter: i)))
            }
            let (beta1, beta2, eps, wd, decoupled) = (momentum, sqrMom, eps, weightDecay, decoupledWeightDecay)
            Kernels.forEachPiece(of: segments.map(\.g.count)) { s, range in
                let segment = segments[s], start = range.lowerBound
                Kernels.adamStep(parameter: segment.p + start, gradient: segment.g.elements + start,
                                 average: segment.m + start, squareAverage: segment.v + start, count: range.count,
                                 lr: segment.lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: wd, decoupled: decoupled,
                                 step: segment.step)
            }
        }
    }
}

/// AdamW: Adam with decoupled weight decay (fastai's Adam already decouples it; this spells
/// out PyTorch's name, with PyTorch's defaults β2 0.999, eps 1e-8, wd 0.01).
public func AdamW(_ parameters: [Tensor], lr: Float = 1e-3, momentum: Float = 0.9, sqrMom: Float = 0.999,
                  eps: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
    Adam(parameters, lr: lr, momentum: momentum, sqrMom: sqrMom, eps: eps, weightDecay: weightDecay, decoupledWeightDecay: true)
}
