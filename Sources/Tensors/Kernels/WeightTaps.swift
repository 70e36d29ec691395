// A convolution weight's taps gathered into the GEMM's matrix (only the taps that see the input),
// and the weight gradient scattered back.

extension Kernels {
    /// Gathers T of a `[Cout, C, kernel]` weight's taps (`positions[j]` in each weight row) into
    /// the matrix a convolution's GEMM multiplies: `out[o, c·T + j] = weight[o, c, positions[j]]`
    /// (`[Cout, C·T]`, the taps in use), or with `swapChannels`
    /// `out[c, o·T + j] = weight[o, c, positions[j]]` (`[C, Cout·T]`: with the positions of the
    /// taps rotated by 180°, the weight that maps a shifted-copy convolution's output gradient
    /// to its input gradient).
    static func gatherTaps(
        _ weight: UnsafePointer<Float>, outChannels: Int, channels: Int, kernel: Int,
        positions: [Int], swapChannels: Bool = false, _ out: UnsafeMutablePointer<Float>
    ) {
        let t = positions.count
        let shared = UncheckedSendable((weight, out))
        let units = swapChannels ? channels : outChannels
        let parts = min(Threads.count, max(1, outChannels * channels * kernel / elementwiseParallelThreshold), units)
        positions.withUnsafeBufferPointer { tapList in
            parallelFor(chunks: parts) { part in
                let (weight, out) = shared.value
                // Each thread writes whole rows of `out`, 16 at a time: with swapped channels the
                // 16 rows' sources are side by side in the weight, so it is read in order (row by
                // row it would be read with a stride of a whole weight row, a cache miss each).
                let rows = splitRange(units, parts: parts, part: part)
                for first in stride(from: rows.lowerBound, to: rows.upperBound, by: 16) {
                    let block = first..<min(first + 16, rows.upperBound)
                    for other in 0..<(swapChannels ? outChannels : channels) {
                        for row in block {
                            let (o, c) = swapChannels ? (other, row) : (row, other)
                            let src = weight + (o * channels + c) * kernel
                            let dst = out + (swapChannels ? c * outChannels + o : o * channels + c) * t
                            for j in 0..<t { dst[j] = src[tapList[j]] }
                        }
                    }
                }
            }
        }
    }

    /// `out[o, c, taps[j]] = src[c·T + j, o]`, zero at the other taps: the weight gradient the
    /// GEMM gives as `dWᵀ[C·T, Cout]`, transposed back to the weight's `[Cout, C, kh·kw]`.
    static func scatterTransposedTaps(
        _ src: UnsafePointer<Float>, outChannels: Int, channels: Int, kernel: Int,
        taps: [Int], _ out: UnsafeMutablePointer<Float>
    ) {
        let t = taps.count, block = 16
        let blocks = (outChannels + block - 1) / block
        let shared = UncheckedSendable((src, out))
        let parts = min(Threads.count, max(1, outChannels * channels * kernel / elementwiseParallelThreshold), blocks)
        taps.withUnsafeBufferPointer { tapList in
            parallelFor(chunks: parts) { part in
                let (src, out) = shared.value
                for b in splitRange(blocks, parts: parts, part: part) {
                    // 16 output channels at a time: each source row gives 16 contiguous values,
                    // written to 16 weight rows that all advance in step.
                    let o0 = b * block, width = min(block, outChannels - o0)
                    if t < kernel { (out + o0 * channels * kernel).update(repeating: 0, count: width * channels * kernel) }
                    for c in 0..<channels {
                        for j in 0..<t {
                            let from = src + (c * t + j) * outChannels + o0
                            let to = out + (o0 * channels + c) * kernel + tapList[j]
                            for o in 0..<width { to[o * channels * kernel] = from[o] }
                        }
                    }
                }
            }
        }
    }
}
