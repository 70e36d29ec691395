import Foundation
import Tensors

/// A 2-D convolution over `[N, inChannels, H, W]`, as PyTorch's `nn.Conv2d`: `weight` is
/// `[outChannels, inChannels, k, k]`, `bias` `[outChannels]`; PyTorch's default initialisation
/// (uniform in ±1/√fanIn). Runs as im2col + GEMM (a 1×1 convolution goes straight to GEMM);
/// in inference, an `InferencePlan` runs it with the batch norm and ReLU after it.
public final class Conv2d: Module {
    public var weight: Tensor
    public var bias: Tensor?
    public let inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) {
        precondition(
            inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
            "Conv2d: channels, kernel size and stride must be positive and padding non-negative")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        let bound = 1 / Float(inChannels * kernelSize * kernelSize).squareRoot()
        weight = Tensor.uniform([outChannels, inChannels, kernelSize, kernelSize], -bound, bound)
        weight.requiresGrad = true
        if bias {
            var b = Tensor.uniform([outChannels], -bound, bound)
            b.requiresGrad = true
            self.bias = b
        }
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard input.count == 4, input[1] == inChannels else {
            throw LayerShapeError(self, "expected input [N, \(inChannels), H, W], got \(input)")
        }
        let (h, w) = (input[2] + 2 * padding, input[3] + 2 * padding)
        guard h >= kernelSize, w >= kernelSize else {
            throw LayerShapeError(self, "the \(kernelSize)x\(kernelSize) kernel is larger than the padded input \(input)")
        }
        return [input[0], outChannels, (h - kernelSize) / stride + 1, (w - kernelSize) / stride + 1]
    }

    public override func forward(_ input: Tensor) -> Tensor {
        requireInput(input.shape)
        return Tensor.conv2d(input, weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding))
    }

    /// Traps, naming both shapes, unless `input` is `[N, inChannels, H, W]`: a programming
    /// error in code that calls the layer itself (the Learner checks shapes with
    /// `outputShape(for:)` and throws before a batch gets here).
    private func requireInput(_ shape: [Int]) {
        guard shape.count == 4, shape[1] == inChannels else {
            fatalError("Conv2d(\(inChannels), \(outChannels)): expected input [N, \(inChannels), H, W], got \(shape)")
        }
    }

    public override var extraDescription: String {
        "\(inChannels), \(outChannels), kernel_size=(\(kernelSize), \(kernelSize)), stride=(\(stride), \(stride))"
            + (padding > 0 ? ", padding=(\(padding), \(padding))" : "") + (bias == nil ? ", bias=False" : "")
    }
}
