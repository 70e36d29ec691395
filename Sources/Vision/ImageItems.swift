import DataBlocks
import Codecs
import Dispatch
import Foundation
import Tensors

/// The images of a dataset. Their headers are read when the loaders are made, and each image
/// is decoded once then (so a bad file is an error before training, naming it); the decoded
/// images are kept when all of them fit in `DataLimits.imageCacheBytes`, and otherwise each is
/// read from its file and decoded again as batches are made. Memory stays bounded either way:
/// files are read one at a time per core, never all at once.
final class ImageItems: @unchecked Sendable {
    let files: [URL]
    let sources: [String]
    /// Each image's size and whether it has colour, from its header.
    let sizes: [(width: Int, height: Int)]
    /// The channel count every item is loaded with (1 or 3).
    let channels: Int
    private let decoded: [Image]?

    /// Reads the headers and decodes `files` on every core. `wanted` is the channel count asked
    /// for (nil: 3 if any image has colour, else 1).
    init(_ files: [URL], wanted: Int?, source: String) throws {
        self.files = files
        let sources = files.map(\.path)
        self.sources = sources
        let headers = try ImageFolder.onEveryCore(files.count) { i in try Image.header(ofFile: files[i]) }
        sizes = headers.map { ($0.width, $0.height) }
        let channels = try Image.channels(forCounts: headers.map(\.channels), wanted: wanted, source: source)
        self.channels = channels
        let total = headers.reduce(0) { $0 + $1.width * $1.height * max($1.channels, channels) }
        let decodeFile: @Sendable (Int) throws -> Image = { i in try Image.decode(try readFileBytes(files[i]), source: sources[i]) }
        if total <= DataLimits.imageCacheBytes {
            decoded = try ImageFolder.onEveryCore(files.count, decodeFile)
        } else {
            // Decoded once to find bad files now rather than mid-training, and dropped.
            _ = try ImageFolder.onEveryCore(files.count) { i in _ = try decodeFile(i) }
            decoded = nil
        }
    }

    var count: Int { sources.count }

    /// Item `i`, decoded.
    func image(_ i: Int) -> Image {
        if let decoded { return decoded[i] }
        // This file decoded when the items were loaded (a blank image if it has since changed).
        return (try? Image.decode(readFileBytes(files[i]), source: sources[i]))
            ?? Image(width: sizes[i].width, height: sizes[i].height, channels: 1, pixels: [UInt8](repeating: 0, count: sizes[i].width * sizes[i].height))
    }

    /// The size every item has after `transforms`; throws naming two items of different sizes
    /// and the fix.
    func commonSize(after transforms: [ItemTransform]) throws -> (width: Int, height: Int) {
        let out = sizes.map { size in transforms.reduce(size) { $1.outputSize(width: $0.width, height: $0.height) } }
        guard let first = out.first else { return (0, 0) }
        if let other = out.firstIndex(where: { $0 != first }) {
            let fix =
                transforms.isEmpty
                ? "add itemTransforms: [Resize(224)] (or another size) to resize them to one size"
                : "end the item transforms with a Resize to give every image one size"
            throw DataError(
                sources[other],
                "images differ in size: \(URL(fileURLWithPath: sources[0]).lastPathComponent) is \(first.width)x\(first.height) "
                    + "but \(URL(fileURLWithPath: sources[other]).lastPathComponent) is \(out[other].width)x\(out[other].height); \(fix)")
        }
        return first
    }

    /// Items `indices` through `transforms` as `[n, C, H, W]` byte planes, items spread over the
    /// cores. With a `seed`, each item draws its random choices from its own generator (the
    /// training split); without, transforms are deterministic (the validation split). With
    /// `steps`, every transform must be a `GeometricItemTransform` (the caller checks), and
    /// `steps(row, sourceSize, geometry)` is told each item's steps, in order, so its targets
    /// can follow (called on the worker threads, once per row).
    func planes(
        _ indices: [Int], transforms: [ItemTransform], size: (width: Int, height: Int), seed: UInt64?,
        steps: (@Sendable (Int, SIMD2<Int>, [ItemGeometry]) -> Void)? = nil
    ) -> [UInt8] {
        let c = channels, itemSize = c * size.width * size.height
        var bytes = [UInt8](repeating: 0, count: indices.count * itemSize)
        bytes.withUnsafeMutableBufferPointer { out in
            let base = UnsafeSendable(out.baseAddress!)
            let work: @Sendable (Int) -> Void = { row in
                var image = self.image(indices[row])
                let source = SIMD2(image.width, image.height)
                let random = seed.map { RandomGenerator(seed: $0 &+ UInt64(row) &* 0x9E37_79B9_7F4A_7C15) }
                var geometry: [ItemGeometry] = []
                for transform in transforms {
                    if steps != nil, let geometric = transform as? GeometricItemTransform {
                        let step = geometric.geometry(width: image.width, height: image.height, random: random)
                        image = step.apply(to: image)
                        geometry.append(step)
                    } else {
                        image = transform.apply(image, random: random)
                    }
                }
                // A custom transform that does not give the size it declares is resized to it.
                if image.width != size.width || image.height != size.height {
                    let squish = ItemGeometry(left: 0, top: 0, width: image.width, height: image.height, outWidth: size.width, outHeight: size.height)
                    image = squish.apply(to: image)
                    geometry.append(squish)
                }
                steps?(row, source, geometry)
                let planes = image.planes(channels: c).bytes
                planes.withUnsafeBufferPointer { (base.pointer + row * itemSize).update(from: $0.baseAddress!, count: itemSize) }
            }
            if transforms.isEmpty || indices.count < 4 {
                for row in indices.indices { work(row) }
            } else {
                DispatchQueue.concurrentPerform(iterations: indices.count, execute: work)
            }
        }
        return bytes
    }
}
