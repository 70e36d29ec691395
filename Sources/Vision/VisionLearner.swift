import Codecs
import DataBlocks
import Foundation
import Layers
import Training
import Tensors

/// The architectures `visionLearner` can build: torchvision's ResNets.
public enum Architecture: Sendable, CaseIterable {
    case resnet18, resnet34, resnet50

    /// The full network, torchvision's layout and parameter names.
    public func network(inChannels: Int = 3, classes: Int = 1000) -> ResNet {
        switch self {
        case .resnet18: return Layers.resnet18(inChannels: inChannels, classes: classes)
        case .resnet34: return Layers.resnet34(inChannels: inChannels, classes: classes)
        case .resnet50: return Layers.resnet50(inChannels: inChannels, classes: classes)
        }
    }

    /// The channels the body gives (the head's input): 512, or 2048 for ResNet-50.
    public var features: Int { self == .resnet50 ? 2048 : 512 }

    /// The full model `visionLearner` builds: the body, then fastai's head. (The network is made
    /// whole, classifier included, so that a seed gives the same initial weights as it always has.)
    func model(inChannels: Int, classes: Int, yRange: ClosedRange<Float>? = nil) -> Sequential {
        Self.withHead(network(inChannels: inChannels).body, features: features, classes: classes, yRange: yRange)
    }

    /// A body and fastai's head for it, the head's linear layers initialised Kaiming-normal,
    /// and `SigmoidRange` after it for a `yRange`.
    static func withHead(_ body: Sequential, features: Int, classes: Int, yRange: ClosedRange<Float>? = nil) -> Sequential {
        let head = createHead(features, classes, yRange: yRange)
        Init.kaimingNormal(in: head) { $0.rank == 2 }
        return Sequential(body, head)
    }

    /// torchvision's name: "resnet18".
    public var name: String {
        switch self {
        case .resnet18: return "resnet18"
        case .resnet34: return "resnet34"
        case .resnet50: return "resnet50"
        }
    }

    init?(name: String) {
        guard let arch = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = arch
    }

    /// The network with torchvision's weights from a safetensors file (a state dict as
    /// `Benchmarks/convert_torchvision.py` writes it from a `.pth`): loaded key for key, every
    /// tensor present with its shape, or an error naming each one that is not. For
    /// `inChannels` other than 3 the stem is adapted as fastai's `_update_first_layer`: one
    /// channel gets the sum over RGB, two get the first two ×1.5, more get RGB then zeros.
    public func pretrainedNetwork(from file: URL, inChannels: Int = 3) throws -> ResNet {
        guard inChannels > 0 else { throw LearnerError("pretrained \(name): inChannels must be positive, got \(inChannels)") }
        var (tensors, _) = try SafeTensors.read(file)
        if inChannels != 3, let stem = tensors["conv1.weight"], stem.rank == 4, stem.shape[1] == 3 {
            tensors["conv1.weight"] = Self.adaptStem(stem, to: inChannels)
        }
        let classes = tensors["fc.weight"].map { $0.rank == 2 ? $0.shape[0] : 1000 } ?? 1000
        let net = network(inChannels: inChannels, classes: max(classes, 1))
        do {
            try net.loadStateDict(tensors)
        } catch let mismatch as StateMismatch {
            throw LearnerError("\(file.path): not torchvision's \(name) weights:\n  " + mismatch.problems.joined(separator: "\n  "))
        }
        return net
    }

    /// A `[out, 3, k, k]` stem weight for `channels` input channels (fastai's `_load_pretrained_weights`).
    static func adaptStem(_ weight: Tensor, to channels: Int) -> Tensor {
        let (out, k2) = (weight.shape[0], weight.shape[2] * weight.shape[3])
        let w = weight.scalars
        var result = [Float](repeating: 0, count: out * channels * k2)
        for o in 0..<out {
            for i in 0..<k2 {
                let rgb = (0..<3).map { w[(o * 3 + $0) * k2 + i] }
                for c in 0..<channels {
                    let value: Float
                    switch channels {
                    case 1: value = rgb[0] + rgb[1] + rgb[2]
                    case 2: value = rgb[c] * 1.5
                    default: value = c < 3 ? rgb[c] : 0
                    }
                    result[(o * channels + c) * k2 + i] = value
                }
            }
        }
        return Tensor(shape: [out, channels, weight.shape[2], weight.shape[3]], scalars: result)
    }
}

/// fastai's split of a vision model (`_resnet_split`): the body's stem and first two stages,
/// its last two stages, and the head.
func resnetSplit(_ model: Module) -> [[Module]] {
    guard let whole = model as? Sequential, whole.layers.count == 2, let body = whole.layers[0] as? Sequential, body.layers.count == 8 else {
        return [[model]]
    }
    return [Array(body.layers[0..<6]), Array(body.layers[6...]), [whole.layers[1]]]
}

/// fastai's `vision_learner` for image classification: the architecture's body, sized to the
/// images' channels and cut before its pooling, then `createHead` to the vocab's size, the head
/// initialised Kaiming-normal, and fastai's three parameter groups (early body, late body,
/// head). Without pretrained weights the body starts from its own initialisation.
public func visionLearner(
    _ dls: DataLoaders<(Tensor, Tensor)>, arch: Architecture, loss: @escaping LossFunction,
    opt: OptimizerFactory = .adam, metrics: [Metric] = [], cbs: [Callback] = []
) -> Learner {
    let channels = dls.oneBatch().0.shape[1]
    let classes = dls.vocab?.count ?? 0
    precondition(classes > 0, "visionLearner: the data has no vocab; build it from categories (ImageDataLoaders.fromFolder)")
    let learn = Learner(
        dls: dls, model: arch.model(inChannels: channels, classes: classes), loss: loss, opt: opt,
        metrics: metrics, cbs: cbs)
    learn.exportMetadata = exportMetadata(arch, channels).merging(imagePreparationMetadata(dls)) { $1 }
    learn.splitter = resnetSplit
    return learn
}

/// fastai's `vision_learner(dls, resnet34, pretrained=True)`: the body of torchvision's
/// network with the ImageNet weights in `pretrained` (a safetensors state dict; see
/// `Architecture.pretrainedNetwork(from:inChannels:)`), cut before its pooling, with fastai's
/// head for the vocab, frozen (only the head and the batch norms train until `unfreeze()`;
/// `fineTune` does both phases). With `normalize` (the default) and RGB images, the inputs are
/// normalised with `imagenetStats`, as the weights expect, unless the loaders already
/// normalise; `learn.dls` holds the loaders with it.
public func visionLearner(
    _ dls: DataLoaders<(Tensor, Tensor)>, arch: Architecture, pretrained: URL, normalize: Bool = true,
    loss: @escaping LossFunction, opt: OptimizerFactory = .adam, metrics: [Metric] = [],
    cbs: [Callback] = []
) throws -> Learner {
    let channels = dls.oneBatch().0.shape[1]
    guard let classes = dls.vocab?.count, classes > 0 else {
        throw LearnerError("visionLearner: the data has no vocab; build it from categories (ImageDataLoaders.fromFolder, fromNameFunc, ...)")
    }
    let body = try arch.pretrainedNetwork(from: pretrained, inChannels: channels).body
    let model = Architecture.withHead(body, features: arch.features, classes: classes)
    let data = try normalizedForPretrained(dls, channels: channels, normalize: normalize)
    let learn = Learner(dls: data, model: model, loss: loss, opt: opt, metrics: metrics, cbs: cbs)
    learn.exportMetadata = exportMetadata(arch, channels).merging(imagePreparationMetadata(data)) { $1 }
    learn.splitter = resnetSplit
    learn.freeze()
    return learn
}

/// fastai's `vision_learner(dls, arch, loss_func=None, y_range=None, n_out=None)` for any
/// target: one class (`CategoryBlock`), a set of classes (`MultiCategoryBlock`), or values
/// (`RegressionBlock`, points). The model is the architecture's body and fastai's head with
/// `nOut` outputs (by default the vocab's size, or the values per target), then
/// `SigmoidRange(yRange)` when given (fastai's `y_range`); the loss is `loss`, or the loaders'
/// target block's (`BCEWithLogitsLossFlat` for label sets, `MSELossFlat` for values), which also
/// decodes predictions. With `pretrained`, the body has torchvision's ImageNet weights (see
/// `visionLearner(_:arch:pretrained:normalize:loss:opt:metrics:cbs:)`) and starts frozen.
/// Throws when the number of outputs cannot be told or no loss is known.
public func visionLearner(
    _ dls: DataLoaders<(Tensor, Tensor)>, arch: Architecture, loss: (any BaseLoss)? = nil, pretrained: URL? = nil, normalize: Bool = true,
    yRange: ClosedRange<Float>? = nil, nOut: Int? = nil, opt: OptimizerFactory = .adam, metrics: [Metric] = [], cbs: [Callback] = []
) throws -> Learner {
    let (x, y) = dls.oneBatch()
    let channels = x.shape[1]
    if dls.targetBlock is MaskBlock {
        throw LearnerError("visionLearner: the targets are masks, which need an output per pixel: use unetLearner")
    }
    // Classes: one output each; values and points: one per number of a target.
    guard let outputs = nOut ?? dls.vocab?.count ?? (y.rank >= 2 ? y.count / max(y.shape[0], 1) : nil), outputs > 0 else {
        throw LearnerError("visionLearner: cannot tell how many outputs the model needs (the loaders have no vocab and targets \(y.shape)); pass nOut:")
    }
    guard let chosen = loss ?? dls.lossFunction else {
        throw LearnerError("visionLearner: no loss function: pass loss: (CrossEntropyLossFlat(), BCEWithLogitsLossFlat(), MSELossFlat())")
    }
    var data = dls
    let model: Sequential
    if let pretrained {
        let body = try arch.pretrainedNetwork(from: pretrained, inChannels: channels).body
        model = Architecture.withHead(body, features: arch.features, classes: outputs, yRange: yRange)
        data = try normalizedForPretrained(dls, channels: channels, normalize: normalize)
    } else {
        model = arch.model(inChannels: channels, classes: outputs, yRange: yRange)
    }
    let learn = try Learner(dls: data, model: model, loss: chosen, opt: opt, metrics: metrics, cbs: cbs)
    learn.exportMetadata = exportMetadata(arch, channels, outputs: outputs, yRange: yRange).merging(imagePreparationMetadata(data)) { $1 }
        .merging(targetMetadata(dls.targetBlock)) { $1 }
    learn.splitter = resnetSplit
    if pretrained != nil { learn.freeze() }
    return learn
}

/// `dls` with ImageNet normalisation added for a pretrained body (when `normalize`, the images
/// are RGB and the loaders do not normalise already), still `ImageLoaders` when they were.
func normalizedForPretrained(_ dls: DataLoaders<(Tensor, Tensor)>, channels: Int, normalize: Bool) throws -> DataLoaders<(Tensor, Tensor)> {
    let normalises = dls.batchTransforms.contains { $0 is Normalize }
    var data = normalize && channels == 3 && !normalises ? try dls.adding([Normalize.fromStats(imagenetStats)]) : dls
    if let images = dls as? ImageLoaders, !(data is ImageLoaders) {
        data = ImageLoaders(
            data.train, data.valid, vocab: data.vocab, batchTransforms: data.batchTransforms, itemTransforms: images.itemTransforms,
            targetBlock: data.targetBlock)
    }
    return data
}

import Autograd
import Foundation

/// What a vision learner's export records to rebuild its model: the architecture, the input
/// channels, and (when they are not the vocab's classes) the outputs and the `yRange`.
func exportMetadata(_ arch: Architecture, _ channels: Int, outputs: Int? = nil, yRange: ClosedRange<Float>? = nil) -> [String: String] {
    var metadata = ["application": "vision", "arch": arch.name, "in_channels": String(channels)]
    if let outputs { metadata["n_out"] = String(outputs) }
    if let yRange { metadata["y_range"] = "\(yRange.lowerBound),\(yRange.upperBound)" }
    return metadata
}

/// The model a `visionLearner` export describes (nil when the export is not a vision learner's),
/// checked against the tensors it holds before anything is built (so its metadata cannot ask
/// for an absurd model): the stem's weight `[64, in_channels, 7, 7]` and the head's last weight
/// `[classes, 512]` must be in the file.
public func visionModel(for export: ExportContents) throws -> Module? {
    let (file, metadata) = (export.file, export.metadata)
    guard let name = metadata["arch"] else { return nil }
    guard let arch = Architecture(name: name) else {
        throw LearnerError("\(file.path): unknown architecture '\(name)' in the export (known: \(Architecture.allCases.map(\.name).joined(separator: ", ")))")
    }
    let channels = metadata["in_channels"]
    guard let text = channels, let inChannels = Int(text), inChannels > 0 else {
        throw LearnerError("\(file.path): the export's in_channels is \(channels.map { "'\($0)'" } ?? "missing"); it must be a positive whole number")
    }
    // The outputs: `n_out` when the export records it (values, label sets), else one per class.
    let outputs: Int
    if let text = metadata["n_out"] {
        guard let n = Int(text), n > 0, n <= 1 << 20 else {
            throw LearnerError("\(file.path): the export's n_out is '\(text)'; it must be a positive whole number")
        }
        outputs = n
    } else {
        guard let vocab = export.vocab, !vocab.isEmpty else {
            throw LearnerError(
                "\(file.path): the export has \(export.vocab == nil ? "no readable vocab" : "an empty vocab"); a visionLearner export lists its classes")
        }
        outputs = vocab.count
    }
    var yRange: ClosedRange<Float>?
    if let text = metadata["y_range"] {
        let bounds = text.split(separator: ",").compactMap { Float($0) }
        guard bounds.count == 2, bounds[0].isFinite, bounds[1].isFinite, bounds[0] <= bounds[1] else {
            throw LearnerError("\(file.path): the export's y_range is '\(text)'; it must be two numbers, low,high")
        }
        yRange = bounds[0]...bounds[1]
    }
    let shapes = Set(export.tensors.values.map(\.shape))
    guard shapes.contains([64, inChannels, 7, 7]) else {
        throw LearnerError("\(file.path): the export says in_channels \(inChannels), but holds no stem weight of shape [64, \(inChannels), 7, 7]")
    }
    if metadata["model"] == "unet" {
        let size = (metadata["image_size"] ?? "").split(separator: ",").compactMap { Int($0) }
        guard size.count == 2, size.allSatisfy({ $0 > 0 && $0 <= 1 << 16 }) else {
            throw LearnerError("\(file.path): the U-Net export's image_size is '\(metadata["image_size"] ?? "")'; it must be height,width")
        }
        guard shapes.contains(where: { $0.count == 4 && $0[0] == outputs && $0[2] == 1 && $0[3] == 1 }) else {
            throw LearnerError("\(file.path): the U-Net export has \(outputs) outputs, but it holds no 1x1 head convolution of \(outputs) outputs")
        }
        do {
            return try DynamicUnet(
                encoder: arch.network(inChannels: inChannels).body, inChannels: inChannels, outChannels: outputs, size: (size[0], size[1]),
                yRange: yRange)
        } catch {
            throw LearnerError("\(file.path): the U-Net export's image_size \(size[0])x\(size[1]) does not fit its \(name) body: \(error)")
        }
    }
    guard shapes.contains([outputs, 512]) else {
        let declared = metadata["n_out"] == nil ? "vocab has \(outputs) classes" : "n_out is \(outputs)"
        throw LearnerError("\(file.path): the export's \(declared), but it holds no head weight of shape [\(outputs), 512]")
    }
    return arch.model(inChannels: inChannels, classes: outputs, yRange: yRange)
}

/// fastai's `create_head`: concat pooling, flatten, then two blocks of batch norm, dropout and
/// a bias-free linear layer (`nf·2 → 512 → classes`, dropout 0.25 then 0.5, ReLU between).
/// `features` is the body's channel count (512 for ResNet-18); with `yRange`, a `SigmoidRange`
/// follows (fastai's `y_range`).
public func createHead(
    _ features: Int, _ classes: Int, hidden: Int = 512, dropout: (Float, Float) = (0.25, 0.5), yRange: ClosedRange<Float>? = nil
) -> Sequential {
    let layers: [Module] = [
        AdaptiveConcatPool2d((1, 1)), Flatten(),
        BatchNorm1d(features * 2), Dropout(p: dropout.0), Linear(features * 2, hidden, bias: false), ReLU(),
        BatchNorm1d(hidden), Dropout(p: dropout.1), Linear(hidden, classes, bias: false),
    ]
    return Sequential(layers + (yRange.map { [SigmoidRange($0.lowerBound, $0.upperBound)] } ?? []))
}

/// fastai's `unet_learner`: a `DynamicUnet` over the architecture's body (torchvision's ImageNet
/// weights with `pretrained`, then frozen as `visionLearner` does), laid out for the loaders'
/// image size, with `nOut` scores per pixel (by default one per code of the `MaskBlock`) and
/// `SigmoidRange(yRange)` when given; the loss is `loss`, or the target block's
/// (`CrossEntropyLossFlat(axis: 1)` for masks). Parameter groups as fastai's: the body's stem
/// and first two stages, its last two stages, and the decoder. Throws when the number of
/// outputs or the loss cannot be told, or the body cannot take the images.
public func unetLearner(
    _ dls: DataLoaders<(Tensor, Tensor)>, arch: Architecture, loss: (any BaseLoss)? = nil, pretrained: URL? = nil, normalize: Bool = true,
    nOut: Int? = nil, yRange: ClosedRange<Float>? = nil, opt: OptimizerFactory = .adam, metrics: [Metric] = [], cbs: [Callback] = []
) throws -> Learner {
    let x = dls.oneBatch().0
    guard x.rank == 4 else { throw LearnerError("unetLearner: the inputs must be image batches [N, C, H, W], got \(x.shape)") }
    let channels = x.shape[1]
    guard let outputs = nOut ?? dls.vocab?.count, outputs > 0 else {
        throw LearnerError("unetLearner: cannot tell how many scores per pixel the model needs (the loaders have no codes); pass nOut:")
    }
    guard let chosen = loss ?? dls.lossFunction else {
        throw LearnerError("unetLearner: no loss function: pass loss: (CrossEntropyLossFlat(axis: 1) for masks)")
    }
    let body = try pretrained.map { try arch.pretrainedNetwork(from: $0, inChannels: channels).body } ?? arch.network(inChannels: channels).body
    let model: DynamicUnet
    do {
        model = try DynamicUnet(encoder: body, inChannels: channels, outChannels: outputs, size: (x.shape[2], x.shape[3]), yRange: yRange)
    } catch let error as LayerShapeError {
        throw LearnerError("unetLearner: the \(arch.name) body cannot take images of \(x.shape[2])x\(x.shape[3]): \(error)")
    }
    let data = pretrained == nil ? dls : try normalizedForPretrained(dls, channels: channels, normalize: normalize)
    let learn = try Learner(dls: data, model: model, loss: chosen, opt: opt, metrics: metrics, cbs: cbs)
    learn.exportMetadata = exportMetadata(arch, channels, outputs: outputs, yRange: yRange).merging([
        "model": "unet", "image_size": "\(x.shape[2]),\(x.shape[3])",
    ]) { $1 }.merging(imagePreparationMetadata(data)) { $1 }.merging(targetMetadata(dls.targetBlock)) { $1 }
    learn.splitter = { model in
        guard let unet = model as? DynamicUnet, unet.encoder.layers.count == 8 else { return [[model]] }
        let decoder = unet.children.map(\.module).filter { $0 !== unet.encoder }
        return [Array(unet.encoder.layers[0..<6]), Array(unet.encoder.layers[6...]), decoder]
    }
    if pretrained != nil { learn.freeze() }
    return learn
}
