import DataBlocks
import Codecs
import Foundation
import Tensors

// fastai's data block API for image classification: where the items are, how to split them,
// how to label them, and what to do to each item and each batch.
//
//     let block = DataBlock(blocks: (ImageBlock(), CategoryBlock()), getItems: getImageFiles,
//                           splitter: GrandparentSplitter(train: "training", valid: "testing"),
//                           getY: parentLabel)
//     let dls = try block.dataLoaders(path, batchSize: 64)

/// Images: a PNG or JPEG file becomes a `[C, H, W]` tensor in 0...1 after the item transforms
/// (grayscale stays one channel unless `channels: 3`; a mix of gray and colour loads as RGB).
public struct ImageBlock {
    public let channels: Int?
    public init(channels: Int? = nil) { self.channels = channels }
}

/// Images held as `[C, H, W]` byte planes, one after another, with their targets: batches are
/// gathered and scaled to 0...1 as they are made.
struct ByteImages: Sendable {
    let bytes: [UInt8]
    let itemShape: [Int]
    let targets: Tensor
    let count: Int

    init(_ bytes: [UInt8], itemShape: [Int], targets: Tensor) {
        self.bytes = bytes
        self.itemShape = itemShape
        self.targets = targets
        count = targets.count
    }

    /// The items at `positions` as a `[n, C, H, W]` tensor in 0...1.
    func batch(_ positions: [Int]) -> Tensor {
        let size = itemShape.reduce(1, *)
        var gathered = [UInt8](repeating: 0, count: positions.count * size)
        if size > 0 {
            gathered.withUnsafeMutableBufferPointer { out in
                bytes.withUnsafeBufferPointer { all in
                    for (row, i) in positions.enumerated() {
                        out.baseAddress!.advanced(by: row * size).update(from: all.baseAddress!.advanced(by: i * size), count: size)
                    }
                }
            }
        }
        return Tensor(pixels: gathered, shape: [positions.count] + itemShape)
    }
}

/// fastai's `DataBlock` for image classification: where the items are (`getItems`), which are
/// for validation (`splitter`), how each is labelled (`getY`), what happens to each image
/// (`itemTransforms`, e.g. `Resize(224)`) and to each batch (`batchTransforms`, e.g.
/// `augTransforms()` and `Normalize`).
public struct DataBlock {
    public let blocks: (ImageBlock, CategoryBlock)
    public let getItems: (URL) throws -> [URL]
    public let splitter: Splitter
    public let getY: (URL) throws -> String
    public let itemTransforms: [ItemTransform]
    public let batchTransforms: [BatchTransform]

    /// - Parameters:
    ///   - blocks: the input and target blocks: `(ImageBlock(), CategoryBlock())`.
    ///   - getItems: lists the items below the source folder (`getImageFiles`).
    ///   - splitter: picks the validation items (`RandomSplitter`, `GrandparentSplitter`, `FuncSplitter`, `IndexSplitter`).
    ///   - getY: an item's label (`parentLabel`, a `RegexLabeller`, any function; a thrown error names the item).
    ///   - itemTransforms: per image, before batching; every image must come out one size (`Resize`, `RandomResizedCrop`).
    ///   - batchTransforms: per batch `[N, C, H, W]` (`augTransforms()`, `Normalize.fromStats(imagenetStats)`).
    public init(
        blocks: (ImageBlock, CategoryBlock), getItems: @escaping (URL) throws -> [URL] = getImageFiles,
        splitter: Splitter = RandomSplitter(), getY: @escaping (URL) throws -> String = parentLabel,
        itemTransforms: [ItemTransform] = [], batchTransforms: [BatchTransform] = []
    ) {
        self.blocks = blocks
        self.getItems = getItems
        self.splitter = splitter
        self.getY = getY
        self.itemTransforms = itemTransforms
        self.batchTransforms = batchTransforms
    }

    /// Training and validation loaders over the items below `source`. Every image is decoded
    /// once on every core first, so a bad file, a label outside the vocab, or images that do not
    /// come out one size are errors now, not mid-training. Validation items get the item
    /// transforms once (deterministic there); training items get them afresh in every batch
    /// when there are any (random crops differ each epoch). The training loader shuffles and
    /// drops its last partial batch; the validation loader does neither. Batch transforms run as
    /// each batch is made, their random choices seeded by the loader.
    public func dataLoaders(_ source: URL, batchSize: Int = 64) throws -> DataLoaders<(Tensor, Tensor)> {
        guard batchSize > 0 else { throw DataError(source.path, "batchSize must be positive, got \(batchSize)") }
        _ = try Image.channels(forCounts: [], wanted: blocks.0.channels, source: source.path)
        let items = try getItems(source)
        guard !items.isEmpty else { throw DataError(source.path, "no items found (getItems returned none)") }
        let (trainIndex, validIndex) = try splitter.split(items)
        let labels = try items.map(getY)
        let categories = Categories(blocks.1.vocab ?? Set(trainIndex.map { labels[$0] }).sorted())
        func targets(_ positions: [Int]) throws -> Tensor {
            Tensor(try positions.map { Float(try categories.encode(labels[$0], source: items[$0].path)) })
        }
        let trainTargets = try targets(trainIndex), validTargets = try targets(validIndex)
        let images = try ImageItems(items, wanted: blocks.0.channels, source: source.path)
        for transform in batchTransforms { try transform.check(channels: images.channels) }
        let size = try images.commonSize(after: itemTransforms)
        let itemShape = [images.channels, size.height, size.width]
        let batchTransforms = self.batchTransforms, itemTransforms = self.itemTransforms
        @Sendable func transformed(_ x: Tensor, seed: UInt64?) -> Tensor {
            let random = seed.map { RandomGenerator(seed: $0 ^ 0xB47C_4D0F_2E1A_5C39) }
            return batchTransforms.reduce(x) { $1.apply($0, random: random) }
        }
        // The training loader is made first: each loader's generator is drawn from the global one
        // as it is made, and this order gives the shuffles a seed has always given.
        let trainLoader: DataLoader<(Tensor, Tensor)>
        if !itemTransforms.isEmpty {
            trainLoader = try DataLoader(count: trainIndex.count, batchSize: batchSize, shuffle: true, dropLast: true) { positions, seed in
                let bytes = images.planes(positions.map { trainIndex[$0] }, transforms: itemTransforms, size: size, seed: seed)
                return (transformed(Tensor(pixels: bytes, shape: [positions.count] + itemShape), seed: seed), trainTargets[positions])
            }
        } else {
            // Without item transforms the images stay bytes (a quarter of the memory of floats),
            // scaled to 0...1 as each batch is made.
            let train = ByteImages(images.planes(trainIndex, transforms: [], size: size, seed: nil), itemShape: itemShape, targets: trainTargets)
            if batchTransforms.isEmpty {
                trainLoader = try DataLoader(count: train.count, batchSize: batchSize, shuffle: true, dropLast: true) { positions in
                    (train.batch(positions), train.targets[positions])
                }
            } else {
                trainLoader = try DataLoader(count: train.count, batchSize: batchSize, shuffle: true, dropLast: true) { positions, seed in
                    (transformed(train.batch(positions), seed: seed), train.targets[positions])
                }
            }
        }
        let valid = ByteImages(images.planes(validIndex, transforms: itemTransforms, size: size, seed: nil), itemShape: itemShape, targets: validTargets)
        let validLoader = try DataLoader(count: valid.count, batchSize: batchSize) { positions in
            (transformed(valid.batch(positions), seed: nil), valid.targets[positions])
        }
        return ImageLoaders(
            trainLoader, validLoader, vocab: categories.vocab, batchTransforms: batchTransforms, itemTransforms: itemTransforms)
    }

    /// Walks one item and one batch through every step and reports each, saying where it fails
    /// (fastai's `DataBlock.summary`). Returns the report; it is also printed.
    @discardableResult
    public func summary(_ source: URL, batchSize: Int = 4) -> String {
        var lines: [String] = []
        func step(_ name: String, _ body: () throws -> String) -> Bool {
            do {
                lines.append("\(name): \(try body())")
                return true
            } catch {
                lines.append("\(name): FAILED: \(error)")
                return false
            }
        }
        var items: [URL] = [], split: (train: [Int], valid: [Int]) = ([], [])
        var decoded = Image(width: 0, height: 0, channels: 1, pixels: []), label = ""
        _ =
            step("Collecting items from \(source.path)") {
                items = try getItems(source)
                guard let first = items.first else { throw DataError(source.path, "no items found") }
                return "found \(items.count) items; first: \(first.path)"
            }
            && step("Splitting") {
                split = try splitter.split(items)
                return "\(split.train.count) training and \(split.valid.count) validation items"
            }
            && step("Getting the label (getY) of the first training item") {
                label = try getY(items[split.train[0]])
                return "'\(label)'"
            }
            && step("ImageBlock: decoding \(items[split.train[0]].lastPathComponent)") {
                decoded = try Image.open(items[split.train[0]])
                return "\(decoded.width)x\(decoded.height) image, \(decoded.channels) channel(s)"
            }
            && step("CategoryBlock: encoding '\(label)'") {
                let trainLabels = try split.train.map { try getY(items[$0]) }
                let vocab = Categories(blocks.1.vocab ?? Set(trainLabels).sorted())
                return "class \(try vocab.encode(label, source: items[split.train[0]].path)) of vocab \(vocab.vocab)"
            }
            && step("Item transforms (\(itemTransforms.count)), then ToTensor") {
                for transform in itemTransforms { decoded = transform.apply(decoded, random: nil) }
                let tensor = decoded.tensor(channels: try Image.channels(for: [decoded], wanted: blocks.0.channels, source: items[split.train[0]].path))
                return "tensor of shape \(tensor.shape)"
            }
            && step("Collating a batch of \(batchSize)") {
                let dls = try self.dataLoaders(source, batchSize: batchSize)
                let (x, y) = dls.oneBatch()
                return "inputs \(x.shape), targets \(y.shape) (batch transforms applied: \(batchTransforms.count))"
            }
        let report = lines.joined(separator: "\n")
        print(report)
        return report
    }
}
