import DataBlocks
import Codecs
import Foundation
import Tensors

/// A transform of one decoded image before it becomes a tensor (fastai's `item_tfms`), run on
/// the loader's threads for every item of every training batch, so random choices differ each
/// epoch. On the validation split it must be deterministic (fastai's `split_idx`).
///
///     ImageDataLoaders.fromFolder(path, itemTransforms: [Resize(64)])
public protocol ItemTransform: Sendable {
    /// The transformed image. `random` is the item's own generator on the training split, and
    /// nil on the validation split.
    func apply(_ image: Image, random: RandomGenerator?) -> Image
    /// The size of the result for an image of `width × height`: the loaders check before
    /// training that every item comes out the same size.
    func outputSize(width: Int, height: Int) -> (width: Int, height: Int)
}

/// How `Resize` fits an image of another shape (fastai's `ResizeMethod`).
public enum ResizeMethod: Sendable {
    /// The largest window of the target's shape, a random one in training and the centre one
    /// in validation, resized: nothing is distorted, the edges may be lost.
    case crop
    /// The whole image in a window of the target's shape, the rest filled by the pad mode.
    case pad
    /// The whole image stretched to the target's shape.
    case squish
}

/// Resizes every image to `height × width` (fastai's `Resize`): by default a random crop of the
/// target's shape in training and the centre crop in validation, then PIL's bilinear resampling.
public struct Resize: GeometricItemTransform {
    public let width: Int, height: Int
    public let method: ResizeMethod
    public let padMode: PadMode

    /// A square `size × size` result.
    public init(_ size: Int, method: ResizeMethod = .crop, padMode: PadMode = .reflection) {
        self.init(height: size, width: size, method: method, padMode: padMode)
    }

    /// A `height × width` result (fastai's `Resize((h, w))`). Sizes below 1 are taken as 1.
    public init(height: Int, width: Int, method: ResizeMethod = .crop, padMode: PadMode = .reflection) {
        self.width = max(width, 1)
        self.height = max(height, 1)
        self.method = method
        self.padMode = padMode
    }

    public func outputSize(width: Int, height: Int) -> (width: Int, height: Int) { (self.width, self.height) }

    public func apply(_ image: Image, random: RandomGenerator?) -> Image {
        geometry(width: image.width, height: image.height, random: random).apply(to: image)
    }

    public func geometry(width w: Int, height h: Int, random: RandomGenerator?) -> ItemGeometry {
        guard method != .squish else { return ItemGeometry(left: 0, top: 0, width: w, height: h, outWidth: width, outHeight: height) }
        // The window of the target's shape: inside the image for crop, around it for pad.
        let (rw, rh) = (Double(w) / Double(width), Double(h) / Double(height))
        let m = method == .crop ? min(rw, rh) : max(rw, rh)
        let (cw, ch) = (max(Int(m * Double(width)), 1), max(Int(m * Double(height)), 1))
        let (px, py) = random.map { (Double($0.nextUniform()), Double($0.nextUniform())) } ?? (0.5, 0.5)
        let left = Int(px * Double(w - cw)), top = Int(py * Double(h - ch))
        return ItemGeometry(left: left, top: top, width: cw, height: ch, outWidth: width, outHeight: height, padMode: padMode)
    }
}

/// A random window of `minScale...1` of the image's area and an aspect ratio in `ratio`, resized
/// to `height × width` (fastai's `RandomResizedCrop`); in validation, the whole image squished
/// to a size `valExtra` larger and its centre cropped.
public struct RandomResizedCrop: GeometricItemTransform {
    public let width: Int, height: Int
    public let minScale: Double
    public let ratio: (Double, Double)
    public let valExtra: Double

    public init(_ size: Int, minScale: Double = 0.08, ratio: (Double, Double) = (3.0 / 4, 4.0 / 3), valExtra: Double = 0.14) {
        self.init(height: size, width: size, minScale: minScale, ratio: ratio, valExtra: valExtra)
    }

    public init(height: Int, width: Int, minScale: Double = 0.08, ratio: (Double, Double) = (3.0 / 4, 4.0 / 3), valExtra: Double = 0.14) {
        self.width = max(width, 1)
        self.height = max(height, 1)
        self.minScale = min(max(minScale, 0), 1)
        self.ratio = (max(min(ratio.0, ratio.1), 1e-3), max(ratio.0, ratio.1, 1e-3))
        self.valExtra = max(valExtra, 0)
    }

    public func outputSize(width: Int, height: Int) -> (width: Int, height: Int) { (self.width, self.height) }

    public func apply(_ image: Image, random: RandomGenerator?) -> Image {
        geometry(width: image.width, height: image.height, random: random).apply(to: image)
    }

    public func geometry(width w: Int, height h: Int, random: RandomGenerator?) -> ItemGeometry {
        func window(_ left: Int, _ top: Int, _ cw: Int, _ ch: Int) -> ItemGeometry {
            ItemGeometry(left: left, top: top, width: cw, height: ch, outWidth: width, outHeight: height)
        }
        guard let random else {
            let extra = Int((Double(max(width, height)) * valExtra / 8).rounded(.up)) * 8
            return ItemGeometry(
                left: extra / 2, top: extra / 2, width: width, height: height, outWidth: width, outHeight: height,
                resizedFirst: SIMD2(width + extra, height + extra))
        }
        for _ in 0..<10 {
            let area = (minScale + (1 - minScale) * Double(random.nextUniform())) * Double(w * h)
            let logRatio = log(ratio.0) + (log(ratio.1) - log(ratio.0)) * Double(random.nextUniform())
            let aspect = exp(logRatio)
            let nw = Int((area * aspect).squareRoot().rounded()), nh = Int((area / aspect).squareRoot().rounded())
            if nw >= 1, nh >= 1, nw <= w, nh <= h {
                let left = random.nextInt(below: w - nw + 1), top = random.nextInt(below: h - nh + 1)
                return window(left, top, nw, nh)
            }
        }
        // No window fitted: the centre one of the nearest allowed ratio.
        let shape = Double(w) / Double(h)
        let (cw, ch) = shape < ratio.0 ? (w, max(Int(Double(w) / ratio.0), 1)) : shape > ratio.1 ? (max(Int(Double(h) * ratio.1), 1), h) : (w, h)
        return window((w - cw) / 2, (h - ch) / 2, cw, ch)
    }
}

/// Names the conversion to a `[C, H, W]` tensor in 0...1, which every image item gets after its
/// item transforms; listing it (as fastai code does) changes nothing.
public struct ToTensor: GeometricItemTransform {
    public init() {}
    public func apply(_ image: Image, random: RandomGenerator?) -> Image { image }
    public func outputSize(width: Int, height: Int) -> (width: Int, height: Int) { (width, height) }
    public func geometry(width: Int, height: Int, random: RandomGenerator?) -> ItemGeometry { .identity(width: width, height: height) }
}
