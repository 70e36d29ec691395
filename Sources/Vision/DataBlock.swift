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
        count = targets.shape.first ?? 0
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

/// fastai's `DataBlock` for images: where the items are (`getItems`, or a table's rows), which
/// are for validation (`splitter`), where each item's image is (`getX`) and what its target is
/// (`getY`, of the target block's `Label`), what happens to each image (`itemTransforms`, e.g.
/// `Resize(224)`) and to each batch (`batchTransforms`, e.g. `augTransforms()` and `Normalize`).
///
/// `Item` is `URL` for files found below a folder, `DataFrame.Row` for a table's rows; `Target`
/// is `CategoryBlock` (one class), `MultiCategoryBlock` (a set of classes) or `RegressionBlock`.
public struct DataBlock<Item, Target: TargetBlock> {
    public let blocks: (ImageBlock, Target)
    /// Lists the items below the source folder; nil for a block over a table's rows.
    public let getItems: ((URL) throws -> [Item])?
    public let splitter: Splitter
    /// The image file of an item.
    public let getX: (Item) throws -> URL
    /// The target of an item.
    public let getY: (Item) throws -> Target.Label
    public let itemTransforms: [ItemTransform]
    public let batchTransforms: [BatchTransform]

    /// A block over any items: every part given.
    public init(
        blocks: (ImageBlock, Target), getItems: ((URL) throws -> [Item])?, splitter: Splitter, getX: @escaping (Item) throws -> URL,
        getY: @escaping (Item) throws -> Target.Label, itemTransforms: [ItemTransform] = [], batchTransforms: [BatchTransform] = []
    ) {
        self.blocks = blocks
        self.getItems = getItems
        self.splitter = splitter
        self.getX = getX
        self.getY = getY
        self.itemTransforms = itemTransforms
        self.batchTransforms = batchTransforms
    }
}

extension DataBlock where Item == URL {
    /// Image files below a folder, each its own item.
    ///
    /// - Parameters:
    ///   - blocks: the input and target blocks: `(ImageBlock(), CategoryBlock())`.
    ///   - getItems: lists the items below the source folder (`getImageFiles`).
    ///   - splitter: picks the validation items (`RandomSplitter`, `GrandparentSplitter`, `FuncSplitter`, `IndexSplitter`).
    ///   - getY: an item's target (`parentLabel`, a `RegexLabeller`, any function; a thrown error names the item).
    ///   - itemTransforms: per image, before batching; every image must come out one size (`Resize`, `RandomResizedCrop`).
    ///   - batchTransforms: per batch `[N, C, H, W]` (`augTransforms()`, `Normalize.fromStats(imagenetStats)`).
    public init(
        blocks: (ImageBlock, Target), getItems: @escaping (URL) throws -> [URL] = getImageFiles, splitter: Splitter = RandomSplitter(),
        getY: @escaping (URL) throws -> Target.Label, itemTransforms: [ItemTransform] = [], batchTransforms: [BatchTransform] = []
    ) {
        self.init(
            blocks: blocks, getItems: getItems, splitter: splitter, getX: { $0 }, getY: getY, itemTransforms: itemTransforms,
            batchTransforms: batchTransforms)
    }

    /// Training and validation loaders over the items below `source` (see `dataLoaders(items:source:batchSize:)`).
    public func dataLoaders(_ source: URL, batchSize: Int = 64) throws -> DataLoaders<(Tensor, Tensor)> {
        guard batchSize > 0 else { throw DataError(source.path, "batchSize must be positive, got \(batchSize)") }
        _ = try Image.channels(forCounts: [], wanted: blocks.0.channels, source: source.path)
        let items = try (getItems ?? { _ in [] })(source)
        return try dataLoaders(items: items, source: source.path, batchSize: batchSize)
    }
}

extension DataBlock where Item == URL, Target == CategoryBlock {
    /// Image files labelled by their parent folder unless `getY` says otherwise: the block of
    /// `ImageDataLoaders.fromFolder`.
    public init(
        blocks: (ImageBlock, CategoryBlock), getItems: @escaping (URL) throws -> [URL] = getImageFiles, splitter: Splitter = RandomSplitter(),
        itemTransforms: [ItemTransform] = [], batchTransforms: [BatchTransform] = []
    ) {
        self.init(
            blocks: blocks, getItems: getItems, splitter: splitter, getY: parentLabel, itemTransforms: itemTransforms,
            batchTransforms: batchTransforms)
    }
}

extension DataBlock where Item == DataFrame.Row {
    /// The rows of a table (fastai's `DataBlock(get_x=ColReader(...), get_y=ColReader(...))`
    /// with `dblock.dataloaders(df)`): `getX` reads an image's path (relative paths are from
    /// the current folder), `getY` its target, read by the target block from the cell's text
    /// (split at the reader's `labelDelimiter` for a `MultiCategoryBlock`).
    ///
    ///     DataBlock(blocks: (ImageBlock(), MultiCategoryBlock()), splitter: ColSplitter("is_valid"),
    ///               getX: ColReader("fname", prefix: folder.path + "/"), getY: ColReader("labels", labelDelimiter: " "))
    public init(
        blocks: (ImageBlock, Target), splitter: Splitter = RandomSplitter(), getX: ColReader, getY: ColReader,
        itemTransforms: [ItemTransform] = [], batchTransforms: [BatchTransform] = []
    ) {
        let target = blocks.1
        self.init(
            blocks: blocks, getItems: nil, splitter: splitter, getX: { URL(fileURLWithPath: try getX($0)) },
            getY: { row in try target.label(fromText: try getY.text(row), delimiter: getY.labelDelimiter, source: "row \(row.index)") },
            itemTransforms: itemTransforms, batchTransforms: batchTransforms)
    }

    /// Training and validation loaders over the rows of `table` (see `dataLoaders(items:source:batchSize:)`).
    public func dataLoaders(_ table: DataFrame, batchSize: Int = 64) throws -> DataLoaders<(Tensor, Tensor)> {
        guard batchSize > 0 else { throw DataError("DataBlock", "batchSize must be positive, got \(batchSize)") }
        return try dataLoaders(items: table.rowItems, source: "DataFrame", batchSize: batchSize)
    }
}

extension DataBlock {
    /// Training and validation loaders over `items`. Every image is decoded once on every core
    /// first, so a bad file, a label outside the vocab, or images that do not come out one size
    /// are errors now, not mid-training. Validation items get the item transforms once
    /// (deterministic there); training items get them afresh in every batch when there are any
    /// (random crops differ each epoch). The training loader shuffles and drops its last partial
    /// batch; the validation loader does neither. Batch transforms run as each batch is made,
    /// their random choices seeded by the loader.
    public func dataLoaders(items: [Item], source: String, batchSize: Int) throws -> DataLoaders<(Tensor, Tensor)> {
        guard batchSize > 0 else { throw DataError(source, "batchSize must be positive, got \(batchSize)") }
        guard !items.isEmpty else { throw DataError(source, "no items found (getItems returned none)") }
        let (trainIndex, validIndex) = try splitter.split(items)
        let files = try items.map(getX)
        let labels = try items.map(getY)
        let target = blocks.1
        let vocab = target.makeVocab(trainIndex.map { labels[$0] })
        if target is PointBlock || target is MaskBlock {
            let images = try ImageItems(files, wanted: blocks.0.channels, source: source)
            for transform in batchTransforms { try transform.check(channels: images.channels) }
            let size = try images.commonSize(after: itemTransforms)
            guard let moving = try MovingTargets(labels, block: target, files: files, sizes: images.sizes) else {
                throw DataError(source, "\(Target.self)'s labels are not of the type it takes")
            }
            return try movingLoaders(
                images: images, files: files, split: (trainIndex, validIndex), targets: moving, vocab: vocab, size: size, batchSize: batchSize)
        }
        func targets(_ positions: [Int]) throws -> Tensor {
            try target.encode(positions.map { labels[$0] }, vocab: vocab, sources: positions.map { files[$0].path })
        }
        let trainTargets = try targets(trainIndex), validTargets = try targets(validIndex)
        let images = try ImageItems(files, wanted: blocks.0.channels, source: source)
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
            trainLoader, validLoader, vocab: vocab, batchTransforms: batchTransforms, itemTransforms: itemTransforms, targetBlock: target)
    }

    /// Walks one item and one batch through every step and reports each, saying where it fails
    /// (fastai's `DataBlock.summary`). Returns the report; it is also printed.
    @discardableResult
    public func summary(items listed: () throws -> [Item], source: String, makeLoaders: (Int) throws -> DataLoaders<(Tensor, Tensor)>, batchSize: Int) -> String
    {
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
        var items: [Item] = [], split: (train: [Int], valid: [Int]) = ([], [])
        var decoded = Image(width: 0, height: 0, channels: 1, pixels: []), file = URL(fileURLWithPath: "/")
        var label: Target.Label?
        let blockName = String(describing: Target.self)
        _ =
            step("Collecting items from \(source)") {
                items = try listed()
                guard !items.isEmpty else { throw DataError(source, "no items found") }
                return "found \(items.count) items"
            }
            && step("Splitting") {
                split = try splitter.split(items)
                guard !split.train.isEmpty else { throw DataError(source, "the training split is empty") }
                return "\(split.train.count) training and \(split.valid.count) validation items"
            }
            && step("Getting the image (getX) of the first training item") {
                file = try getX(items[split.train[0]])
                return file.path
            }
            && step("Getting the target (getY) of the first training item") {
                label = try getY(items[split.train[0]])
                return "'\(label.map { "\($0)" } ?? "")'"
            }
            && step("ImageBlock: decoding \(file.lastPathComponent)") {
                decoded = try Image.open(file)
                return "\(decoded.width)x\(decoded.height) image, \(decoded.channels) channel(s)"
            }
            && step("\(blockName): encoding '\(label.map { "\($0)" } ?? "")'") {
                let trainLabels = try split.train.map { try getY(items[$0]) }
                let vocab = blocks.1.makeVocab(trainLabels)
                let encoded = try blocks.1.encode([label!], vocab: vocab, sources: [file.path])
                return "\(encoded.shape == [1] ? "class \(Int(encoded.scalars[0]))" : "\(encoded.scalars)")"
                    + (vocab.map { " of vocab \($0)" } ?? "")
            }
            && step("Item transforms (\(itemTransforms.count)), then ToTensor") {
                for transform in itemTransforms { decoded = transform.apply(decoded, random: nil) }
                let tensor = decoded.tensor(channels: try Image.channels(for: [decoded], wanted: blocks.0.channels, source: file.path))
                return "tensor of shape \(tensor.shape)"
            }
            && step("Collating a batch of \(batchSize)") {
                let dls = try makeLoaders(batchSize)
                let (x, y) = dls.oneBatch()
                return "inputs \(x.shape), targets \(y.shape) (batch transforms applied: \(batchTransforms.count))"
            }
        let report = lines.joined(separator: "\n")
        print(report)
        return report
    }
}

extension DataBlock where Item == URL {
    /// `summary` of the items below `source`.
    @discardableResult
    public func summary(_ source: URL, batchSize: Int = 4) -> String {
        summary(
            items: { try (getItems ?? { _ in [] })(source) }, source: source.path, makeLoaders: { try dataLoaders(source, batchSize: $0) }, batchSize: batchSize
        )
    }
}

extension DataBlock where Item == DataFrame.Row {
    /// `summary` of the rows of `table`.
    @discardableResult
    public func summary(_ table: DataFrame, batchSize: Int = 4) -> String {
        summary(items: { table.rowItems }, source: "DataFrame", makeLoaders: { try dataLoaders(table, batchSize: $0) }, batchSize: batchSize)
    }
}
