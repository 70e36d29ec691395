import Codecs
import DataBlocks
import Foundation
import Tensors

// What an item transform does to an image's geometry, as one step: a window of the image
// (which may reach outside it, filled by a pad mode) resized to the output size. Drawn once per
// item, the same step moves the image (bilinear), its mask (nearest) and its points (exactly),
// so targets stay where their pixels go.

/// One item transform's geometry for one image: the window `left, top, width × height` of the
/// source (in pixels; it may reach outside the image) resized to `outWidth × outHeight`; or, with
/// `resizedFirst`, the source resized to that size first and the window taken from the result.
public struct ItemGeometry: Sendable, Equatable {
    public var left: Int, top: Int, width: Int, height: Int
    public var outWidth: Int, outHeight: Int
    public var padMode: PadMode
    /// The size the source is resized to before the window is taken (`RandomResizedCrop`'s
    /// validation step: squish a little larger, then the centre).
    public var resizedFirst: SIMD2<Int>?

    public init(
        left: Int, top: Int, width: Int, height: Int, outWidth: Int, outHeight: Int, padMode: PadMode = .reflection,
        resizedFirst: SIMD2<Int>? = nil
    ) {
        (self.left, self.top, self.width, self.height) = (left, top, width, height)
        (self.outWidth, self.outHeight, self.padMode, self.resizedFirst) = (outWidth, outHeight, padMode, resizedFirst)
    }

    /// The whole `width × height` image, unchanged.
    static func identity(width: Int, height: Int) -> ItemGeometry {
        ItemGeometry(left: 0, top: 0, width: width, height: height, outWidth: width, outHeight: height)
    }

    /// The image's window, resized with PIL's bilinear filter.
    public func apply(to image: Image) -> Image {
        var source = image
        if let first = resizedFirst { source = source.resized(width: first.x, height: first.y) }
        if left == 0 && top == 0 && width == source.width && height == source.height { return source.resized(width: outWidth, height: outHeight) }
        return source.cropPad(left: left, top: top, width: width, height: height, padMode: padMode).resized(width: outWidth, height: outHeight)
    }

    /// A mask's window, resized by nearest neighbour (codes are never blended).
    public func apply(toMask mask: Image) -> Image {
        var source = mask
        if let first = resizedFirst { source = source.resizedNearest(width: first.x, height: first.y) }
        return source.cropPad(left: left, top: top, width: width, height: height, padMode: padMode).resizedNearest(width: outWidth, height: outHeight)
    }

    /// A point `(x, y)` in pixels of an image of `sourceWidth × sourceHeight` (spanning
    /// `0...width` by `0...height`) where the same spot lies in the output.
    public func apply(toPoint point: SIMD2<Float>, sourceWidth: Int, sourceHeight: Int) -> SIMD2<Float> {
        var p = point
        if let first = resizedFirst {
            p *= SIMD2(Float(first.x) / Float(max(sourceWidth, 1)), Float(first.y) / Float(max(sourceHeight, 1)))
        }
        let sx = Float(outWidth) / Float(max(width, 1)), sy = Float(outHeight) / Float(max(height, 1))
        return SIMD2((p.x - Float(left)) * sx, (p.y - Float(top)) * sy)
    }
}

/// An item transform whose effect on an image is an `ItemGeometry` step (a window and a resize),
/// so that points and masks can follow it. `Resize`, `RandomResizedCrop` and `ToTensor` are;
/// the targets that move with their image (`PointBlock`, `MaskBlock`) need every item transform
/// to be.
public protocol GeometricItemTransform: ItemTransform {
    /// The step for an image of `width × height`, drawing its random choices from `random` on
    /// the training split (nil: the deterministic validation step).
    func geometry(width: Int, height: Int, random: RandomGenerator?) -> ItemGeometry
}

extension Image {
    /// The image resized to `width × height` by nearest neighbour (PIL's `NEAREST`: each output
    /// pixel takes the input pixel under its centre), for masks.
    public func resizedNearest(width w: Int, height h: Int) -> Image {
        guard w > 0, h > 0 else { return Image(width: 0, height: 0, channels: channels, pixels: []) }
        if w == width && h == height { return self }
        let c = channels
        let xs = (0..<w).map { min(Int((Double($0) + 0.5) * Double(width) / Double(w)), width - 1) }
        var out = [UInt8](repeating: 0, count: w * h * c)
        for y in 0..<h {
            let sy = min(Int((Double(y) + 0.5) * Double(height) / Double(h)), height - 1)
            for x in 0..<w {
                for k in 0..<c { out[(y * w + x) * c + k] = pixels[(sy * width + xs[x]) * c + k] }
            }
        }
        return Image(width: w, height: h, channels: c, pixels: out)
    }
}
