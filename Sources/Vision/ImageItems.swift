import DataBlocks
import Codecs
import Dispatch
import Foundation
import Tensors

/// The images of a dataset, each decoded once when the loaders are made (so a bad file is an
/// error before training, naming it) and then kept decoded, or, when all of them decoded would
/// take more than `DataLimits.imageCacheBytes`, kept as their file bytes and decoded again as
/// batches are made.
final class ImageItems: @unchecked Sendable {
    let sources: [String]
    /// Each image's size and whether it has colour, from its header.
    let sizes: [(width: Int, height: Int)]
    /// The channel count every item is loaded with (1 or 3).
    let channels: Int
    private let decoded: [Image]?
    private let encoded: [[UInt8]]?

    /// Reads and decodes `files` on every core. `wanted` is the channel count asked for (nil: 3
    /// if any image has colour, else 1).
    init(_ files: [URL], wanted: Int?, source: String) throws {
        let bytes = try files.map { try Image.readFile($0) }
        let sources = files.map(\.path)
        self.sources = sources
        let headers = try zip(bytes, sources).map { try Image.header($0, source: $1) }
        sizes = headers.map { ($0.width, $0.height) }
        let channels = try Image.channels(forCounts: headers.map(\.channels), wanted: wanted, source: source)
        self.channels = channels
        let total = headers.reduce(0) { $0 + $1.width * $1.height * max($1.channels, channels) }
        if total <= DataLimits.imageCacheBytes {
            decoded = try ImageFolder.decodeAll(zip(bytes, sources).map { ($0, $1) })
            encoded = nil
        } else {
            // Decoded once to find bad files now rather than mid-training; then only the bytes are kept.
            _ = try ImageFolder.decodeAll(zip(bytes, sources).map { ($0, $1) }) { _ in () }
            decoded = nil
            encoded = bytes
        }
    }

    var count: Int { sources.count }

    /// Item `i`, decoded.
    func image(_ i: Int) -> Image {
        if let decoded { return decoded[i] }
        // These bytes decoded when the items were loaded, and decoding is deterministic.
        return (try? Image.decode(encoded?[i] ?? [], source: sources[i]))
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
    /// training split); without, transforms are deterministic (the validation split).
    func planes(_ indices: [Int], transforms: [ItemTransform], size: (width: Int, height: Int), seed: UInt64?) -> [UInt8] {
        let c = channels, itemSize = c * size.width * size.height
        var bytes = [UInt8](repeating: 0, count: indices.count * itemSize)
        bytes.withUnsafeMutableBufferPointer { out in
            let base = UnsafeSendable(out.baseAddress!)
            let work: @Sendable (Int) -> Void = { row in
                var image = self.image(indices[row])
                let random = seed.map { RandomGenerator(seed: $0 &+ UInt64(row) &* 0x9E37_79B9_7F4A_7C15) }
                for transform in transforms { image = transform.apply(image, random: random) }
                // A custom transform that does not give the size it declares is resized to it.
                if image.width != size.width || image.height != size.height { image = image.resized(width: size.width, height: size.height) }
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
