import Autograd
import Tensors

/// ResNet's basic block: two 3×3 convolutions with batch norm, added to the input (or to a
/// 1×1 strided projection of it when the shape changes), then ReLU.
public final class BasicBlock: Module, ChannelMajorInference {
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    public let downsample: Sequential?

    public init(_ inPlanes: Int, _ planes: Int, stride: Int = 1) {
        conv1 = Conv2d(inPlanes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, padding: 1, bias: false)
        bn2 = BatchNorm2d(planes)
        downsample =
            stride != 1 || inPlanes != planes
            ? Sequential(Conv2d(inPlanes, planes, kernelSize: 1, stride: stride, bias: false), BatchNorm2d(planes)) : nil
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        try residualOutputShape(self, [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)], downsample: downsample, input: input)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        if fusesForInference {
            // Each convolution applies its batch norm (and the residual and ReLUs) as it writes.
            let h = conv1.inference(x, bn1, relu: true)
            return conv2.inference(h, bn2, residual: shortcutForInference(downsample, x), relu: true)
        }
        let out = bn2(conv2(bn1.forwardReLU(conv1(x))))
        return (out + (downsample?(x) ?? x)).relu()
    }

    package func inference(_ x: ChannelMajorMaps) -> ChannelMajorMaps {
        let h = conv1.inference(x, bn1, relu: true)
        return conv2.inference(h, bn2, residual: shortcutForInference(downsample, x), relu: true)
    }
}

/// ResNet-50's bottleneck block (torchvision's v1.5): a 1×1 convolution to `planes` channels,
/// a 3×3 one (carrying the stride), a 1×1 one to `planes·4`, each with batch norm, added to the
/// input (or its 1×1 strided projection when the shape changes), then ReLU.
public final class Bottleneck: Module, ChannelMajorInference {
    /// The output has `planes · expansion` channels.
    public static let expansion = 4
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d, conv3: Conv2d, bn3: BatchNorm2d
    public let downsample: Sequential?

    public init(_ inPlanes: Int, _ planes: Int, stride: Int = 1) {
        let out = planes * Self.expansion
        conv1 = Conv2d(inPlanes, planes, kernelSize: 1, bias: false)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false)
        bn2 = BatchNorm2d(planes)
        conv3 = Conv2d(planes, out, kernelSize: 1, bias: false)
        bn3 = BatchNorm2d(out)
        downsample =
            stride != 1 || inPlanes != out
            ? Sequential(Conv2d(inPlanes, out, kernelSize: 1, stride: stride, bias: false), BatchNorm2d(out)) : nil
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        try residualOutputShape(
            self, [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("conv3", conv3), ("bn3", bn3)],
            downsample: downsample, input: input)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        if fusesForInference {
            let h = conv2.inference(conv1.inference(x, bn1, relu: true), bn2, relu: true)
            return conv3.inference(h, bn3, residual: shortcutForInference(downsample, x), relu: true)
        }
        let out = bn3(conv3(bn2.forwardReLU(conv2(bn1.forwardReLU(conv1(x))))))
        return (out + (downsample?(x) ?? x)).relu()
    }

    package func inference(_ x: ChannelMajorMaps) -> ChannelMajorMaps {
        let h = conv2.inference(conv1.inference(x, bn1, relu: true), bn2, relu: true)
        return conv3.inference(h, bn3, residual: shortcutForInference(downsample, x), relu: true)
    }
}

/// A block that runs inference on channel-major maps (no layout copies between its
/// convolutions or to the next block), with the values of its `forward` in inference.
package protocol ChannelMajorInference: Module {
    /// The block's output for `x`, in inference (`fusesForInference`).
    func inference(_ x: ChannelMajorMaps) -> ChannelMajorMaps
}

/// A residual block's output shape: its branch's layers in turn, checked against the shortcut's.
func residualOutputShape(_ block: Module, _ branch: [(String, Module)], downsample: Sequential?, input: [Int]) throws -> [Int]? {
    var shape: [Int]? = input
    for (name, layer) in branch { shape = try LayerShapeError.checking(name, layer, shape) }
    let identity = try downsample.map { try LayerShapeError.checking("downsample", $0, input) } ?? input
    if let shape, let identity, shape != identity {
        throw LayerShapeError(block, "the residual branch gives \(shape) but the shortcut \(identity)")
    }
    return shape
}

/// A block's shortcut in inference: the projection's convolution applies its batch norm as it
/// writes (or the input itself when there is no projection).
func shortcutForInference(_ downsample: Sequential?, _ x: Tensor) -> Tensor {
    if let (conv, norm) = projection(downsample) { return conv.inference(x, norm, relu: false) }
    return downsample?(x) ?? x
}

/// `shortcutForInference` on channel-major maps.
func shortcutForInference(_ downsample: Sequential?, _ x: ChannelMajorMaps) -> ChannelMajorMaps {
    guard let downsample else { return x }
    if let (conv, norm) = projection(downsample) { return conv.inference(x, norm, relu: false) }
    return ChannelMajorMaps(downsample(x.tensor()))
}

/// The convolution and batch norm of a projection shortcut (torchvision's `downsample`), when it
/// is exactly those two layers.
private func projection(_ downsample: Sequential?) -> (Conv2d, BatchNorm)? {
    guard let downsample, downsample.layers.count == 2, let conv = downsample.layers[0] as? Conv2d,
        let norm = downsample.layers[1] as? BatchNorm
    else { return nil }
    return (conv, norm)
}

/// A residual network with torchvision's layout: a 7×7 stride-2 stem convolution, batch norm,
/// ReLU and 3×3 stride-2 max pooling, four stages of 64, 128, 256 and 512 channels (×4 with
/// bottleneck blocks; the last three stages halving the resolution), adaptive average pooling
/// and a linear classifier. Parameter names are torchvision's (`layer1.0.conv1.weight`), so its
/// state dicts load key for key. Convolutions are initialised Kaiming-normal (fan out), batch
/// norms to 1 and 0.
public final class ResNet: Module {
    public let conv1: Conv2d, bn1: BatchNorm2d, relu = ReLU(), maxpool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
    public let layer1: Sequential, layer2: Sequential, layer3: Sequential, layer4: Sequential
    public let avgpool = AdaptiveAvgPool2d((1, 1)), flatten = Flatten()
    public let fc: Linear
    /// The channels the body gives: 512, or 2048 with bottleneck blocks.
    public let features: Int

    /// A ResNet with `blocks[i]` blocks in stage `i`: basic blocks, or `bottleneck` ones.
    public init(blocks: [Int], bottleneck: Bool = false, inChannels: Int = 3, classes: Int = 1000) {
        precondition(blocks.count == 4, "ResNet: expected four stages, got \(blocks)")
        conv1 = Conv2d(inChannels, 64, kernelSize: 7, stride: 2, padding: 3, bias: false)
        bn1 = BatchNorm2d(64)
        let expansion = bottleneck ? Bottleneck.expansion : 1
        func block(_ inPlanes: Int, _ planes: Int, stride: Int) -> Module {
            bottleneck ? Bottleneck(inPlanes, planes, stride: stride) : BasicBlock(inPlanes, planes, stride: stride)
        }
        func stage(_ inPlanes: Int, _ planes: Int, _ count: Int, stride: Int) -> Sequential {
            Sequential([block(inPlanes, planes, stride: stride)] + (1..<max(count, 1)).map { _ in block(planes * expansion, planes, stride: 1) })
        }
        layer1 = stage(64, 64, blocks[0], stride: 1)
        layer2 = stage(64 * expansion, 128, blocks[1], stride: 2)
        layer3 = stage(128 * expansion, 256, blocks[2], stride: 2)
        layer4 = stage(256 * expansion, 512, blocks[3], stride: 2)
        features = 512 * expansion
        fc = Linear(features, classes)
        super.init()
        Init.kaimingNormal(in: self, fanOut: true) { $0.rank == 4 }
    }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        var shape: [Int]? = input
        for (name, layer) in [
            ("conv1", conv1), ("bn1", bn1), ("maxpool", maxpool), ("layer1", layer1), ("layer2", layer2),
            ("layer3", layer3), ("layer4", layer4), ("avgpool", avgpool), ("flatten", flatten), ("fc", fc),
        ] as [(String, Module)] {
            shape = try LayerShapeError.checking(name, layer, shape)
        }
        return shape
    }

    public override func forward(_ x: Tensor) -> Tensor {
        if fusesForInference, let blocks = channelMajorBlocks {
            // Channel-major from the stem's output to the pooling: no layout copies in between.
            var maps = conv1.inferenceMaps(x, bn1, relu: true)
                .maxPool2d(kernel: maxpool.window.kernel, stride: maxpool.window.stride, padding: maxpool.window.padding)
            for block in blocks { maps = block.inference(maps) }
            let pooled = avgpool.outputSize == (1, 1) ? maps.globalAveragePool() : avgpool(maps.tensor())
            return fc(flatten(pooled))
        }
        let stem = maxpool(
            fusesForInference
                ? conv1.inference(x, bn1, relu: true)
                : Module.isObservingForward ? relu(bn1(conv1(x))) : bn1.forwardReLU(conv1(x)))
        return fc(flatten(avgpool(layer4(layer3(layer2(layer1(stem)))))))
    }

    /// The blocks of the four stages in order, when all of them run channel-major.
    private var channelMajorBlocks: [ChannelMajorInference]? {
        let blocks = [layer1, layer2, layer3, layer4].flatMap(\.layers)
        let channelMajor = blocks.compactMap { $0 as? ChannelMajorInference }
        return channelMajor.count == blocks.count ? channelMajor : nil
    }

    /// The layers before the pooling and classifier: the convolutional body fastai's
    /// `vision_learner` keeps (`[N, inChannels, H, W]` → `[N, features, H/32, W/32]`).
    public var body: Sequential { Sequential(conv1, bn1, relu, maxpool, layer1, layer2, layer3, layer4) }
}

/// ResNet-18: [2, 2, 2, 2] basic blocks (11,689,512 parameters for 3 channels and 1000 classes).
public func resnet18(inChannels: Int = 3, classes: Int = 1000) -> ResNet {
    ResNet(blocks: [2, 2, 2, 2], inChannels: inChannels, classes: classes)
}

/// ResNet-34: [3, 4, 6, 3] basic blocks.
public func resnet34(inChannels: Int = 3, classes: Int = 1000) -> ResNet {
    ResNet(blocks: [3, 4, 6, 3], inChannels: inChannels, classes: classes)
}

/// ResNet-50: [3, 4, 6, 3] bottleneck blocks (25,557,032 parameters for 3 channels and 1000 classes).
public func resnet50(inChannels: Int = 3, classes: Int = 1000) -> ResNet {
    ResNet(blocks: [3, 4, 6, 3], bottleneck: true, inChannels: inChannels, classes: classes)
}

/// fastai's `create_head`: concat pooling, flatten, then two blocks of batch norm, dropout and
/// a bias-free linear layer (`nf·2 → 512 → classes`, dropout 0.25 then 0.5, ReLU between).
/// `features` is the body's channel count (512 for ResNet-18).
public func createHead(_ features: Int, _ classes: Int, hidden: Int = 512, dropout: (Float, Float) = (0.25, 0.5)) -> Sequential {
    Sequential(
        AdaptiveConcatPool2d((1, 1)), Flatten(),
        BatchNorm1d(features * 2), Dropout(p: dropout.0), Linear(features * 2, hidden, bias: false), ReLU(),
        BatchNorm1d(hidden), Dropout(p: dropout.1), Linear(hidden, classes, bias: false))
}
