import Codecs
import DataBlocks
import Foundation
import Tensors

/// Cropping, padding and resizing of 8-bit images, as PIL and torchvision do them for fastai's
/// item transforms: `cropPad` (a window that may reach outside the image, filled by a padding
/// mode) and `resized` (PIL's antialiased bilinear resampling, in fixed point).

/// How the parts of a window outside the image are filled (fastai's `PadMode`).
public enum PadMode: Sendable {
    /// Mirrored about the edge pixel (torchvision's "reflect": the edge is not repeated).
    case reflection
    /// Black.
    case zeros
    /// The edge pixel repeated.
    case border
}

extension Image {
    /// The `width × height` window whose top-left corner is at (`left`, `top`) of this image
    /// (either may be negative, and the window may reach past the right and bottom edges); what
    /// lies outside the image is filled by `padMode` (fastai's `crop_pad`).
    public func cropPad(left: Int, top: Int, width w: Int, height h: Int, padMode: PadMode = .reflection) -> Image {
        let c = channels
        var out = [UInt8](repeating: 0, count: max(w, 0) * max(h, 0) * c)
        guard w > 0, h > 0 else { return Image(width: 0, height: 0, channels: c, pixels: []) }
        /// The source index for a coordinate, or nil for a zero.
        func source(_ i: Int, _ n: Int) -> Int? {
            if i >= 0 && i < n { return i }
            switch padMode {
            case .zeros: return nil
            case .border: return min(max(i, 0), n - 1)
            case .reflection:
                guard n > 1 else { return 0 }
                let period = 2 * (n - 1)
                var m = i % period
                if m < 0 { m += period }
                return m < n ? m : period - m
            }
        }
        let columns = (0..<w).map { source(left + $0, width) }
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    guard let sy = source(top + y, height) else { continue }
                    let row = dst.baseAddress! + y * w * c, srcRow = src.baseAddress! + sy * width * c
                    if left >= 0 && left + w <= width {
                        row.update(from: srcRow + left * c, count: w * c)
                        continue
                    }
                    for x in 0..<w {
                        guard let sx = columns[x] else { continue }
                        for k in 0..<c { row[x * c + k] = srcRow[sx * c + k] }
                    }
                }
            }
        }
        return Image(width: w, height: h, channels: c, pixels: out)
    }

    /// The image resized to `width × height` with PIL's bilinear filter: a triangle widened by
    /// the scale when shrinking (so it averages instead of aliasing), taps clipped at the edges,
    /// weights in 22-bit fixed point, the horizontal pass first. Integer sums, so the order of
    /// the taps does not change a bit: the horizontal pass takes a pixel's (1-4) channels as
    /// one vector per tap, the vertical pass adds whole rows, one tap at a time.
    public func resized(width w: Int, height h: Int) -> Image {
        guard w > 0, h > 0 else { return Image(width: 0, height: 0, channels: channels, pixels: []) }
        if w == width && h == height { return self }
        var current = self
        if w != width { current = current.resizedHorizontally(to: w) }
        if h != height { current = current.resizedVertically(to: h) }
        return current
    }

    /// Each row resampled to `w` pixels (`resized`'s first pass).
    private func resizedHorizontally(to w: Int) -> Image {
        let c = channels, taps = ResampleTaps(input: width, output: w)
        let rounding = Int32(1 << (ResampleTaps.bits - 1)), shift = Int32(ResampleTaps.bits)
        var out = [UInt8](repeating: 0, count: w * height * c)
        pixels.withUnsafeBufferPointer { srcBuffer in
            out.withUnsafeMutableBufferPointer { dstBuffer in
                taps.weights.withUnsafeBufferPointer { weights in
                    taps.firsts.withUnsafeBufferPointer { firsts in
                        taps.counts.withUnsafeBufferPointer { counts in
                            guard let src = srcBuffer.baseAddress, let dst = dstBuffer.baseAddress, let weights = weights.baseAddress
                            else { return }
                            let end = src + srcBuffer.count
                            for y in 0..<height {
                                let srcRow = src + y * width * c, dstRow = dst + y * w * c
                                for x in 0..<w {
                                    let tapWeights = weights + x * taps.stride
                                    var source = srcRow + firsts[x] * c
                                    // An image has 1-4 channels; lanes past `c` take the next
                                    // pixel's bytes and are dropped.
                                    var sum = SIMD4<Int32>(repeating: rounding)
                                    for t in 0..<counts[x] {
                                        var pixel = SIMD4<Int32>()
                                        if source + 4 <= end {
                                            pixel = SIMD4<Int32>(truncatingIfNeeded: UnsafeRawPointer(source).loadUnaligned(as: SIMD4<UInt8>.self))
                                        } else {
                                            for k in 0..<c { pixel[k] = Int32(source[k]) }
                                        }
                                        sum &+= pixel &* tapWeights[t]
                                        source += c
                                    }
                                    let result = sum &>> shift
                                    for k in 0..<c { dstRow[x * c + k] = UInt8(clamping: result[k]) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Image(width: w, height: height, channels: c, pixels: out)
    }

    /// Each column resampled to `h` pixels (`resized`'s second pass), a whole row of sums at a time.
    private func resizedVertically(to h: Int) -> Image {
        let taps = ResampleTaps(input: height, output: h), rowLength = width * channels
        let rounding = Int32(1 << (ResampleTaps.bits - 1)), shift = Int32(ResampleTaps.bits)
        var out = [UInt8](repeating: 0, count: rowLength * h)
        var sums = [Int32](repeating: 0, count: rowLength)
        pixels.withUnsafeBufferPointer { srcBuffer in
            out.withUnsafeMutableBufferPointer { dstBuffer in
                sums.withUnsafeMutableBufferPointer { sumBuffer in
                    taps.weights.withUnsafeBufferPointer { weights in
                        guard let src = srcBuffer.baseAddress, let dst = dstBuffer.baseAddress, let sums = sumBuffer.baseAddress,
                            let weights = weights.baseAddress
                        else { return }
                        for y in 0..<h {
                            sums.update(repeating: rounding, count: rowLength)
                            let first = taps.firsts[y], tapWeights = weights + y * taps.stride
                            for t in 0..<taps.counts[y] {
                                let row = src + (first + t) * rowLength, weight = tapWeights[t]
                                for i in 0..<rowLength { sums[i] &+= Int32(row[i]) &* weight }
                            }
                            let dstRow = dst + y * rowLength
                            for i in 0..<rowLength { dstRow[i] = UInt8(clamping: sums[i] &>> shift) }
                        }
                    }
                }
            }
        }
        return Image(width: width, height: h, channels: channels, pixels: out)
    }
}

/// For each output coordinate, the input samples it reads and their fixed-point weights
/// (PIL's `precompute_coeffs` for the bilinear filter), the weights in one flat buffer.
struct ResampleTaps {
    static let bits = 22
    let firsts: [Int], counts: [Int]
    /// Output `i`'s weights start at `i * stride`.
    let weights: [Int32]
    let stride: Int

    init(input: Int, output: Int) {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = filterScale  // the triangle's support (1) widened when shrinking
        var firsts: [Int] = [], counts: [Int] = [], rows: [[Double]] = []
        for i in 0..<output {
            let centre = (Double(i) + 0.5) * scale
            let lo = max(Int(centre - support + 0.5), 0)
            let hi = min(Int(centre + support + 0.5), input)
            var w = (lo..<max(hi, lo)).map { j -> Double in
                let x = abs((Double(j) - centre + 0.5) / filterScale)
                return x < 1 ? 1 - x : 0
            }
            let total = w.reduce(0, +)
            if total > 0 { w = w.map { $0 / total } }
            firsts.append(lo)
            counts.append(w.count)
            rows.append(w)
        }
        let stride = max(counts.max() ?? 1, 1)
        var flat = [Int32](repeating: 0, count: output * stride)
        for (i, row) in rows.enumerated() {
            for (t, w) in row.enumerated() { flat[i * stride + t] = Int32((w * Double(1 << Self.bits)).rounded()) }
        }
        self.firsts = firsts
        self.counts = counts
        self.weights = flat
        self.stride = stride
    }
}
