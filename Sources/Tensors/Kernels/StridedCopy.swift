// Copies between strided layouts: the one loop behind transpose/permute, slicing, slice
// assignment and broadcasting a tensor to a larger shape (stride 0 on broadcast axes).

extension Kernels {
    /// Copies `shape`-many elements: `dst[Σ i_d * dstStrides[d]] = src[Σ i_d * srcStrides[d]]`.
    ///
    /// Axes that are contiguous in both layouts are merged first. When the two innermost axes
    /// are transposed between source and destination, the copy goes in 32×32 tiles so that
    /// both sides stay in cache.
    static func stridedCopy(
        _ src: UnsafePointer<Float>, srcStrides: [Int],
        _ dst: UnsafeMutablePointer<Float>, dstStrides: [Int], shape: [Int]
    ) {
        var sizes: [Int] = [], ss: [Int] = [], ds: [Int] = []
        for d in 0..<shape.count {
            if shape[d] == 0 { return }
            if shape[d] == 1 { continue }
            if let last = sizes.last, ss.last! == srcStrides[d] * shape[d], ds.last! == dstStrides[d] * shape[d] {
                sizes[sizes.count - 1] = last * shape[d]
                ss[ss.count - 1] = srcStrides[d]; ds[ds.count - 1] = dstStrides[d]
            } else {
                sizes.append(shape[d]); ss.append(srcStrides[d]); ds.append(dstStrides[d])
            }
        }
        if sizes.isEmpty { dst[0] = src[0]; return }
        if sizes.count == 1 { copyRow(src, ss[0], dst, ds[0], sizes[0]); return }

        // Treat the last two axes as a 2-D block; loop over the rest with an odometer.
        let n = sizes.count
        let rows = sizes[n - 2], columns = sizes[n - 1]
        let sr = ss[n - 2], sc = ss[n - 1], dr = ds[n - 2], dc = ds[n - 1]
        let outer = Array(sizes[0..<(n - 2)])
        let blocks = outer.reduce(1, *)
        let total = blocks * rows * columns
        let parts = min(Threads.count, max(1, total / elementwiseParallelThreshold), blocks > 1 ? blocks : 1)
        let shared = UncheckedSendable((src, dst))
        parallelFor(chunks: parts) { part in
            let (src, dst) = shared.value
            let range = splitRange(blocks, parts: parts, part: part)
            var index = [Int](repeating: 0, count: outer.count)
            var rest = range.lowerBound, so = 0, dO = 0
            for d in stride(from: outer.count - 1, through: 0, by: -1) {
                index[d] = rest % outer[d]; rest /= outer[d]
                so += index[d] * ss[d]; dO += index[d] * ds[d]
            }
            for _ in range {
                copyBlock(src + so, sr, sc, dst + dO, dr, dc, rows, columns)
                var d = outer.count - 1
                while d >= 0 {
                    index[d] += 1; so += ss[d]; dO += ds[d]
                    if index[d] < outer[d] { break }
                    so -= ss[d] * outer[d]; dO -= ds[d] * outer[d]; index[d] = 0
                    d -= 1
                }
            }
        }
    }

    @inline(__always)
    private static func copyRow(_ src: UnsafePointer<Float>, _ s: Int, _ dst: UnsafeMutablePointer<Float>, _ d: Int, _ count: Int) {
        if s == 1 && d == 1 {
            dst.update(from: src, count: count)
        } else if s == 0 {
            let v = src[0]
            for i in 0..<count { dst[i * d] = v }
        } else {
            for i in 0..<count { dst[i * d] = src[i * s] }
        }
    }

    @inline(__always)
    private static func copyBlock(
        _ src: UnsafePointer<Float>, _ sr: Int, _ sc: Int,
        _ dst: UnsafeMutablePointer<Float>, _ dr: Int, _ dc: Int, _ rows: Int, _ columns: Int
    ) {
        let transposed = sc != 1 && dc == 1 && sr == 1
        if !transposed {
            for r in 0..<rows { copyRow(src + r * sr, sc, dst + r * dr, dc, columns) }
            return
        }
        let tile = 32
        var r0 = 0
        while r0 < rows {
            let r1 = min(rows, r0 + tile)
            var c0 = 0
            while c0 < columns {
                let c1 = min(columns, c0 + tile)
                for r in r0..<r1 {
                    let s = src + r * sr, d = dst + r * dr
                    for c in c0..<c1 { d[c] = s[c * sc] }
                }
                c0 = c1
            }
            r0 = r1
        }
    }
}
