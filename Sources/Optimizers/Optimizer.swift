import Autograd
import Tensors

/// Updates parameters from their gradients, as PyTorch's `torch.optim.Optimizer`:
///
///     let opt = SGD(model.parameters, lr: 0.1)
///     loss.backward(); opt.step(); opt.zeroGrad()
///
/// Hyper-parameters are public variables that a scheduler may change between steps. Your own
/// optimizer (the seeds' `BasicOptim`) only needs `parameters`, `lr` and `step()`:
///
///     final class BasicOptim: Optimizer {
///         var parameters: [Tensor], lr: Float
///         init(_ parameters: [Tensor], lr: Float) { self.parameters = parameters; self.lr = lr }
///         func step() { noGrad { for i in parameters.indices { parameters[i] -= parameters[i].grad! * lr } } }
///     }
public protocol Optimizer: AnyObject {
    /// The parameters updated by `step()` (the model's own: updates are seen by the model).
    var parameters: [Tensor] { get }
    /// The learning rate.
    var lr: Float { get set }
    /// SGD's momentum or Adam's β1; 0 for optimizers without one.
    var momentum: Float { get set }
    /// The weight decay; 0 for optimizers without one.
    var weightDecay: Float { get set }
    /// Moves each parameter against its gradient (parameters without a gradient are skipped).
    func step()
    /// Clears every parameter's gradient.
    func zeroGrad()
}

extension Optimizer {
    public var momentum: Float {
        get { 0 }
        set {}
    }
    public var weightDecay: Float {
        get { 0 }
        set {}
    }
    public func zeroGrad() {
        for p in parameters { p.zeroGrad() }
    }
}
