import Tensors

/// A pooling layer with a fixed square window (`stride` defaults to the window size).
public class WindowPool2d: Module {
    public let kernelSize: Int, stride: Int, padding: Int
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }
    var window: (kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)) {
        ((kernelSize, kernelSize), (stride, stride), (padding, padding))
    }
    public override var extraDescription: String { "kernel_size=\(kernelSize), stride=\(stride), padding=\(padding)" }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard input.count == 4 else { throw LayerShapeError(self, "expected input [N, C, H, W], got \(input)") }
        guard kernelSize > 0, stride > 0, padding >= 0, 2 * padding <= kernelSize else {
            throw LayerShapeError(self, "kernel \(kernelSize), stride \(stride) and padding \(padding) are invalid (padding may be at most half the kernel)")
        }
        let (h, w) = (input[2] + 2 * padding, input[3] + 2 * padding)
        guard h >= kernelSize, w >= kernelSize else { throw LayerShapeError(self, "the window is larger than the padded input \(input)") }
        return [input[0], input[1], (h - kernelSize) / stride + 1, (w - kernelSize) / stride + 1]
    }
}

/// Max pooling over `[N, C, H, W]`.
public final class MaxPool2d: WindowPool2d {
    public override func forward(_ input: Tensor) -> Tensor {
        input.maxPool2d(kernel: window.kernel, stride: window.stride, padding: window.padding)
    }
}

/// Average pooling over `[N, C, H, W]`, padding counted in the divisor.
public final class AvgPool2d: WindowPool2d {
    public override func forward(_ input: Tensor) -> Tensor {
        input.avgPool2d(kernel: window.kernel, stride: window.stride, padding: window.padding)
    }
}

/// Average pooling to a fixed output size (1×1 gives one value per channel).
public final class AdaptiveAvgPool2d: Module {
    public let outputSize: (Int, Int)
    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard input.count == 4 else { throw LayerShapeError(self, "expected input [N, C, H, W], got \(input)") }
        guard outputSize.0 > 0, outputSize.1 > 0 else { throw LayerShapeError(self, "output size \(outputSize) must be at least 1x1") }
        return [input[0], input[1], outputSize.0, outputSize.1]
    }
    public init(_ outputSize: (Int, Int) = (1, 1)) { self.outputSize = outputSize }
    public override func forward(_ input: Tensor) -> Tensor { input.adaptiveAvgPool2d(outputSize) }
    public override var extraDescription: String { "output_size=(\(outputSize.0), \(outputSize.1))" }
}

/// Max pooling to a fixed output size.
public final class AdaptiveMaxPool2d: Module {
    public let outputSize: (Int, Int)
    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard input.count == 4 else { throw LayerShapeError(self, "expected input [N, C, H, W], got \(input)") }
        guard outputSize.0 > 0, outputSize.1 > 0 else { throw LayerShapeError(self, "output size \(outputSize) must be at least 1x1") }
        return [input[0], input[1], outputSize.0, outputSize.1]
    }
    public init(_ outputSize: (Int, Int) = (1, 1)) { self.outputSize = outputSize }
    public override func forward(_ input: Tensor) -> Tensor { input.adaptiveMaxPool2d(outputSize) }
    public override var extraDescription: String { "output_size=(\(outputSize.0), \(outputSize.1))" }
}

/// fastai's `AdaptiveConcatPool2d`: adaptive max and average pooling side by side on the
/// channel axis (max first), so `[N, C, H, W]` becomes `[N, 2C, size, size]`.
public final class AdaptiveConcatPool2d: Module {
    public let outputSize: (Int, Int)
    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard input.count == 4 else { throw LayerShapeError(self, "expected input [N, C, H, W], got \(input)") }
        guard outputSize.0 > 0, outputSize.1 > 0 else { throw LayerShapeError(self, "output size \(outputSize) must be at least 1x1") }
        return [input[0], 2 * input[1], outputSize.0, outputSize.1]
    }
    public init(_ outputSize: (Int, Int) = (1, 1)) { self.outputSize = outputSize }
    public override func forward(_ input: Tensor) -> Tensor {
        Tensor.cat([input.adaptiveMaxPool2d(outputSize), input.adaptiveAvgPool2d(outputSize)], dim: 1)
    }
}
