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
            // Momentum buffers are made first; then one parallel pass updates every parameter.
            // `parameter` keeps alive the storage `p` points into.
            var segments: [(parameter: Tensor, p: UnsafeMutablePointer<Float>, g: Tensor, velocity: UnsafeMutablePointer<Float>?,
                            firstStep: Bool, lr: Float)] = []
            for i in parameters.indices {
                guard let grad = parameters[i].grad else { continue }
                var p = parameters[i]
                let firstStep = velocities[i] == nil
                if momentum != 0 && firstStep { velocities[i] = Tensor.zeros(like: p) }
                let velocity = momentum != 0 ? velocities[i]!.mutableElements() : nil
                let pointer = p.elementsForUpdate()
                segments.append((p, pointer, grad, velocity, firstStep, lr(ofParameter: i)))
            }
            let (momentum, dampening, wd, nesterov) = (momentum, dampening, weightDecay, nesterov)
            Kernels.forEachPiece(of: segments.map(\.g.count)) { s, range in
                let segment = segments[s], start = range.lowerBound
                Kernels.sgdStep(parameter: segment.p + start, gradient: segment.g.elements + start,
                                velocity: segment.velocity.map { $0 + start }, count: range.count, lr: segment.lr,
                                momentum: momentum, dampening: dampening, weightDecay: wd, nesterov: nesterov,
                                firstStep: segment.firstStep)
            }
        }
    }
}
