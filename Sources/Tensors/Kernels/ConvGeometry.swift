// Where a convolution's kernel reads its input: sizes, strides, padding, and the taps that
// ever see the input.

/// The geometry of a 2-D convolution or pooling window over NCHW input.
struct ConvGeometry: Sendable, Equatable {
    let channels: Int, height: Int, width: Int
    let kernelH: Int, kernelW: Int
    let strideH: Int, strideW: Int
    let padH: Int, padW: Int
    let outH: Int, outW: Int
    /// The kernel taps (`i·kw + j`) that touch the input for at least one output pixel. The
    /// others only ever see padding and are left out of the GEMM: 8 of the 9 taps of a padded
    /// 3×3 convolution over a 1×1 input, as in the last stage of a ResNet on small images.
    let taps: [Int]

    init(channels: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)) {
        self.channels = channels; self.height = height; self.width = width
        kernelH = kernel.0; kernelW = kernel.1
        strideH = stride.0; strideW = stride.1
        padH = padding.0; padW = padding.1
        let outH = (height + 2 * padding.0 - kernel.0) / stride.0 + 1
        let outW = (width + 2 * padding.1 - kernel.1) / stride.1 + 1
        self.outH = outH; self.outW = outW
        func used(_ k: Int, _ out: Int, _ s: Int, _ p: Int, _ n: Int) -> Bool {
            (0..<max(out, 0)).contains { o in (0..<n).contains(o * s - p + k) }
        }
        taps = (0..<(kernel.0 * kernel.1)).filter { tap in
            used(tap / kernel.1, outH, stride.0, padding.0, height) && used(tap % kernel.1, outW, stride.1, padding.1, width)
        }
    }

    /// Rows of `cols`: C·T.
    var patchSize: Int { channels * taps.count }
    /// True when some taps are left out, so weights must be gathered to match.
    var prunesTaps: Bool { taps.count < kernelH * kernelW }
    var outPixels: Int { outH * outW }
    var inPixels: Int { height * width }

    /// For tap `t`, the output pixels that read the input (not the padding) and the offsets
    /// in an input plane they read, as two parallel lists.
    func offsets(tap t: Int) -> (pixels: [Int], offsets: [Int]) {
        let i = taps[t] / kernelW, j = taps[t] % kernelW
        var pixels: [Int] = [], offsets: [Int] = []
        for oh in 0..<outH {
            let ih = oh * strideH - padH + i
            guard ih >= 0 && ih < height else { continue }
            for ow in 0..<outW {
                let iw = ow * strideW - padW + j
                if iw >= 0 && iw < width { pixels.append(oh * outW + ow); offsets.append(ih * width + iw) }
            }
        }
        return (pixels, offsets)
    }

    /// Rows are copied as runs (strided with the window) along long output rows; short ones go
    /// through per-tap tables of offsets.
    var copiesRuns: Bool { outW >= 8 }

    /// The output columns whose window column `j` lands inside the input: `ow` with
    /// `0 <= ow·strideW - padW + j < width`.
    func validColumns(tapColumn j: Int) -> Range<Int> {
        let lo = min(outW, padW - j > 0 ? (padW - j + strideW - 1) / strideW : 0)
        let last = width - 1 + padW - j
        let hi = last < 0 ? lo : max(lo, min(outW, last / strideW + 1))
        return lo..<hi
    }

    /// True for a stride-1 convolution whose output is the input's size (a 3×3 kernel with
    /// padding 1): with the input as channel rows `[C, samples·H·W]`, each im2col row is the
    /// input's channel row shifted by a constant, zero where the window hangs over the padding.
    var isShiftedCopy: Bool { strideH == 1 && strideW == 1 && outH == height && outW == width }

    /// The flat shift of tap `t` in a shifted copy: output pixel q reads input pixel q + shift.
    func shift(tap t: Int) -> Int { (taps[t] / kernelW - padH) * width + (taps[t] % kernelW - padW) }

    /// Floats a shifted copy may read before or after a row (the largest shift).
    var shiftMargin: Int { max(padH * width + padW, (kernelH - 1 - padH) * width + (kernelW - 1 - padW)) }

    /// For a shifted copy, per tap and for `samples` planes: all bits set where output pixel q
    /// reads the input (`forward`), or where input pixel q is read by some output pixel through
    /// the tap (`!forward`), 0 elsewhere; `[T, samples·H·W]`.
    func shiftMasks(samples: Int, forward: Bool) -> [UInt32] {
        // One plane's mask per tap, repeated for every sample.
        var masks: [UInt32] = []
        masks.reserveCapacity(taps.count * samples * height * width)
        for t in taps.indices {
            let i = taps[t] / kernelW - padH, j = taps[t] % kernelW - padW
            var plane = [UInt32](repeating: 0, count: height * width)
            for y in 0..<height {
                for x in 0..<width {
                    let (yy, xx) = forward ? (y + i, x + j) : (y - i, x - j)
                    if yy >= 0 && yy < height && xx >= 0 && xx < width { plane[y * width + x] = .max }
                }
            }
            for _ in 0..<samples { masks.append(contentsOf: plane) }
        }
        return masks
    }
}
