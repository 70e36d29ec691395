import Autograd
import Tensors

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
/// exactly as PyTorch's `torch.optim.SGD`.
public final class SGD: Optimizer {
    public let parameters: [Tensor]
    public var lr: Float
    public var momentum: Float
    public var dampening: Float
    public var weightDecay: Float
    public var nesterov: Bool
    private var velocities: [Tensor?]

    public init(_ parameters: [Tensor], lr: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and no dampening")
        self.parameters = parameters
        self.lr = lr
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        velocities = parameters.map { _ in nil }
    }

    public func stateDict() -> [String: Tensor] { Optimizers.stateDict([("momentum_buffer", velocities)]) }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        velocities = try loadState(state, names: ["momentum_buffer"], parameters: parameters)["momentum_buffer"]!
    }

    public func step() {
        noGrad {
            for i in parameters.indices {
                guard let grad = parameters[i].grad else { continue }
                var p = parameters[i]
                let count = p.count
                let firstStep = velocities[i] == nil
                if momentum != 0 && firstStep { velocities[i] = Tensor.zeros(like: p) }
                let velocity = momentum != 0 ? velocities[i]!.mutableElements() : nil
                p.updateInPlace { pointer in
                    Kernels.sgdStep(parameter: pointer, gradient: grad.elements, velocity: velocity, count: count,
                                    lr: lr, momentum: momentum, dampening: dampening, weightDecay: weightDecay,
                                    nesterov: nesterov, firstStep: firstStep)
                }
            }
        }
    }
}
