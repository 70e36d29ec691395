import Autograd
import Codecs
import DataBlocks
import Foundation
import Layers
import Tensors
import Training

/// Image loaders that remember their item transforms (what `DataBlock` and `ImageDataLoaders` make),
/// so that an export can say how to prepare a new photo as the validation images were prepared.
public final class ImageLoaders: DataLoaders<(Tensor, Tensor)> {
    /// The item transforms every image went through (in validation: their deterministic form).
    public let itemTransforms: [ItemTransform]

    /// Loaders with the item transforms they applied.
    public init(
        _ train: DataLoader<(Tensor, Tensor)>, _ valid: DataLoader<(Tensor, Tensor)>, vocab: [String]?, batchTransforms: [BatchTransform],
        itemTransforms: [ItemTransform], targetBlock: (any TargetBlock)? = nil
    ) {
        self.itemTransforms = itemTransforms
        super.init(train, valid, vocab: vocab, batchTransforms: batchTransforms, targetBlock: targetBlock)
    }
}

/// An item transform as an export records it, to be made again when the export is loaded.
public struct ItemTransformRecord: Codable, Equatable, Sendable {
    /// `resize`, `randomResizedCrop` or `toTensor`.
    public let kind: String
    public var width = 0, height = 0
    /// `Resize`'s method (`crop`, `pad`, `squish`) and pad mode (`reflection`, `zeros`, `border`).
    public var method: String? = nil, padMode: String? = nil
    /// `RandomResizedCrop`'s parameters.
    public var minScale: Double? = nil, ratio: [Double]? = nil, valExtra: Double? = nil

    /// The transform this record describes; nil for a kind this version does not know.
    public func transform() -> ItemTransform? {
        switch kind {
        case "resize":
            let methods: [String: ResizeMethod] = ["crop": .crop, "pad": .pad, "squish": .squish]
            let pads: [String: PadMode] = ["reflection": .reflection, "zeros": .zeros, "border": .border]
            guard let m = methods[method ?? "crop"], let p = pads[padMode ?? "reflection"] else { return nil }
            return Resize(height: height, width: width, method: m, padMode: p)
        case "randomResizedCrop":
            let r = ratio ?? [3.0 / 4, 4.0 / 3]
            guard r.count == 2 else { return nil }
            return RandomResizedCrop(height: height, width: width, minScale: minScale ?? 0.08, ratio: (r[0], r[1]), valExtra: valExtra ?? 0.14)
        case "toTensor":
            return ToTensor()
        default:
            return nil
        }
    }
}

extension Resize {
    /// How an export records this transform.
    public var record: ItemTransformRecord {
        let method = [ResizeMethod.crop: "crop", .pad: "pad", .squish: "squish"][self.method]!
        let pad = [PadMode.reflection: "reflection", .zeros: "zeros", .border: "border"][padMode]!
        return ItemTransformRecord(kind: "resize", width: width, height: height, method: method, padMode: pad)
    }
}

/// How an image becomes a model input, as the validation images became one: the item transforms
/// (deterministic), the size and channels the model was trained on, the normalisation. What a
/// vision export records, and what `predict(images:)` and the `fastswift` tool apply.
public struct ImagePreparation: Codable, Equatable, Sendable {
    /// The item transforms, in order.
    public let itemTransforms: [ItemTransformRecord]
    /// The training images' channels (1 or 3) and size after the item transforms.
    public let channels: Int, height: Int, width: Int
    /// Per-channel normalisation (`Normalize`), when the loaders applied it.
    public let mean: [Float]?, std: [Float]?

    /// The export metadata key.
    static let key = "image_preparation"

    /// The preparation of `dls`'s validation images, or nil when an item transform cannot be
    /// recorded (your own transform: new photos then cannot be prepared from the export alone).
    public init?(_ dls: DataLoaders<(Tensor, Tensor)>) {
        var records: [ItemTransformRecord] = []
        for transform in (dls as? ImageLoaders)?.itemTransforms ?? [] {
            if let resize = transform as? Resize {
                records.append(resize.record)
            } else if let crop = transform as? RandomResizedCrop {
                records.append(
                    ItemTransformRecord(
                        kind: "randomResizedCrop", width: crop.width, height: crop.height, minScale: crop.minScale,
                        ratio: [crop.ratio.0, crop.ratio.1], valExtra: crop.valExtra))
            } else if transform is ToTensor {
                records.append(ItemTransformRecord(kind: "toTensor"))
            } else {
                return nil
            }
        }
        let shape = dls.valid.itemCount > 0 ? dls.valid.oneBatch().0.shape : dls.train.oneBatch().0.shape
        guard shape.count == 4 else { return nil }
        itemTransforms = records
        (channels, height, width) = (shape[1], shape[2], shape[3])
        let normalize = dls.batchTransforms.compactMap { $0 as? Normalize }.last
        mean = normalize?.mean
        std = normalize?.std
    }

    /// `images` as the model's input `[N, channels, height, width]`: each through the item
    /// transforms, resized (squished) to the training size if it still differs, converted to the
    /// training channels, then normalised. Throws for a record this version cannot make again.
    public func inputs(_ images: [Image]) throws -> Tensor {
        let transforms = try itemTransforms.map { record -> ItemTransform in
            guard let t = record.transform() else { throw LearnerError("the export's item transform '\(record.kind)' is not one FastSwift can make") }
            return t
        }
        let items = images.map { image -> Tensor in
            var prepared = transforms.reduce(image) { $1.apply($0, random: nil) }
            if prepared.width != width || prepared.height != height { prepared = prepared.resized(width: width, height: height) }
            return prepared.tensor(channels: channels)
        }
        var batch = Tensor.stack(items)
        if let mean, let std { batch = Normalize(mean: mean, std: std).apply(batch, random: nil) }
        return batch
    }
}

/// What a model predicts for one image: the decoded target as text, the most likely class and
/// its index, the predicted set of labels, and every output with its probability.
/// - One class per image: `label` is the most likely class and `labels` is `[label]`.
/// - Several labels (`BCEWithLogitsLossFlat`): `labels` are the classes over the threshold, in
///   vocab order, and `label` is them joined by ";" (empty when none is).
/// - Values (`MSELossFlat`, `L1LossFlat`): `label` lists them; `labels` is empty and
///   `probabilities` holds the values by output index, in order.
/// - Points (`PointBlock`): `points` in pixels of the prepared image (after the item
///   transforms), `label` lists them.
/// - A mask (`MaskBlock`): `mask` holds the code of every pixel `[H, W]`; `labels` are the codes
///   present, `probabilities` each code's share of the pixels, most first, and `index` the code
///   of the most pixels.
public struct ImagePrediction: Sendable, Equatable {
    public let label: String
    public let index: Int
    /// The predicted labels (see above).
    public let labels: [String]
    /// `(label, probability)` for every class, most likely first (for values: each output, in order).
    public let probabilities: [(label: String, probability: Float)]
    /// For a key-point model: the points `(x, y)` in pixels.
    public var points: [SIMD2<Float>] = []
    /// For a segmentation model: the code of every pixel, `[H, W]`.
    public var mask: Tensor? = nil

    public static func == (a: ImagePrediction, b: ImagePrediction) -> Bool {
        a.label == b.label && a.index == b.index && a.labels == b.labels && a.probabilities.map(\.label) == b.probabilities.map(\.label)
            && a.probabilities.map(\.probability) == b.probabilities.map(\.probability) && a.points == b.points
            && a.mask?.shape == b.mask?.shape && a.mask?.scalars == b.mask?.scalars
    }
}

/// The export metadata entry that says what a vision model's targets are, when they are points
/// or masks (whose predictions `classify` decodes into pixels).
func targetMetadata(_ block: (any TargetBlock)?) -> [String: String] {
    switch block {
    case is PointBlock: return ["target": "points"]
    case is MaskBlock: return ["target": "mask"]
    default: return [:]
    }
}

/// The predictions of `model` (in eval mode, without gradients: its inference plan) for the
/// prepared `inputs`, one per row, with `vocab`'s labels, decoded by `decoding` (softmax and
/// the most likely class when nil) as targets of the kind `target` names (`"points"`, `"mask"`).
func classify(_ model: Module, _ inputs: Tensor, vocab: [String]?, decoding: (any BaseLoss)?, target: String? = nil) -> [ImagePrediction] {
    let wasTraining = model.isTraining
    model.eval()
    defer { if wasTraining { model.train() } }
    let outputs = noGrad { model(inputs) }
    let probabilities = decoding?.activation(outputs) ?? outputs.softmax(dim: -1)
    func label(_ i: Int) -> String { className(i, vocab) }
    if target == "mask" || probabilities.rank == 4 {
        let masks = probabilities.argmax(dim: 1)
        return (0..<masks.shape[0]).map { row in
            let mask = masks[row]
            var counts: [Int: Int] = [:]
            for code in mask.scalars { counts[Int(code), default: 0] += 1 }
            let ranked = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            let order = ranked.map(\.key)
            let share = ranked.map { (label($0.key), Float($0.value) / Float(mask.count)) }
            var prediction = ImagePrediction(
                label: counts.keys.sorted().map(label).joined(separator: ";"), index: order.first ?? 0, labels: counts.keys.sorted().map(label),
                probabilities: share)
            prediction.mask = mask
            return prediction
        }
    }
    let classes = probabilities.count / max(probabilities.shape[0], 1), values = probabilities.scalars
    return (0..<probabilities.shape[0]).map { row in
        let p = Array(values[(row * classes)..<((row + 1) * classes)])
        let order = p.indices.sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
        if target == "points" {
            let (h, w) = (Float(inputs.shape[2]), Float(inputs.shape[3]))
            let points = stride(from: 0, to: p.count - 1, by: 2).map { SIMD2((p[$0] + 1) / 2 * w, (p[$0 + 1] + 1) / 2 * h) }
            var prediction = ImagePrediction(
                label: points.map { String(format: "(%.1f, %.1f)", $0.x, $0.y) }.joined(separator: " "), index: order[0], labels: [],
                probabilities: p.indices.map { ("\($0)", p[$0]) })
            prediction.points = points
            return prediction
        }
        switch decoding {
        case let multi as BCEWithLogitsLossFlat:
            let labels = p.indices.filter { p[$0] > multi.threshold }.map(label)
            return ImagePrediction(
                label: labels.joined(separator: ";"), index: order[0], labels: labels, probabilities: order.map { (label($0), p[$0]) })
        case is MSELossFlat, is L1LossFlat:
            return ImagePrediction(
                label: RegressionBlock().describe(Tensor(p), vocab: nil), index: order[0], labels: [],
                probabilities: p.indices.map { ("\($0)", p[$0]) })
        default:
            return ImagePrediction(label: label(order[0]), index: order[0], labels: [label(order[0])], probabilities: order.map { (label($0), p[$0]) })
        }
    }
}

extension InferenceLearner {
    /// How this export prepares an image (nil when it is not a vision export that records it).
    public var imagePreparation: ImagePreparation? {
        metadata[ImagePreparation.key].flatMap { try? JSONDecoder().decode(ImagePreparation.self, from: Data($0.utf8)) }
    }

    /// The predictions for inputs already prepared (`imagePreparation.inputs(_:)`), one per row.
    public func predictions(for inputs: Tensor) -> [ImagePrediction] {
        classify(model, inputs, vocab: vocab, decoding: outputDecoding, target: metadata["target"])
    }

    /// The class of each image (decoded `Image`s), prepared as the export's validation images
    /// were, in one batch through the model (fastai's `learn.predict` for several items).
    public func predict(images: [Image]) throws -> [ImagePrediction] {
        guard let preparation = imagePreparation else {
            throw LearnerError("this export does not say how its images were prepared (not a visionLearner export, or one with a custom item transform)")
        }
        guard !images.isEmpty else { return [] }
        return classify(model, try preparation.inputs(images), vocab: vocab, decoding: outputDecoding, target: metadata["target"])
    }

    /// The class of each image file (PNG or JPEG), as `predict(images:)`; throws naming a file
    /// that cannot be read or decoded.
    public func predict(files: [URL]) throws -> [ImagePrediction] {
        try predict(images: files.map { try Image.open($0) })
    }
}

extension Learner {
    /// The class of each image file, prepared as the validation images are (for a
    /// `visionLearner`): what the export will predict for them.
    public func predict(files: [URL]) throws -> [ImagePrediction] {
        guard let text = exportMetadata[ImagePreparation.key],
            let preparation = try? JSONDecoder().decode(ImagePreparation.self, from: Data(text.utf8))
        else { throw LearnerError("predict(files:): this learner does not record how its images are prepared (a visionLearner does)") }
        let images = try files.map { try Image.open($0) }
        guard !images.isEmpty else { return [] }
        let inputs = try preparation.inputs(images)
        return exclusively { classify(model, inputs, vocab: dls.vocab, decoding: outputDecoding, target: exportMetadata["target"]) }
    }
}

/// The export metadata entry of `dls`'s image preparation (none when it cannot be recorded).
func imagePreparationMetadata(_ dls: DataLoaders<(Tensor, Tensor)>) -> [String: String] {
    guard let preparation = ImagePreparation(dls), let data = try? JSONEncoder().encode(preparation) else { return [:] }
    return [ImagePreparation.key: String(decoding: data, as: UTF8.self)]
}
