// A convolution over maps so small that it is cheapest as one dense matrix.
//
// With Pin input and Pout output pixels per map, the convolution is a linear map from a sample's
// `C·Pin` inputs to its `Cout·Pout` outputs, and NCHW already stores a batch as the matrix
// `X[N, C·Pin]`. With `M[o·Pout + p, c·Pin + q]` the weight of the tap linking input pixel q to
// output pixel p (0 when none does):
//   forward:  Yᵀ[Cout·Pout, N] = M • Xᵀ, transposed into Y[N, Cout·Pout] (NCHW)
//   backward: dX[N, C·Pin] = dY • M,  dM = dYᵀ • X, then dW[o, c, t] = Σ dM over the pairs tap t links
// M is as wide as X, so each of these products reads it in place (no packing), and building M
// from the weight or dW from dM reads and writes both in order, output channel by output
// channel. It does `C·Cout·Pin·Pout` multiply-adds, every one of them useful, where im2col does
// `C·T·Cout·Pout` (T taps in use) with zeros wherever a window hangs over the padding: a 3×3
// convolution over 2×2 maps does 16 per channel pair instead of 36, and over 1×1 maps it needs
// no layout copies around the GEMM. Chosen where it does no more work than im2col and M stays
// within twice the weight's size.

/// Which kernel tap links each input pixel to each output pixel of a convolution over small maps,
/// when the dense product suits the geometry (see this file's header).
struct DenseConvolution: Sendable, Hashable {
    /// Input channels, pixels per input map, pixels per output map, taps of the whole kernel.
    let channels: Int, inPixels: Int, outPixels: Int, kernel: Int
    /// `links[q·outPixels + p]`: the tap (`i·kw + j`) through which input pixel q reaches output
    /// pixel p, or -1.
    let links: [Int32]

    /// The dense form of `g`, or nil when im2col would do fewer multiply-adds (more input pixels
    /// than taps in use) or the matrix would exceed twice the weight.
    init?(_ g: ConvGeometry) {
        guard g.inPixels <= g.taps.count, g.inPixels * g.outPixels <= 2 * g.kernelH * g.kernelW else { return nil }
        channels = g.channels; inPixels = g.inPixels; outPixels = g.outPixels; kernel = g.kernelH * g.kernelW
        var links = [Int32](repeating: -1, count: g.inPixels * g.outPixels)
        for oh in 0..<g.outH {
            for ow in 0..<g.outW {
                for i in 0..<g.kernelH {
                    let ih = oh * g.strideH - g.padH + i
                    guard ih >= 0 && ih < g.height else { continue }
                    for j in 0..<g.kernelW {
                        let iw = ow * g.strideW - g.padW + j
                        guard iw >= 0 && iw < g.width else { continue }
                        links[(ih * g.width + iw) * g.outPixels + oh * g.outW + ow] = Int32(i * g.kernelW + j)
                    }
                }
            }
        }
        self.links = links
    }

    /// Columns of the dense matrix, the depth of the forward product: `C·Pin`.
    var depth: Int { channels * inPixels }

    /// Every entry of one channel pair's `Pout × Pin` block of the dense matrix, in the order of
    /// q then p: its offset (`p·C·Pin + q`) from the block's first entry, and the tap it takes
    /// (-1: none, a zero).
    func blockEntries() -> (offsets: [Int], taps: [Int]) {
        var offsets: [Int] = [], taps: [Int] = []
        for q in 0..<inPixels {
            for p in 0..<outPixels {
                offsets.append(p * depth + q)
                taps.append(Int(links[q * outPixels + p]))
            }
        }
        return (offsets, taps)
    }
}

extension Kernels {
    /// The dense matrix `M[Cout·Pout, C·Pin]` of a `[Cout, C, kh, kw]` weight (this file's
    /// header): `out[o·Pout + p, c·Pin + q] = weight[o, c, links[q·Pout + p]]`, 0 where no tap
    /// links the two pixels.
    static func denseConvolutionWeight(
        _ weight: UnsafePointer<Float>, outChannels: Int, _ d: DenseConvolution, _ out: UnsafeMutablePointer<Float>
    ) {
        let (channels, pin, pout, kernel) = (d.channels, d.inPixels, d.outPixels, d.kernel)
        let (offsets, taps) = d.blockEntries()
        let shared = UncheckedSendable((weight, out))
        let parts = min(Threads.count, max(1, outChannels * pout * d.depth / elementwiseParallelThreshold), outChannels)
        offsets.withUnsafeBufferPointer { offsets in
            taps.withUnsafeBufferPointer { taps in
                parallelFor(chunks: parts) { part in
                    let (weight, out) = shared.value
                    // Entry by entry of a channel pair's block, each over every input channel
                    // (an output channel's weight row, 9 KB for 256 channels of 3×3, and its Pout
                    // matrix rows stay in cache): a tight strided copy rather than a loop over
                    // the block's few entries per channel.
                    for o in splitRange(outChannels, parts: parts, part: part) {
                        let rows = out + o * pout * d.depth, row = weight + o * channels * kernel
                        for i in 0..<offsets.count {
                            let dst = rows + offsets[i], t = taps[i]
                            if t >= 0 {
                                let src = row + t
                                for c in 0..<channels { dst[c * pin] = src[c * kernel] }
                            } else {
                                for c in 0..<channels { dst[c * pin] = 0 }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The weight gradient from the dense matrix's, `dM[Cout·Pout, C·Pin]`: `dw[o, c, t]` is the
    /// sum of `dM[o·Pout + p, c·Pin + q]` over the pixel pairs (q, p) tap t links, in the order
    /// of q then p (0 at taps that link none).
    static func denseConvolutionWeightGradient(
        _ dense: UnsafePointer<Float>, outChannels: Int, _ d: DenseConvolution, _ dw: UnsafeMutablePointer<Float>
    ) {
        let (channels, pin, pout, kernel) = (d.channels, d.inPixels, d.outPixels, d.kernel)
        let (offsets, taps) = d.blockEntries()
        let shared = UncheckedSendable((dense, dw))
        let parts = min(Threads.count, max(1, outChannels * pout * d.depth / elementwiseParallelThreshold), outChannels)
        offsets.withUnsafeBufferPointer { offsets in
            taps.withUnsafeBufferPointer { taps in
                parallelFor(chunks: parts) { part in
                    let (dense, dw) = shared.value
                    // As the matrix is built: entry by entry, each over every input channel,
                    // adding into each tap in the same order of entries as one channel at a time.
                    for o in splitRange(outChannels, parts: parts, part: part) {
                        let rows = dense + o * pout * d.depth, row = dw + o * channels * kernel
                        row.initialize(repeating: 0, count: channels * kernel)
                        for i in 0..<offsets.count where taps[i] >= 0 {
                            let src = rows + offsets[i], dst = row + taps[i]
                            for c in 0..<channels { dst[c * kernel] += src[c * pin] }
                        }
                    }
                }
            }
        }
    }
}
