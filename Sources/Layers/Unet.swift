import Autograd
import Foundation
import Tensors

// fastai's `DynamicUnet` over any convolutional body: the body's features at every resolution
// are kept, and a decoder climbs back up through them (PixelShuffle upsampling initialised by
// ICNR, the skip batch-normed and concatenated, two convolutions), to class scores for every
// pixel of the input, whatever its size.

extension Tensor {
    /// `[N, C·r², H, W]` rearranged into `[N, C, H·r, W·r]` (PyTorch's `pixel_shuffle`): channel
    /// `c·r² + i·r + j` becomes the sub-pixel `(i, j)` of channel `c`.
    public func pixelShuffle(_ r: Int) -> Tensor {
        precondition(rank == 4 && r > 0 && shape[1] % (r * r) == 0, "pixelShuffle(\(r)): needs [N, C·\(r * r), H, W], got \(shape)")
        let (n, c, h, w) = (shape[0], shape[1] / (r * r), shape[2], shape[3])
        return reshape([n, c, r, r, h, w]).permute([0, 1, 4, 2, 5, 3]).reshape([n, c, h * r, w * r])
    }

    /// `[N, C, H, W]` resized to `height × width` by nearest neighbour (PyTorch's
    /// `F.interpolate(mode='nearest')`: output pixel `y` reads input row `⌊y·H/height⌋`).
    public func resizedNearest(height oh: Int, width ow: Int) -> Tensor {
        precondition(rank == 4 && oh > 0 && ow > 0, "resizedNearest: needs [N, C, H, W] and a positive size, got \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        if oh == h && ow == w { return self }
        let rows = (0..<oh).map { Swift.min($0 * h / oh, h - 1) }, columns = (0..<ow).map { Swift.min($0 * w / ow, w - 1) }
        var positions: [Int] = []
        positions.reserveCapacity(n * c * oh * ow)
        for plane in 0..<(n * c) {
            for y in rows { for x in columns { positions.append((plane * h + y) * w + x) } }
        }
        return reshape([-1, 1])[positions].reshape([n, c, oh, ow])
    }
}

/// fastai's `icnr_init`: a `[nf·r², ni, k, k]` convolution weight whose `r²` outputs for each
/// final channel start equal (one Kaiming-normal kernel repeated), so that followed by
/// `pixelShuffle(r)` it begins as a nearest-neighbour upsampling, free of checkerboards.
public func icnrWeight(outChannels: Int, inChannels: Int, kernelSize: Int = 1, scale: Int = 2, generator: RandomGenerator? = nil) -> Tensor {
    let r2 = scale * scale, k2 = kernelSize * kernelSize
    let groups = outChannels / r2
    let std = (2 / Float(inChannels * k2)).squareRoot()
    let base = Tensor.randn([groups, inChannels * k2], generator: generator).scalars
    var weight = [Float](repeating: 0, count: outChannels * inChannels * k2)
    for o in 0..<outChannels {
        let g = o / r2
        for i in 0..<(inChannels * k2) { weight[o * inChannels * k2 + i] = base[g * inChannels * k2 + i] * std }
    }
    return Tensor(shape: [outChannels, inChannels, kernelSize, kernelSize], scalars: weight)
}

/// fastai's `ConvLayer` as `DynamicUnet` builds it (`norm_type=None`): a convolution with bias,
/// padding `k/2`, its weight Kaiming-normal and its bias zero, then ReLU unless `relu` is false.
public func unetConv(_ ni: Int, _ nf: Int, kernelSize: Int = 3, relu: Bool = true) -> Sequential {
    let conv = Conv2d(ni, nf, kernelSize: kernelSize, padding: kernelSize / 2)
    Init.kaimingNormal(in: conv) { $0.rank == 4 }
    conv.bias = trainable(Tensor.zeros([nf]))
    return relu ? Sequential(conv, ReLU()) : Sequential(conv)
}

/// `tensor` as a parameter: gradients are kept for it.
private func trainable(_ tensor: Tensor) -> Tensor {
    var parameter = tensor
    parameter.requiresGrad = true
    return parameter
}

/// fastai's `PixelShuffle_ICNR`: a 1×1 convolution to `nf·scale²` channels (ICNR-initialised,
/// bias zero), ReLU, then `pixelShuffle(scale)`: `[N, ni, H, W]` → `[N, nf, H·scale, W·scale]`.
public final class PixelShuffleICNR: Module {
    public let conv: Conv2d
    public let scale: Int

    public init(_ ni: Int, _ nf: Int? = nil, scale: Int = 2) {
        let out = (nf ?? ni) * scale * scale
        conv = Conv2d(ni, out, kernelSize: 1)
        self.scale = scale
        conv.weight = trainable(icnrWeight(outChannels: out, inChannels: ni, scale: scale))
        conv.bias = trainable(Tensor.zeros([out]))
    }

    public override var children: [(name: String, module: Module)] { [("0", conv)] }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard let shape = try LayerShapeError.checking("0", conv, input) else { return nil }
        return [shape[0], shape[1] / (scale * scale), shape[2] * scale, shape[3] * scale]
    }

    public override func forward(_ x: Tensor) -> Tensor { conv(x).relu().pixelShuffle(scale) }
}

/// fastai's `UnetBlock`: the input upsampled ×2 by `PixelShuffleICNR` to half its channels (and
/// resized by nearest neighbour to the skip's size when they differ, as for odd sizes),
/// concatenated with the batch-normed skip features, ReLU, then two 3×3 convolutions with ReLU:
/// `nf = ni` channels out, or half of them in the last block (`finalDiv` false).
public final class UnetBlock: Module {
    public let shuffle: PixelShuffleICNR, bn: BatchNorm2d, conv1: Sequential, conv2: Sequential

    /// `upChannels`: the input's channels; `skipChannels`: the skip's.
    public init(upChannels: Int, skipChannels: Int, finalDiv: Bool = true) {
        shuffle = PixelShuffleICNR(upChannels, upChannels / 2)
        bn = BatchNorm2d(skipChannels)
        let ni = upChannels / 2 + skipChannels
        let nf = finalDiv ? ni : ni / 2
        conv1 = unetConv(ni, nf)
        conv2 = unetConv(nf, nf)
    }

    /// The block's output channels.
    public var outChannels: Int { conv2.layers.compactMap { $0 as? Conv2d }.first?.outChannels ?? 0 }

    public override var children: [(name: String, module: Module)] {
        [("shuf", shuffle), ("bn", bn), ("conv1", conv1), ("conv2", conv2)]
    }

    /// The block on `x` with the skip features `skip` (`[N, skipChannels, H, W]`).
    public func callAsFunction(_ x: Tensor, skip: Tensor) -> Tensor {
        var up = shuffle(x)
        if up.shape[2] != skip.shape[2] || up.shape[3] != skip.shape[3] { up = up.resizedNearest(height: skip.shape[2], width: skip.shape[3]) }
        return conv2(conv1(Tensor.cat([up, bn(skip)], dim: 1).relu()))
    }

    public override func forward(_ input: Tensor) -> Tensor {
        fatalError("UnetBlock needs its skip features: call block(x, skip:)")
    }
}

/// fastai's `ResBlock(1, ni, ni)` with `norm_type=None`: two 3×3 convolutions (ReLU after the
/// first) added to the input, then ReLU.
public final class UnetResBlock: Module {
    public let conv1: Sequential, conv2: Sequential

    public init(_ channels: Int) {
        conv1 = unetConv(channels, channels)
        conv2 = unetConv(channels, channels, relu: false)
    }

    public override var children: [(name: String, module: Module)] { [("convpath.0", conv1), ("convpath.1", conv2)] }
    public override func outputShape(for input: [Int]) throws -> [Int]? { input }
    public override func forward(_ x: Tensor) -> Tensor { (conv2(conv1(x)) + x).relu() }
}

/// fastai's `DynamicUnet`: `encoder` (a body of layers, such as a ResNet's without its pooling
/// and classifier) whose output at each change of resolution is kept as a skip; batch norm, ReLU
/// and two 3×3 convolutions in the middle (doubling then restoring the channels); one
/// `UnetBlock` per skip, deepest first; a last `PixelShuffleICNR` when the first skip is smaller
/// than the input, a nearest resize to the input's size, the input concatenated (fastai's
/// `last_cross`), a residual block and a 1×1 convolution to `outChannels` scores per pixel (then
/// `SigmoidRange` with a `yRange`). Inputs `[N, C, H, W]` of any size give `[N, outChannels, H, W]`.
public final class DynamicUnet: Module {
    public let encoder: Sequential
    /// The encoder layers whose outputs are the skips, deepest first.
    public let skipIndices: [Int]
    public let middle: Sequential, blocks: [UnetBlock]
    public let finalShuffle: PixelShuffleICNR?
    public let resBlock: UnetResBlock, head: Sequential
    public let range: SigmoidRange?

    /// A U-Net over `encoder` for images of `inChannels` channels, laid out for `size`
    /// (`height, width`; fastai's `img_size`, which decides where the resolution changes and
    /// whether the last upsampling is needed). Throws when the encoder cannot take such images.
    public init(encoder: Sequential, inChannels: Int, outChannels: Int, size: (height: Int, width: Int), yRange: ClosedRange<Float>? = nil) throws {
        self.encoder = encoder
        // The shape after every encoder layer, for images of `size`.
        var shapes: [[Int]] = []
        var shape = [2, inChannels, size.height, size.width]  // two images: a batch norm in training mode needs more than one value
        for (i, layer) in encoder.layers.enumerated() {
            guard let next = try LayerShapeError.checking(String(i), layer, shape) else {
                throw LayerShapeError(encoder, "layer \(i) cannot say its output shape, which the U-Net needs")
            }
            shape = next
            shapes.append(next)
        }
        guard let last = shapes.last else { throw LayerShapeError(encoder, "the encoder has no layers") }
        let sizes: [[Int]] = shapes.map { Array($0.suffix(2)) }
        let changes: [Int] = (0..<(sizes.count - 1)).filter { (i: Int) -> Bool in sizes[i] != sizes[i + 1] }
        skipIndices = changes.reversed()
        let ni = last[1]
        let middleConvs = Sequential(unetConv(ni, ni * 2), unetConv(ni * 2, ni))
        middle = Sequential(BatchNorm2d(ni), ReLU(), middleConvs)
        var channels = ni
        var blocks: [UnetBlock] = []
        for (k, index) in skipIndices.enumerated() {
            let block = UnetBlock(upChannels: channels, skipChannels: shapes[index][1], finalDiv: k != skipIndices.count - 1)
            channels = block.outChannels
            blocks.append(block)
        }
        self.blocks = blocks
        let firstSkip = skipIndices.last.map { shapes[$0] } ?? last
        finalShuffle = firstSkip[2] != size.height || firstSkip[3] != size.width ? PixelShuffleICNR(channels) : nil
        resBlock = UnetResBlock(channels + inChannels)
        head = unetConv(channels + inChannels, outChannels, kernelSize: 1, relu: false)
        range = yRange.map { SigmoidRange($0.lowerBound, $0.upperBound) }
    }

    public override var children: [(name: String, module: Module)] {
        var list: [(name: String, module: Module)] = [("encoder", encoder), ("middle", middle)]
        list += blocks.enumerated().map { ("blocks.\($0.offset)", $0.element as Module) }
        if let finalShuffle { list.append(("shuffle", finalShuffle)) }
        list += [("res", resBlock), ("head", head)]
        if let range { list.append(("range", range)) }
        return list
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        guard input.count == 4, let encoded = try LayerShapeError.checking("encoder", encoder, input) else { return nil }
        guard let first = head.layers.first as? Conv2d else { return nil }
        _ = encoded
        return [input[0], first.outChannels, input[2], input[3]]
    }

    public override func forward(_ input: Tensor) -> Tensor {
        var x = input
        var skips: [Int: Tensor] = [:]
        let wanted = Set(skipIndices)
        for (i, layer) in encoder.layers.enumerated() {
            x = layer(x)
            if wanted.contains(i) { skips[i] = x }
        }
        x = middle(x)
        for (block, index) in zip(blocks, skipIndices) { x = block(x, skip: skips[index]!) }
        if let finalShuffle { x = finalShuffle(x) }
        x = x.resizedNearest(height: input.shape[2], width: input.shape[3])
        x = head(resBlock(Tensor.cat([x, input], dim: 1)))
        return range?(x) ?? x
    }
}
