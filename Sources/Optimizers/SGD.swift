import Autograd
import Tensors

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
/// exactly as PyTorch's `torch.optim.SGD`.
public final class SGD: Optimizer {
    public let parameters: [Tensor]
    public var lr: Float
    public var lrMultipliers: [Float] = []
    public var momentum: Float
    public var dampening: Float
    public var weightDecay: Float
    public var nesterov: Bool
    private let states: ParameterStates

    /// SGD over `parameters` (the model's own tensors: `model.parameters`).
    ///
    /// - Parameters:
    ///   - lr: the learning rate.
    ///   - momentum: the momentum factor (0: plain SGD).
    ///   - dampening: how much of each gradient the momentum buffer leaves out.
    ///   - weightDecay: L2 weight decay, added to the gradient.
    ///   - nesterov: Nesterov momentum (needs momentum and no dampening; anything else traps).
    public init(
        _ parameters: [Tensor], lr: Float, momentum: Float = 0, dampening: Float = 0,
        weightDecay: Float = 0, nesterov: Bool = false
    ) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and no dampening")
        self.parameters = parameters
        self.lr = lr
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        states = ParameterStates(names: ["momentum_buffer"], countsSteps: false, parameters: parameters.count)
    }

    public func stateDict() -> [String: Tensor] { states.stateDict() }

    public func loadStateDict(_ state: [String: Tensor]) throws { try states.load(state, parameters: parameters) }

    public func step() {
        let (momentum, dampening, wd, nesterov) = (momentum, dampening, weightDecay, nesterov)
        noGrad {
            states.step(parameters, keepsState: momentum != 0, lr: lr(ofParameter:)) { piece in
                // The momentum buffer is the gradient itself on its first step, as in PyTorch.
                Kernels.sgdStep(
                    parameter: piece.parameter, gradient: piece.gradient, velocity: piece.state.0,
                    count: piece.count, lr: piece.lr, momentum: momentum, dampening: dampening,
                    weightDecay: wd, nesterov: nesterov, firstStep: piece.stateIsNew)
            }
        }
    }
}
