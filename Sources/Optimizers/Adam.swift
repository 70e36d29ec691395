import Autograd
import Tensors

/// Adam with fastai's defaults: β1 (`momentum`) 0.9, β2 (`sqrMom`) 0.99, eps 1e-5, and weight
/// decay 0.01 applied decoupled (`p *= 1 - lr·wd`, as AdamW), with bias correction.
/// `decoupledWeightDecay: false` gives PyTorch's `Adam` (L2 decay added to the gradient).
public final class Adam: Optimizer {
    /// True weight decay (`p *= 1 - lr·wd`, fastai's and AdamW's) instead of L2 (PyTorch's Adam).
    public let decoupledWeightDecay: Bool
    private let states: ParameterStates

    /// Adam over parameter groups (the Learner's: `splitter`'s groups), each starting with these
    /// hyper-parameters.
    ///
    /// - Parameters:
    ///   - groups: the parameter groups, first to last.
    ///   - lr: the learning rate.
    ///   - momentum: β1, the decay of the gradient's running average.
    ///   - sqrMom: β2, the decay of the squared gradient's running average.
    ///   - eps: added to the denominator's square root.
    ///   - weightDecay: the weight decay, decoupled (AdamW) or L2 (see `decoupledWeightDecay`).
    ///   - decoupledWeightDecay: true for `p *= 1 - lr·wd` (fastai's default), false for L2.
    public init(
        _ groups: [[Tensor]], lr: Float = 1e-3, momentum: Float = 0.9, sqrMom: Float = 0.99,
        eps: Float = 1e-5, weightDecay: Float = 0.01, decoupledWeightDecay: Bool = true
    ) {
        self.decoupledWeightDecay = decoupledWeightDecay
        states = ParameterStates(names: ["exp_avg", "exp_avg_sq"], countsSteps: true, parameters: groups.reduce(0) { $0 + $1.count })
        super.init(groups, hypers: Hyperparameters(lr: lr, momentum: momentum, sqrMom: sqrMom, eps: eps, weightDecay: weightDecay))
    }

    /// Adam over `parameters` (the model's own tensors: `model.parameters`), one group; the
    /// other parameters are those of `init(_:lr:momentum:sqrMom:eps:weightDecay:decoupledWeightDecay:)`.
    public convenience init(
        _ parameters: [Tensor], lr: Float = 1e-3, momentum: Float = 0.9, sqrMom: Float = 0.99,
        eps: Float = 1e-5, weightDecay: Float = 0.01, decoupledWeightDecay: Bool = true
    ) {
        self.init(
            [parameters], lr: lr, momentum: momentum, sqrMom: sqrMom, eps: eps, weightDecay: weightDecay,
            decoupledWeightDecay: decoupledWeightDecay)
    }

    /// PyTorch's `AdamW`: decoupled weight decay with PyTorch's defaults (β2 0.999, eps 1e-8,
    /// wd 0.01); fastai's Adam already decouples it.
    public static func adamW(
        _ parameters: [Tensor], lr: Float = 1e-3, momentum: Float = 0.9, sqrMom: Float = 0.999,
        eps: Float = 1e-8, weightDecay: Float = 0.01
    ) -> Adam {
        Adam(parameters, lr: lr, momentum: momentum, sqrMom: sqrMom, eps: eps, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public override func stateDict() -> [String: Tensor] { states.stateDict() }

    public override func loadStateDict(_ state: [String: Tensor]) throws { try states.load(state, parameters: parameters) }

    public override func clearState() { states.clear() }

    public override func step() {
        let decoupled = decoupledWeightDecay
        noGrad {
            states.step(self, keepsState: true) { piece in
                let h = piece.hypers
                Kernels.adamStep(
                    parameter: piece.parameter, gradient: piece.gradient,
                    average: piece.state.0!, squareAverage: piece.state.1!, count: piece.count,
                    lr: h.lr, beta1: h.momentum, beta2: h.sqrMom, eps: h.eps, weightDecay: h.weightDecay, decoupled: decoupled,
                    step: piece.step)
            }
        }
    }
}
