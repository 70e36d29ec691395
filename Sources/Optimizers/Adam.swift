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
    private let states: ParameterStates

    /// Adam over `parameters` (the model's own tensors: `model.parameters`).
    ///
    /// - Parameters:
    ///   - lr: the learning rate.
    ///   - momentum: β1, the decay of the gradient's running average.
    ///   - sqrMom: β2, the decay of the squared gradient's running average.
    ///   - eps: added to the denominator's square root.
    ///   - weightDecay: the weight decay, decoupled (AdamW) or L2 (see `decoupledWeightDecay`).
    ///   - decoupledWeightDecay: true for `p *= 1 - lr·wd` (fastai's default), false for L2.
    public init(
        _ parameters: [Tensor], lr: Float = 1e-3, momentum: Float = 0.9, sqrMom: Float = 0.99,
        eps: Float = 1e-5, weightDecay: Float = 0.01, decoupledWeightDecay: Bool = true
    ) {
        self.parameters = parameters
        self.lr = lr
        self.momentum = momentum
        self.sqrMom = sqrMom
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        states = ParameterStates(names: ["exp_avg", "exp_avg_sq"], countsSteps: true, parameters: parameters.count)
    }

    public func stateDict() -> [String: Tensor] { states.stateDict() }

    public func loadStateDict(_ state: [String: Tensor]) throws { try states.load(state, parameters: parameters) }

    public func step() {
        let (beta1, beta2, eps, wd, decoupled) = (momentum, sqrMom, eps, weightDecay, decoupledWeightDecay)
        noGrad {
            states.step(parameters, keepsState: true, lr: lr(ofParameter:)) { piece in
                Kernels.adamStep(
                    parameter: piece.parameter, gradient: piece.gradient,
                    average: piece.state.0!, squareAverage: piece.state.1!, count: piece.count,
                    lr: piece.lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: wd, decoupled: decoupled,
                    step: piece.step)
            }
        }
    }
}

/// AdamW: Adam with decoupled weight decay (fastai's Adam already decouples it; this spells
/// out PyTorch's name, with PyTorch's defaults β2 0.999, eps 1e-8, wd 0.01).
public func AdamW(
    _ parameters: [Tensor], lr: Float = 1e-3, momentum: Float = 0.9, sqrMom: Float = 0.999,
    eps: Float = 1e-8, weightDecay: Float = 0.01
) -> Adam {
    Adam(parameters, lr: lr, momentum: momentum, sqrMom: sqrMom, eps: eps, weightDecay: weightDecay, decoupledWeightDecay: true)
}
