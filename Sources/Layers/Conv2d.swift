import Foundation
import Tensors

/// A 2-D convolution over `[N, inChannels, H, W]`, as PyTorch's `nn.Conv2d`: `weight` is
/// `[outChannels, inChannels, k, k]`, `bias` `[outChannels]`; PyTorch's default initialisation
/// (uniform in ±1/√fanIn). Runs as im2col + GEMM (a 1×1 convolution goes straight to GEMM).
public final class Conv2d: Module {
    public var weight: Tensor
    public var bias: Tensor?
    public let inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int
    /// The packed GEMM weight for inference, with the weight contents and taps it is for.
    private let inferenceCache = InferenceCache()

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

    /// `norm(self(input))` (+ `residual`) (ReLU) in one pass over the output, for inference:
    /// valid only when `fusesForInference` says so (nothing records, `norm` uses its running
    /// statistics). Bit-identical to the separate layers when the convolution has no bias (as
    /// in ResNet); a bias is folded into the shift, which rounds differently.
    package func inference(_ input: Tensor, _ norm: BatchNorm, residual: Tensor? = nil, relu: Bool) -> Tensor {
        requireInput(input.shape)
        let (scale, shift) = inferenceAffine(norm)
        return Tensor.conv2dInference(
            input, weight: weight, stride: (stride, stride), padding: (padding, padding),
            scale: scale, shift: shift, residual: residual, relu: relu,
            packedWeight: packedWeight(for: geometry(height: input.shape[2], width: input.shape[3])))
    }

    /// `inference(_:_:residual:relu:)` on channel-major maps, giving channel-major maps: the
    /// same values, without the layout copies around the GEMM (a ResNet's inference path).
    package func inference(_ input: ChannelMajorMaps, _ norm: BatchNorm, residual: ChannelMajorMaps? = nil, relu: Bool) -> ChannelMajorMaps {
        requireInput(input.nchwShape)
        let g = geometry(height: input.height, width: input.width)
        let (scale, shift) = inferenceAffine(norm)
        return input.convolved(weight: packedWeight(for: g), g, scale: scale, shift: shift, residual: residual, relu: relu)
    }

    /// `inference(_:_:relu:)` of an NCHW input (a network's first layer), giving channel-major maps.
    package func inferenceMaps(_ input: Tensor, _ norm: BatchNorm, relu: Bool) -> ChannelMajorMaps {
        requireInput(input.shape)
        let g = geometry(height: input.shape[2], width: input.shape[3])
        let (scale, shift) = inferenceAffine(norm)
        return ChannelMajorMaps.convolved(input, weight: packedWeight(for: g), g, scale: scale, shift: shift, relu: relu)
    }

    /// `norm`'s inference affine map with this layer's bias folded into the shift.
    private func inferenceAffine(_ norm: BatchNorm) -> (scale: Tensor, shift: Tensor) {
        var (scale, shift) = norm.inferenceAffine()
        if let bias { shift = shift + bias.detach() * scale }
        return (scale, shift)
    }

    /// This layer's geometry over `height × width` maps of `inChannels` channels.
    private func geometry(height: Int, width: Int) -> ConvGeometry {
        guard height + 2 * padding >= kernelSize, width + 2 * padding >= kernelSize else {
            fatalError("Conv2d(\(inChannels), \(outChannels)): the \(kernelSize)x\(kernelSize) kernel is larger than the padded \(height)x\(width) input")
        }
        return ConvGeometry(
            channels: inChannels, height: height, width: width, kernel: (kernelSize, kernelSize),
            stride: (stride, stride), padding: (padding, padding))
    }

    /// The weight as the inference GEMM takes it (packed into the micro-kernel's panels, and
    /// only the kernel taps that see the input: the last stage of a ResNet on small images
    /// reads 1 tap in 9 of a 9.4 MB weight), kept between calls while the weight's values and
    /// the taps stay the same.
    private func packedWeight(for g: ConvGeometry) -> Kernels.PackedPanels {
        let identity = weight.contentIdentity
        inferenceCache.lock.lock()
        defer { inferenceCache.lock.unlock() }
        if let cached = inferenceCache.entry, cached.identity == identity, cached.taps == g.taps { return cached.weight }
        let packed = Tensor.inferenceWeight(weight, g)
        inferenceCache.entry = (identity, g.taps, packed)
        return packed
    }

    /// A class, not a `Mutex` stored in the module: modules find their parameters by reflecting
    /// their stored properties, which must be copyable values.
    private final class InferenceCache: @unchecked Sendable {
        let lock = NSLock()
        var entry: (identity: ContentIdentity, taps: [Int], weight: Kernels.PackedPanels)?
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
