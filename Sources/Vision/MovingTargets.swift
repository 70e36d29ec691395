import Codecs
import DataBlocks
import Foundation
import Layers
import Tensors

// Targets that are positions in their image (fastai's `PointBlock` and `MaskBlock`): every
// geometric transform that moves the image's pixels moves them too, the item transforms by the
// same `ItemGeometry` steps and the batch transforms by the same coordinate maps.

/// Points per image, in pixels (fastai's `PointBlock`, chapter 6's head centres): `getY` gives
/// `[SIMD2(x, y)]`, the same number for every image, `x` across and `y` down from the top-left
/// corner, the image spanning `0...width` by `0...height`. The model sees them scaled to -1...1
/// across the transformed image (`[N, K, 2]`, fastai's `PointScaler`), moved with it by every
/// crop, resize, flip, rotation, zoom and warp. Loss: `MSELossFlat`.
public struct PointBlock: TargetBlock {
    public init() {}

    public func makeVocab(_ trainLabels: [[SIMD2<Float>]]) -> [String]? { nil }

    /// `[n, K, 2]` points in pixels (before any transform); throws naming an item whose count of
    /// points differs from the first's, or that has a coordinate that is not a finite number.
    public func encode(_ labels: [[SIMD2<Float>]], vocab: [String]?, sources: [String]) throws -> Tensor {
        let k = labels.first?.count ?? 0
        var values: [Float] = []
        values.reserveCapacity(labels.count * k * 2)
        for (i, points) in labels.enumerated() {
            guard points.count == k else {
                throw DataError(sources[i], "\(points.count) point(s), but the first item has \(k): every image needs the same number of points")
            }
            for p in points {
                guard p.x.isFinite, p.y.isFinite else { throw DataError(sources[i], "the point (\(p.x), \(p.y)) is not a pair of finite numbers") }
                values += [p.x, p.y]
            }
        }
        return Tensor(shape: [labels.count, k, 2], scalars: values)
    }

    /// Points from a cell of numbers `x y x y ...` (split at `delimiter`, else at spaces).
    public func label(fromText text: String?, delimiter: String?, source: String) throws -> [SIMD2<Float>] {
        let numbers = try RegressionBlock().label(fromText: text, delimiter: delimiter, source: source)
        guard numbers.count % 2 == 0 else { throw DataError(source, "\(numbers.count) numbers do not make (x, y) points") }
        return stride(from: 0, to: numbers.count, by: 2).map { SIMD2(numbers[$0], numbers[$0 + 1]) }
    }

    /// The points as `(x, y)` pairs, as they are in the tensor (scaled to -1...1 in batches).
    public func describe(_ target: Tensor, vocab: [String]?) -> String {
        let v = target.scalars
        return stride(from: 0, to: v.count - 1, by: 2).map { String(format: "(%.2f, %.2f)", v[$0], v[$0 + 1]) }.joined(separator: " ")
    }

    public var loss: any BaseLoss { MSELossFlat() }
}

/// A segmentation mask per image (fastai's `MaskBlock(codes=...)`): `getY` gives the mask's
/// file, a one-channel PNG of the same size as its image whose every pixel is a class code, an
/// index into `codes`. Masks get the image's geometric transforms, sampled by nearest neighbour,
/// and never normalisation or lighting; batches hold `[N, H, W]` codes. Loss:
/// `CrossEntropyLossFlat(axis: 1)` over class scores `[N, codes, H, W]`.
public struct MaskBlock: TargetBlock {
    /// The class names, code by code (code 0 first: usually the background).
    public let codes: [String]
    public init(codes: [String]) { self.codes = codes }

    public func makeVocab(_ trainLabels: [URL]) -> [String]? { codes }

    /// The masks, undecoded by any transform, as `[n, H, W]` codes: every mask must have the
    /// first one's size (the DataBlock checks each against its image instead).
    public func encode(_ labels: [URL], vocab: [String]?, sources: [String]) throws -> Tensor {
        let masks = try labels.map { try loadMask($0, codes: codes.count) }
        guard let first = masks.first else { return Tensor.zeros([0]) }
        for (mask, file) in zip(masks, labels) where mask.width != first.width || mask.height != first.height {
            throw DataError(file.path, "the mask is \(mask.width)x\(mask.height), the first one \(first.width)x\(first.height)")
        }
        return Tensor(shape: [masks.count, first.height, first.width], scalars: masks.flatMap { $0.pixels.map(Float.init) })
    }

    public func label(fromText text: String?, delimiter: String?, source: String) throws -> URL {
        guard let text, !text.isEmpty else { throw DataError(source, "the mask's file name is missing") }
        return URL(fileURLWithPath: text)
    }

    /// The codes the mask holds, by name: `mask 56x56: background, three`.
    public func describe(_ target: Tensor, vocab: [String]?) -> String {
        let present = Set(target.scalars.map { Int($0) }).sorted().map { $0 >= 0 && $0 < codes.count ? codes[$0] : "\($0)" }
        return "mask \(target.shape.suffix(2).map(String.init).joined(separator: "x")): " + present.joined(separator: ", ")
    }

    public var loss: any BaseLoss { CrossEntropyLossFlat(axis: 1) }
}

/// A mask file decoded: one channel of codes below `codes`; throws naming the file otherwise.
func loadMask(_ file: URL, codes: Int) throws -> Image {
    let mask = try Image.decode(try readFileBytes(file), source: file.path)
    guard mask.channels == 1 else {
        throw DataError(file.path, "a mask must have one channel of class codes; this one has \(mask.channels)")
    }
    if let bad = mask.pixels.first(where: { Int($0) >= codes }) {
        throw DataError(file.path, "the mask holds code \(bad), but MaskBlock has \(codes) codes (0...\(codes - 1))")
    }
    return mask
}

/// The targets of a `DataBlock` whose targets move with the images, one per item, before any
/// transform.
enum MovingTargets: @unchecked Sendable {
    case points([[SIMD2<Float>]])
    case masks([Image])

    /// The moving targets of `labels` when `block` is a `PointBlock` or a `MaskBlock` (nil for
    /// targets that do not move): points checked (one count, finite), masks decoded on every
    /// core and checked (one channel, codes in range, each its image's size in `sizes`).
    init?<Block: TargetBlock>(_ labels: [Block.Label], block: Block, files: [URL], sizes: [(width: Int, height: Int)]) throws {
        let sources = files.map(\.path)
        if let points = labels as? [[SIMD2<Float>]], block is PointBlock {
            _ = try PointBlock().encode(points, vocab: nil, sources: sources)
            self = .points(points)
        } else if let maskFiles = labels as? [URL], let masks = block as? MaskBlock {
            let decoded = try ImageFolder.onEveryCore(maskFiles.count) { i in try loadMask(maskFiles[i], codes: masks.codes.count) }
            for (i, mask) in decoded.enumerated() where mask.width != sizes[i].width || mask.height != sizes[i].height {
                throw DataError(
                    maskFiles[i].path,
                    "the mask is \(mask.width)x\(mask.height) but its image \(files[i].lastPathComponent) is \(sizes[i].width)x\(sizes[i].height)")
            }
            self = .masks(decoded)
        } else {
            return nil
        }
    }

    var geometry: TargetGeometry {
        switch self {
        case .points: return .points
        case .masks: return .mask
        }
    }

    /// Item `item`'s target after `steps` (the item transforms' geometry of an image whose size
    /// was `source`), as the values of one batch row: points scaled to -1...1 across the final
    /// image, or the mask's codes.
    func transformed(_ item: Int, source: SIMD2<Int>, steps: [ItemGeometry], size: (width: Int, height: Int)) -> [Float] {
        switch self {
        case .points(let all):
            return all[item].flatMap { point -> [Float] in
                var p = point, current = source
                for step in steps {
                    p = step.apply(toPoint: p, sourceWidth: current.x, sourceHeight: current.y)
                    current = SIMD2(step.outWidth, step.outHeight)
                }
                return [p.x * 2 / Float(size.width) - 1, p.y * 2 / Float(size.height) - 1]
            }
        case .masks(let all):
            let mask = steps.reduce(all[item]) { $1.apply(toMask: $0) }
            return mask.pixels.map(Float.init)
        }
    }

    /// The shape of one item's target in a batch.
    func itemShape(size: (width: Int, height: Int)) -> [Int] {
        switch self {
        case .points(let all): return [all.first?.count ?? 0, 2]
        case .masks: return [size.height, size.width]
        }
    }
}

extension DataBlock {
    /// The loaders of a block whose targets move with the images (`PointBlock`, `MaskBlock`):
    /// the classification path's, with every item's targets taken through its item transforms'
    /// geometry and every batch's through the batch transforms' maps.
    func movingLoaders(
        images: ImageItems, files: [URL], split: (train: [Int], valid: [Int]), targets: MovingTargets, vocab: [String]?,
        size: (width: Int, height: Int), batchSize: Int
    ) throws -> DataLoaders<(Tensor, Tensor)> {
        if let other = itemTransforms.first(where: { !($0 is GeometricItemTransform) }) {
            throw DataError(
                "DataBlock",
                "the item transform \(type(of: other)) does not say how it moves points and masks (it is not a GeometricItemTransform); "
                    + "use Resize or RandomResizedCrop")
        }
        let itemShape = [images.channels, size.height, size.width], targetShape = targets.itemShape(size: size)
        let targetSize = targetShape.reduce(1, *)
        let itemTransforms = self.itemTransforms, batchTransforms = self.batchTransforms, geometry = targets.geometry
        /// The items at `indices`, through the item transforms (random with a seed), and their targets.
        @Sendable func items(_ indices: [Int], seed: UInt64?) -> (Tensor, Tensor) {
            let rows = TargetRows(count: indices.count * targetSize)
            let bytes = images.planes(indices, transforms: itemTransforms, size: size, seed: seed) { row, source, steps in
                rows.write(targets.transformed(indices[row], source: source, steps: steps, size: size), at: row * targetSize)
            }
            return (Tensor(pixels: bytes, shape: [indices.count] + itemShape), Tensor(shape: [indices.count] + targetShape, scalars: rows.values))
        }
        @Sendable func transformed(_ batch: (Tensor, Tensor), seed: UInt64?) -> (Tensor, Tensor) {
            let random = seed.map { RandomGenerator(seed: $0 ^ 0xB47C_4D0F_2E1A_5C39) }
            return batchTransforms.reduce(batch) { $1.apply($0.0, targets: $0.1, geometry: geometry, random: random) }
        }
        let train = try DataLoader(count: split.train.count, batchSize: batchSize, shuffle: true, dropLast: true) { positions, seed in
            transformed(items(positions.map { split.train[$0] }, seed: seed), seed: seed)
        }
        // Validation items are deterministic: taken through the item transforms once.
        let (validX, validY) = items(split.valid, seed: nil)
        let valid = try DataLoader(count: split.valid.count, batchSize: batchSize) { positions in
            transformed((validX[positions], validY[positions]), seed: nil)
        }
        return ImageLoaders(
            train, valid, vocab: vocab, batchTransforms: batchTransforms, itemTransforms: itemTransforms, targetBlock: blocks.1)
    }
}

/// A batch's target values, each row written by the worker that transforms its item.
private final class TargetRows: @unchecked Sendable {
    private(set) var values: [Float]
    private let lock = NSLock()
    init(count: Int) { values = [Float](repeating: 0, count: count) }
    func write(_ row: [Float], at offset: Int) {
        lock.withLock { values.replaceSubrange(offset..<(offset + row.count), with: row) }
    }
}
