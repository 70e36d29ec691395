import Foundation
import Tensors

/// A fully connected layer: `x • weightᵀ + bias`, mapping `[..., inFeatures]` to `[..., outFeatures]`.
///
/// `weight` is `[outFeatures, inFeatures]` and `bias` `[outFeatures]`, PyTorch's layout, with
/// PyTorch's default initialisation: both uniform in ±1/√inFeatures.
public final class Linear: Module {
    public var weight: Tensor
    public var bias: Tensor?
    public let inFeatures: Int, outFeatures: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear: sizes must be positive, got \(inFeatures) → \(outFeatures)")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Tensor.uniform([outFeatures, inFeatures], -bound, bound)
        weight.requiresGrad = true
        if bias {
            var b = Tensor.uniform([outFeatures], -bound, bound)
            b.requiresGrad = true
            self.bias = b
        }
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard let last = input.last, last == inFeatures else {
            throw LayerShapeError(self, "input of shape \(input) does not end in \(inFeatures) features")
        }
        return input.dropLast() + [outFeatures]
    }

    public override func forward(_ input: Tensor) -> Tensor {
        guard input.rank >= 1, input.shape[input.rank - 1] == inFeatures else {
            fatalError("Linear(\(inFeatures) → \(outFeatures)): input of shape \(input.shape) does not end in \(inFeatures) features")
        }
        return Tensor.linear(input, weight: weight, bias: bias)
    }

    public override var extraDescription: String {
        "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(bias == nil ? "False" : "True")"
    }
}
