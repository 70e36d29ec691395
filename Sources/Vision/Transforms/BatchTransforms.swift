import DataBlocks
import Codecs
import Dispatch
import Foundation
import Tensors

/// The ImageNet statistics pretrained models expect (fastai's `imagenet_stats`): per-channel
/// means and standard deviations of RGB in 0...1.
public let imagenetStats = (mean: [Float(0.485), 0.456, 0.406], std: [Float(0.229), 0.224, 0.225])

/// Subtracts a per-channel mean and divides by a per-channel standard deviation, on both splits
/// (fastai's `Normalize`); `decode` multiplies and adds back.
public struct Normalize: BatchTransform {
    public let mean: [Float], std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// `Normalize.fromStats(imagenetStats)`, as fastai's `Normalize.from_stats(*imagenet_stats)`.
    public static func fromStats(_ stats: (mean: [Float], std: [Float])) -> Normalize { Normalize(mean: stats.mean, std: stats.std) }

    public func check(channels: Int) throws {
        guard mean.count == std.count, mean.count == channels || mean.count == 1 else {
            throw DataError(
                "Normalize",
                "\(mean.count) means and \(std.count) standard deviations for images of \(channels) channel(s)"
                    + (channels == 1 ? "; load the images as RGB with ImageBlock(channels: 3)" : ""))
        }
        guard std.allSatisfy({ $0 > 0 }) else { throw DataError("Normalize", "standard deviations must be positive, got \(std)") }
    }

    public func apply(_ batch: Tensor, random: RandomGenerator?) -> Tensor { perChannel(batch) { ($0 - $1) / $2 } }
    public func decode(_ batch: Tensor) -> Tensor { perChannel(batch) { $0 * $2 + $1 } }

    private func perChannel(_ batch: Tensor, _ f: (Float, Float, Float) -> Float) -> Tensor {
        guard batch.rank == 4 else { return batch }
        let (n, c, plane) = (batch.shape[0], batch.shape[1], batch.shape[2] * batch.shape[3])
        var out = batch
        out.withUnsafeMutableBufferPointer { x in
            for image in 0..<n {
                for k in 0..<c {
                    let (m, s) = mean.count == 1 ? (mean[0], std[0]) : (k < mean.count ? (mean[k], std[k]) : (0, 1))
                    let base = (image * c + k) * plane
                    for i in base..<(base + plane) { x[i] = f(x[i], m, s) }
                }
            }
        }
        return out
    }
}

/// fastai's `aug_transforms`: a random flip, rotation (±`maxRotate`°), zoom (`minZoom...maxZoom`)
/// and perspective warp (`maxWarp`) as one affine resample per image (bilinear, reflection
/// padding), then a random brightness and contrast change (`maxLighting`), each change applied
/// with its probability, on the training split only. `multiplier` scales rotation, lighting and warp.
public func augTransforms(
    multiplier: Double = 1, doFlip: Bool = true, flipVertical: Bool = false, maxRotate: Double = 10,
    minZoom: Double = 1, maxZoom: Double = 1.1, maxLighting: Double = 0.2, maxWarp: Double = 0.2,
    pAffine: Double = 0.75, pLighting: Double = 0.75, padMode: PadMode = .reflection
) -> [BatchTransform] {
    var transforms: [BatchTransform] = [
        AffineAugment(
            doFlip: doFlip, flipVertical: flipVertical, maxRotate: maxRotate * multiplier, minZoom: minZoom, maxZoom: maxZoom,
            maxWarp: maxWarp * multiplier, pAffine: pAffine, padMode: padMode)
    ]
    if maxLighting * multiplier > 0 { transforms.append(LightingAugment(maxLighting: maxLighting * multiplier, p: pLighting)) }
    return transforms
}

/// Random flips (or, with `flipVertical`, any of the 8 dihedral turns), rotations, zooms and
/// perspective warps, combined into one coordinate map per image and resampled once (fastai's
/// `AffineCoordTfm` with `Flip`, `Rotate`, `Zoom` and `Warp`; `align_corners=True`).
public struct AffineAugment: BatchTransform {
    public var doFlip = true, flipVertical = false
    public var maxRotate = 10.0, minZoom = 1.0, maxZoom = 1.1, maxWarp = 0.2, pAffine = 0.75
    public var padMode = PadMode.reflection

    public init(
        doFlip: Bool = true, flipVertical: Bool = false, maxRotate: Double = 10, minZoom: Double = 1, maxZoom: Double = 1.1,
        maxWarp: Double = 0.2, pAffine: Double = 0.75, padMode: PadMode = .reflection
    ) {
        self.doFlip = doFlip
        self.flipVertical = flipVertical
        self.maxRotate = maxRotate
        self.minZoom = min(minZoom, maxZoom)
        self.maxZoom = max(minZoom, maxZoom)
        self.maxWarp = maxWarp
        self.pAffine = pAffine
        self.padMode = padMode
    }

    /// One image's map from output to input coordinates, both in -1...1.
    public struct CoordinateMap: Sendable {
        /// The affine part: `[a, b, c, d, e, f]` maps (x, y) to (a x + b y + c, d x + e y + f).
        public var affine: [Double] = [1, 0, 0, 0, 1, 0]
        /// The perspective warp applied after it (a 3×3 homography, row-major), if any.
        public var warp: [Double]?

        public init(affine: [Double] = [1, 0, 0, 0, 1, 0], warp: [Double]? = nil) {
            self.affine = affine
            self.warp = warp
        }

        /// The map as plain numbers for the inner loop: the affine part, and the warp (identity when none).
        var coefficients: (affine: SIMD8<Double>, warp: SIMD16<Double>) {
            var a = SIMD8<Double>(), h = SIMD16<Double>()
            for i in 0..<min(6, affine.count) { a[i] = affine[i] }
            let w = warp ?? [1, 0, 0, 0, 1, 0, 0, 0, 1]
            for i in 0..<min(9, w.count) { h[i] = w[i] }
            return (a, h)
        }
    }

    /// Draws one image's map, in fastai's order: flip, warp, rotation, zoom.
    func drawMap(_ random: RandomGenerator, width: Int, height: Int) -> CoordinateMap {
        func chance(_ p: Double) -> Bool { Double(random.nextUniform()) < p }
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(random.nextUniform()) }
        var m: [[Double]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        func multiply(_ b: [[Double]]) {
            m = (0..<3).map { i in (0..<3).map { j in (0..<3).reduce(0) { $0 + m[i][$1] * b[$1][j] } } }
        }
        if doFlip {
            if flipVertical {
                // The dihedral group: index 0...7 as fastai's `dihedral_mat`.
                let k = chance(0.5) ? random.nextInt(below: 8) : 0
                let xs: [Double] = [1, -1, 1, -1, -1, 1, 1, -1], ys: [Double] = [1, 1, -1, 1, -1, -1, 1, -1]
                let m0: [Double] = [1, 1, 1, 0, 1, 0, 0, 0], m1: [Double] = [0, 0, 0, 1, 0, 1, 1, 1]
                multiply([[xs[k] * m0[k], xs[k] * m1[k], 0], [ys[k] * m1[k], ys[k] * m0[k], 0], [0, 0, 1]])
            } else if chance(0.5) {
                multiply([[-1, 0, 0], [0, 1, 0], [0, 0, 1]])
            }
        }
        var warp: [Double]?
        if maxWarp > 0 {
            let xt = chance(pAffine) ? uniform(-maxWarp, maxWarp) : 0
            let yt = chance(pAffine) ? uniform(-maxWarp, maxWarp) : 0
            if xt != 0 || yt != 0 {
                let from: [(Double, Double)] = [(-1, -1), (-1, 1), (1, -1), (1, 1)]
                let to: [(Double, Double)] = [(-1 - yt, -1 - xt), (-1 + yt, 1 + xt), (1 + yt, -1 + xt), (1 - yt, 1 - xt)]
                warp = homography(mapping: to, onto: from)
            }
        }
        if maxRotate > 0 {
            let theta = (chance(pAffine) ? uniform(-maxRotate, maxRotate) : 0) * .pi / 180
            multiply([[cos(theta), sin(theta), 0], [-sin(theta), cos(theta), 0], [0, 0, 1]])
        }
        if minZoom < 1 || maxZoom > 1 {
            let s = 1 / (chance(pAffine) ? uniform(minZoom, maxZoom) : 1)
            let cx = (1 - s) * (2 * Double(random.nextUniform()) - 1), cy = (1 - s) * (2 * Double(random.nextUniform()) - 1)
            multiply([[s, 0, cx], [0, s, cy], [0, 0, 1]])
        }
        // fastai's `_prepare_mat`: the rotation's cross terms corrected for the aspect ratio.
        let affine = [m[0][0], m[0][1] * Double(height) / Double(width), m[0][2], m[1][0] * Double(width) / Double(height), m[1][1], m[1][2]]
        return CoordinateMap(affine: affine, warp: warp)
    }

    public func apply(_ batch: Tensor, random: RandomGenerator?) -> Tensor {
        guard let random, batch.rank == 4 else { return batch }
        let (n, h, w) = (batch.shape[0], batch.shape[2], batch.shape[3])
        let maps = (0..<n).map { _ in drawMap(random, width: w, height: h) }
        return Self.resample(batch, maps: maps, padMode: padMode)
    }

    /// The images resampled as `apply` does, with the same maps moving their points (exactly,
    /// through the inverse map, as fastai's `TensorPoint`) or their masks (nearest neighbour, as
    /// fastai's `TensorMask`).
    public func apply(_ batch: Tensor, targets: Tensor, geometry: TargetGeometry, random: RandomGenerator?) -> (Tensor, Tensor) {
        guard let random, batch.rank == 4 else { return (batch, targets) }
        let (n, h, w) = (batch.shape[0], batch.shape[2], batch.shape[3])
        let maps = (0..<n).map { _ in drawMap(random, width: w, height: h) }
        let images = Self.resample(batch, maps: maps, padMode: padMode)
        switch geometry {
        case .none: return (images, targets)
        case .points: return (images, Self.movePoints(targets, maps: maps))
        case .mask:
            guard targets.rank == 3 else { return (images, targets) }
            return (images, Self.resample(targets.unsqueeze(1), maps: maps, padMode: padMode, nearest: true).squeeze(1))
        }
    }

    /// Points `[N, K, 2]` (scaled to -1...1) moved to where `maps[i]` takes image `i`'s pixels:
    /// each map sends output coordinates to input ones, so a point goes through its inverse
    /// (the warp's, then the affine part's).
    public static func movePoints(_ points: Tensor, maps: [CoordinateMap]) -> Tensor {
        guard points.rank == 3, points.shape[2] == 2, points.shape[0] == maps.count else { return points }
        let k = points.shape[1]
        var values = points.scalars
        for (i, map) in maps.enumerated() {
            let a = map.affine
            let det = a[0] * a[4] - a[1] * a[3]
            guard abs(det) > 1e-12 else { continue }
            let inverseWarp = map.warp.flatMap(invert3x3)
            for j in 0..<k {
                let o = (i * k + j) * 2
                var (u, v) = (Double(values[o]), Double(values[o + 1]))
                if let hw = inverseWarp {
                    let z = hw[6] * u + hw[7] * v + hw[8]
                    if abs(z) > 1e-12 { (u, v) = ((hw[0] * u + hw[1] * v + hw[2]) / z, (hw[3] * u + hw[4] * v + hw[5]) / z) }
                }
                let (du, dv) = (u - a[2], v - a[5])
                values[o] = Float((a[4] * du - a[1] * dv) / det)
                values[o + 1] = Float((-a[3] * du + a[0] * dv) / det)
            }
        }
        return Tensor(shape: points.shape, scalars: values)
    }

    /// Resamples each image `i` of `[N, C, H, W]` at `maps[i]` of its output coordinates
    /// (bilinear, or the nearest pixel for masks; `align_corners=True`, the pad mode outside),
    /// images spread over the cores.
    public static func resample(_ batch: Tensor, maps: [CoordinateMap], padMode: PadMode, nearest: Bool = false) -> Tensor {
        let (n, c, h, w) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        var out = Tensor.zeros(batch.shape)
        let plane = h * w
        batch.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                let src = UnsafeSendable(input.baseAddress!), dst = UnsafeSendable(output.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: n) { i in
                    let (a, hw) = maps[i].coefficients
                    let warps = maps[i].warp != nil
                    for y in 0..<h {
                        let gy = h > 1 ? 2 * Double(y) / Double(h - 1) - 1 : 0
                        for x in 0..<w {
                            let gx = w > 1 ? 2 * Double(x) / Double(w - 1) - 1 : 0
                            var u = a[0] * gx + a[1] * gy + a[2], v = a[3] * gx + a[4] * gy + a[5]
                            if warps {
                                let z = hw[6] * u + hw[7] * v + hw[8]
                                if abs(z) > 1e-12 { (u, v) = ((hw[0] * u + hw[1] * v + hw[2]) / z, (hw[3] * u + hw[4] * v + hw[5]) / z) }
                            }
                            var ix = (u + 1) / 2 * Double(w - 1), iy = (v + 1) / 2 * Double(h - 1)
                            var inside = true
                            switch padMode {
                            case .reflection: ix = reflect(ix, w); iy = reflect(iy, h)
                            case .border: ix = min(max(ix, 0), Double(w - 1)); iy = min(max(iy, 0), Double(h - 1))
                            case .zeros: inside = ix > -1 && iy > -1 && ix < Double(w) && iy < Double(h)
                            }
                            guard inside, ix.isFinite, iy.isFinite else { continue }
                            if nearest {
                                // PyTorch's `nearest`: the pixel the coordinate rounds to, half to even.
                                let nx = Int(ix.rounded(.toNearestOrEven)), ny = Int(iy.rounded(.toNearestOrEven))
                                guard nx >= 0, nx < w, ny >= 0, ny < h else { continue }
                                for k in 0..<c { dst.pointer[(i * c + k) * plane + y * w + x] = src.pointer[(i * c + k) * plane + ny * w + nx] }
                                continue
                            }
                            let x0 = Int(ix.rounded(.down)), y0 = Int(iy.rounded(.down))
                            let fx = Float(ix - Double(x0)), fy = Float(iy - Double(y0))
                            // The four neighbours; one past the last row or column has no weight.
                            let x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
                            let (w00, w01, w10, w11) = ((1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy)
                            let inX0 = x0 >= 0 && x0 < w, inX1 = x0 + 1 >= 0 && x0 + 1 < w, inY0 = y0 >= 0 && y0 < h, inY1 = y0 + 1 >= 0 && y0 + 1 < h
                            for k in 0..<c {
                                let image = src.pointer + (i * c + k) * plane
                                var sum: Float = 0
                                if inY0 && inX0 { sum += w00 * image[y0 * w + x0] }
                                if inY0 && inX1 { sum += w01 * image[y0 * w + x1] }
                                if inY1 && inX0 { sum += w10 * image[y1 * w + x0] }
                                if inY1 && inX1 { sum += w11 * image[y1 * w + x1] }
                                let base = (i * c + k) * plane
                                dst.pointer[base + y * w + x] = sum
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// A coordinate reflected into `0...(n-1)` (PyTorch's `reflect_coordinates` for `align_corners=True`).
    @inline(__always) static func reflect(_ value: Double, _ n: Int) -> Double {
        guard n > 1, value.isFinite else { return 0 }
        let span = Double(n - 1)
        let a = abs(value)
        let flips = (a / span).rounded(.down)
        let extra = a - flips * span
        return flips.truncatingRemainder(dividingBy: 2) == 0 ? extra : span - extra
    }
}

/// The inverse of a row-major 3×3 matrix (its adjugate over its determinant), nil when singular.
func invert3x3(_ m: [Double]) -> [Double]? {
    guard m.count == 9 else { return nil }
    let c00 = m[4] * m[8] - m[5] * m[7], c01 = m[5] * m[6] - m[3] * m[8], c02 = m[3] * m[7] - m[4] * m[6]
    let det = m[0] * c00 + m[1] * c01 + m[2] * c02
    guard abs(det) > 1e-12 else { return nil }
    return [
        c00, m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
        c01, m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
        c02, m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3],
    ].map { $0 / det }
}

/// The 3×3 homography taking each point of `from` to the matching point of `onto` (four
/// pairs; fastai's `find_coeffs`), or nil when they are degenerate.
func homography(mapping from: [(Double, Double)], onto: [(Double, Double)]) -> [Double]? {
    var a = [[Double]](), b = [Double]()
    for ((x, y), (u, v)) in zip(from, onto) {
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.append(u)
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y]); b.append(v)
    }
    // Gaussian elimination with partial pivoting on the 8×8 system.
    for col in 0..<8 {
        guard let pivot = (col..<8).max(by: { abs(a[$0][col]) < abs(a[$1][col]) }), abs(a[pivot][col]) > 1e-12 else { return nil }
        a.swapAt(col, pivot); b.swapAt(col, pivot)
        for row in 0..<8 where row != col {
            let f = a[row][col] / a[col][col]
            if f == 0 { continue }
            for k in col..<8 { a[row][k] -= f * a[col][k] }
            b[row] -= f * b[col]
        }
    }
    return (0..<8).map { b[$0] / a[$0][$0] } + [1]
}

/// Random brightness and contrast in logit space (fastai's `Brightness` and `Contrast` as one
/// `LightingTfm`): `sigmoid((logit(x) + logit(b)) * c)` with `b` in `0.5 ± maxLighting/2` and
/// `c` log-uniform in `[1 - maxLighting, 1 / (1 - maxLighting)]`, each drawn with probability `p`.
public struct LightingAugment: BatchTransform {
    public let maxLighting: Double, p: Double

    public init(maxLighting: Double = 0.2, p: Double = 0.75) {
        self.maxLighting = min(max(maxLighting, 0), 0.99)
        self.p = p
    }

    public func apply(_ batch: Tensor, random: RandomGenerator?) -> Tensor {
        guard let random, batch.rank == 4 else { return batch }
        let n = batch.shape[0], size = batch.count / max(n, 1)
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(random.nextUniform()) }
        let brightness = (0..<n).map { _ in Double(random.nextUniform()) < p ? uniform(0.5 * (1 - maxLighting), 0.5 * (1 + maxLighting)) : 0.5 }
        let contrast = (0..<n).map { _ in Double(random.nextUniform()) < p ? exp(uniform(log(1 - maxLighting), -log(1 - maxLighting))) : 1 }
        var out = batch
        out.withUnsafeMutableBufferPointer { x in
            for i in 0..<n {
                let shift = Float(log(brightness[i] / (1 - brightness[i]))), scale = Float(contrast[i])
                for j in (i * size)..<((i + 1) * size) {
                    let v = min(max(x[j], 1e-7), 1 - 1e-7)
                    let logit = log(v / (1 - v))
                    x[j] = 1 / (1 + exp(-(logit + shift) * scale))
                }
            }
        }
        return out
    }
}

/// A pointer handed to `concurrentPerform`'s workers, each writing its own part.
struct UnsafeSendable<T>: @unchecked Sendable {
    let pointer: T
    init(_ pointer: T) { self.pointer = pointer }
}
