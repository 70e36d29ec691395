import Foundation
import Tensors

/// An 8-bit image: `height × width` pixels of `channels` bytes each (1 gray, 2 gray+alpha,
/// 3 RGB, 4 RGBA), row-major and interleaved (HWC).
public struct Image: Equatable, Sendable {
    public let width: Int, height: Int, channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition((1...4).contains(channels), "Image: channels must be 1...4, got \(channels)")
        precondition(
            pixels.count == width * height * channels,
            "Image: \(width)x\(height)x\(channels) needs \(width * height * channels) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// The image as a `[C, H, W]` tensor in 0...1. Grayscale stays one channel unless
    /// `channels: 3` asks for RGB (the gray value repeated); alpha is dropped when asking for
    /// fewer channels.
    public func tensor(channels wanted: Int? = nil) -> Tensor {
        let (planes, shape) = planeBytes(channels: wanted)
        return Tensor(pixels: planes, shape: shape)
    }

    /// The channel count a set of images is loaded with: `wanted` (1 or 3) when given,
    /// otherwise 3 if any image has colour (the gray ones repeated into RGB) and 1 if none has,
    /// so a folder of mixed gray and colour images stacks into one tensor. Throws for another
    /// `wanted`, naming `source`.
    public static func channels(for images: [Image], wanted: Int?, source: String) throws -> Int {
        try channels(forCounts: images.map(\.channels), wanted: wanted, source: source)
    }

    /// `channels(for:wanted:source:)` from the images' channel counts.
    public static func channels(forCounts counts: [Int], wanted: Int?, source: String) throws -> Int {
        if let wanted {
            guard wanted == 1 || wanted == 3 else {
                throw DataError(source, "channels must be 1 (gray) or 3 (RGB), got \(wanted)")
            }
            return wanted
        }
        return counts.contains { $0 >= 3 } ? 3 : 1
    }

    /// The image's bytes as `[C, H, W]` planes (what `tensor(channels:)` scales to 0...1).
    func planeBytes(channels wanted: Int? = nil) -> (bytes: [UInt8], shape: [Int]) {
        let colour = channels >= 3 ? 3 : 1
        let c = wanted ?? colour
        precondition(c == 1 || c == 3, "Image.tensor: channels must be 1 or 3, got \(c)")  // callers check with channels(for:)
        var planes = [UInt8](repeating: 0, count: c * width * height)
        let plane = width * height
        for p in 0..<plane {
            let base = p * channels
            if c == 1 {
                if colour == 1 {
                    planes[p] = pixels[base]
                } else {
                    // ITU-R 601 luma, as PIL's convert("L").
                    let r = Int(pixels[base]) * 299, g = Int(pixels[base + 1]) * 587, b = Int(pixels[base + 2]) * 114
                    planes[p] = UInt8((r + g + b + 500) / 1000)
                }
            } else {
                for k in 0..<3 { planes[k * plane + p] = colour == 1 ? pixels[base] : pixels[base + k] }
            }
        }
        return (planes, [c, height, width])
    }

    /// An image from a `[C, H, W]` (or `[H, W]`) tensor in 0...1; values are clamped.
    public init(tensor: Tensor) {
        let t = tensor.rank == 2 ? tensor.unsqueeze(0) : tensor
        precondition(t.rank == 3 && (1...4).contains(t.shape[0]), "Image(tensor:): expected [C, H, W] with C in 1...4, got \(tensor.shape)")
        let (c, h, w) = (t.shape[0], t.shape[1], t.shape[2])
        let planes = t.toPixels()
        var interleaved = [UInt8](repeating: 0, count: c * h * w)
        for p in 0..<(h * w) { for k in 0..<c { interleaved[p * c + k] = planes[k * h * w + p] } }
        self.init(width: w, height: h, channels: c, pixels: interleaved)
    }
}

extension Image {
    /// The file extensions `decode` reads (lower case).
    public static let decodableExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Decodes a PNG or JPEG file's bytes, recognised by their signature whatever the file is
    /// called. `source` names the file in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws -> Image {
        if JPEG.isJPEG(bytes) { return try JPEG.decode(bytes, source: source) }
        if bytes.starts(with: PNG.signature) { return try PNG.decode(bytes, source: source) }
        throw DataError(source, "not a PNG or JPEG image (unrecognised signature)")
    }

    /// `header(_:source:)` of a file, reading only its first 64 KiB when the header is there (a
    /// JPEG's frame header can follow a large EXIF block: then the whole file is read). Throws
    /// naming the file when it cannot be read or is not a PNG or JPEG image.
    public static func header(ofFile file: URL) throws -> (width: Int, height: Int, channels: Int) {
        let prefixLength = 1 << 16
        let start: [UInt8]
        do {
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            start = [UInt8](try handle.read(upToCount: prefixLength) ?? Data())
        } catch {
            throw DataError(file.path, "cannot read the file: \(error.localizedDescription)")
        }
        if start.count < prefixLength { return try header(start, source: file.path) }
        if let found = try? header(start, source: file.path) { return found }
        return try header(readFileBytes(file), source: file.path)
    }

    /// The width, height and channel count (1 gray, 3 colour; alpha left out) an image file
    /// declares, read from its header without decoding the pixels.
    public static func header(_ bytes: [UInt8], source: String) throws -> (width: Int, height: Int, channels: Int) {
        if JPEG.isJPEG(bytes) { return try JPEG.header(bytes, source: source) }
        if bytes.starts(with: PNG.signature) { return try PNG.header(bytes, source: source) }
        throw DataError(source, "not a PNG or JPEG image (unrecognised signature)")
    }

    /// Reads a PNG or JPEG file (the seeds' `Image.open(path)`); throws naming the file when it cannot.
    public static func open(_ file: URL) throws -> Image {
        try decode(readFileBytes(file), source: file.path)
    }
}

extension URL {
    /// The folder's entries, sorted (fastcore's `Path.ls()`): `path.ls()`, `(path / "training").ls()`.
    public func ls() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: self, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent.localizedStandardCompare($1.lastPathComponent) == .orderedAscending }
    }
}
