import Autograd
import Tensors

/// ResNet's basic block: two 3×3 convolutions with batch norm, added to the input (or to a
/// 1×1 strided projection of it when the shape changes), then ReLU.
public final class BasicBlock: Module {
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
        let out = bn2(conv2(bn1.forwardReLU(conv1(x))))
        return (out + (downsample?(x) ?? x)).relu()
    }
}

/// ResNet-50's bottleneck block (torchvision's v1.5): a 1×1 convolution to `planes` channels,
/// a 3×3 one (carrying the stride), a 1×1 one to `planes·4`, each with batch norm, added to the
/// input (or its 1×1 strided projection when the shape changes), then ReLU.
public final class Bottleneck: Module {
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
        let out = bn3(conv3(bn2.forwardReLU(conv2(bn1.forwardReLU(conv1(x))))))
        return (out + (downsample?(x) ?? x)).relu()
    }
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
        let stem = maxpool(bn1.followed(by: relu, conv1(x)))
        return fc(flatten(avgpool(layer4(layer3(layer2(layer1(stem)))))))
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
