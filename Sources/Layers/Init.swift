import Autograd
import Foundation
import Tensors

/// Weight initialisation, as `torch.nn.init`. Each returns a new tensor that requires
/// gradients, ready to be a parameter. `fanIn`/`fanOut` follow PyTorch: for a `[out, in, ...]`
/// weight, fanIn = in × receptive field, fanOut = out × receptive field.
public enum Init {
    /// (fanIn, fanOut) of a weight of `shape`.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "Init: fan in and out need at least 2 dimensions, got \(shape)")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// Normal with std = gain / √fan (kaiming_normal_, relu gain √2 by default).
    public static func kaimingNormal(_ shape: [Int], fanOut: Bool = false, gain: Float = Float(2).squareRoot()) -> Tensor {
        let f = fans(shape)
        return parameter(Tensor.normal(shape, mean: 0, std: gain / Float(fanOut ? f.fanOut : f.fanIn).squareRoot()))
    }

    /// Re-initialises, in place, every parameter of `module` that `selected` picks with
    /// `kaimingNormal`'s distribution (fastai's `apply_init(m, nn.init.kaiming_normal_)`): how
    /// ResNet's convolutions (fan out) and fastai's head (fan in) start.
    public static func kaimingNormal(
        in module: Module, fanOut: Bool = false, gain: Float = Float(2).squareRoot(),
        where selected: (Tensor) -> Bool
    ) {
        for (_, parameter) in module.namedParameters where parameter.rank >= 2 && selected(parameter) {
            let f = fans(parameter.shape)
            var p = parameter
            noGrad { p.normalInPlace(mean: 0, std: gain / Float(fanOut ? f.fanOut : f.fanIn).squareRoot()) }
        }
    }

    /// Uniform in ±gain·√(3 / fan) (kaiming_uniform_).
    public static func kaimingUniform(_ shape: [Int], fanOut: Bool = false, gain: Float = Float(2).squareRoot()) -> Tensor {
        let f = fans(shape)
        let bound = gain * (3 / Float(fanOut ? f.fanOut : f.fanIn)).squareRoot()
        return parameter(Tensor.uniform(shape, -bound, bound))
    }

    /// Uniform in ±gain·√(6 / (fanIn + fanOut)) (xavier_uniform_).
    public static func xavierUniform(_ shape: [Int], gain: Float = 1) -> Tensor {
        let f = fans(shape)
        let bound = gain * (6 / Float(f.fanIn + f.fanOut)).squareRoot()
        return parameter(Tensor.uniform(shape, -bound, bound))
    }

    /// Normal with std = gain·√(2 / (fanIn + fanOut)) (xavier_normal_).
    public static func xavierNormal(_ shape: [Int], gain: Float = 1) -> Tensor {
        let f = fans(shape)
        return parameter(Tensor.normal(shape, mean: 0, std: gain * (2 / Float(f.fanIn + f.fanOut)).squareRoot()))
    }

    private static func parameter(_ t: Tensor) -> Tensor {
        var p = t
        p.requiresGrad = true
        return p
    }
}

/// The seeds' `init_params(size, std=1.0)`: normal values times `std`, requiring gradients.
///
///     var weights = initParams([28 * 28, 1])
///     var bias = initParams([1])
public func initParams(_ shape: [Int], std: Float = 1) -> Tensor {
    var p = Tensor.randn(shape) * std
    p.requiresGrad = true
    return p
}
