import Autograd
import Tensors

/// Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay, as
/// PyTorch's `torch.optim.SGD` (L2 weight decay, added to the gradient) or, with
/// `decoupledWeightDecay`, as fastai's `SGD` (true weight decay: `p *= 1 - lr·wd`).
public final class SGD: Optimizer {
    /// How much of each gradient the momentum buffer leaves out.
    public var dampening: Float
    /// Nesterov momentum.
    public let nesterov: Bool
    /// True weight decay (`p *= 1 - lr·wd`, fastai's) instead of L2 (PyTorch's).
    public let decoupledWeightDecay: Bool
    private let states: ParameterStates

    /// SGD over parameter groups (the Learner's: `splitter`'s groups), each starting with these
    /// hyper-parameters.
    ///
    /// - Parameters:
    ///   - groups: the parameter groups, first to last.
    ///   - lr: the learning rate.
    ///   - momentum: the momentum factor (0: plain SGD).
    ///   - dampening: how much of each gradient the momentum buffer leaves out.
    ///   - weightDecay: the weight decay, L2 (added to the gradient) unless `decoupledWeightDecay`.
    ///   - nesterov: Nesterov momentum (needs momentum and no dampening; anything else traps).
    ///   - decoupledWeightDecay: true weight decay, `p *= 1 - lr·wd`, as fastai's SGD.
    public init(
        _ groups: [[Tensor]], lr: Float, momentum: Float = 0, dampening: Float = 0,
        weightDecay: Float = 0, nesterov: Bool = false, decoupledWeightDecay: Bool = false
    ) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and no dampening")
        self.dampening = dampening
        self.nesterov = nesterov
        self.decoupledWeightDecay = decoupledWeightDecay
        states = ParameterStates(names: ["momentum_buffer"], countsSteps: false, parameters: groups.reduce(0) { $0 + $1.count })
        super.init(groups, hypers: Hyperparameters(lr: lr, momentum: momentum, weightDecay: weightDecay))
    }

    /// SGD over `parameters` (the model's own tensors: `model.parameters`), one group; the other
    /// parameters are those of `init(_:lr:momentum:dampening:weightDecay:nesterov:decoupledWeightDecay:)`.
    public convenience init(
        _ parameters: [Tensor], lr: Float, momentum: Float = 0, dampening: Float = 0,
        weightDecay: Float = 0, nesterov: Bool = false, decoupledWeightDecay: Bool = false
    ) {
        self.init(
            [parameters], lr: lr, momentum: momentum, dampening: dampening, weightDecay: weightDecay, nesterov: nesterov,
            decoupledWeightDecay: decoupledWeightDecay)
    }

    public override func stateDict() -> [String: Tensor] { states.stateDict() }

    public override func loadStateDict(_ state: [String: Tensor]) throws { try states.load(state, parameters: parameters) }

    public override func clearState() { states.clear() }

    public override func step() {
        let (dampening, nesterov, decoupled) = (dampening, nesterov, decoupledWeightDecay)
        let keepsState = groups.contains { $0.hypers.momentum != 0 }
        noGrad {
            states.step(self, keepsState: keepsState) { piece in
                // The momentum buffer is the gradient itself on its first step, as in PyTorch.
                let h = piece.hypers
                Kernels.sgdStep(
                    parameter: piece.parameter, gradient: piece.gradient, velocity: h.momentum != 0 ? piece.state.0 : nil,
                    count: piece.count, lr: h.lr, momentum: h.momentum, dampening: dampening,
                    weightDecay: h.weightDecay, decoupled: decoupled, nesterov: nesterov, firstStep: piece.stateIsNew)
            }
        }
    }
}
