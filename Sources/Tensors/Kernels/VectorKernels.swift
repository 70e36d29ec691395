// Level-1 and level-2 building blocks: dot, axpy, scale, and matrix-vector products.
// Every loop runs on 16-lane SIMD vectors with several accumulators, because Swift never
// reassociates floating-point adds on its own.

extension Kernels {
    /// `sum(a[i] * b[i])` over `count` contiguous elements.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
        var i = 0
        while i + 64 <= count {
            let o = i * 4
            s0 = s0.plusProduct(
                ra.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self),
                rb.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self))
            s1 = s1.plusProduct(
                ra.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self),
                rb.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self))
            s2 = s2.plusProduct(
                ra.loadUnaligned(fromByteOffset: o + 128, as: SIMD16<Float>.self),
                rb.loadUnaligned(fromByteOffset: o + 128, as: SIMD16<Float>.self))
            s3 = s3.plusProduct(
                ra.loadUnaligned(fromByteOffset: o + 192, as: SIMD16<Float>.self),
                rb.loadUnaligned(fromByteOffset: o + 192, as: SIMD16<Float>.self))
            i += 64
        }
        while i + 16 <= count {
            s0 = s0.plusProduct(
                ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self),
                rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
            i += 16
        }
        var total = ((s0 + s1) + (s2 + s3)).sum()
        while i < count { total += a[i] * b[i]; i += 1 }
        return total
    }

    /// `y[i] += alpha * x[i]` over `count` contiguous elements.
    @inline(__always)
    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        let va = SIMD16<Float>(repeating: alpha)
        var i = 0
        while i + 16 <= count {
            let o = i * 4
            let v = ry.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
                .plusProduct(va, rx.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self))
            ry.storeBytes(of: v, toByteOffset: o, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { y[i] += alpha * x[i]; i += 1 }
    }

    /// `x[i] *= factor` over `count` contiguous elements.
    @inline(__always)
    static func scaleInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        let rx = UnsafeMutableRawPointer(x)
        let vf = SIMD16<Float>(repeating: factor)
        var i = 0
        while i + 16 <= count {
            rx.storeBytes(
                of: rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) * vf,
                toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { x[i] *= factor; i += 1 }
    }

    /// `y += alpha * op(A) x`, where `op(A)` is `rows × columns`: `A` itself stored with row
    /// stride `lda` (`trans == false`), or the transpose of a stored `columns × rows` matrix.
    /// `x` has stride `incx`, `y` stride `incy`.
    static func gemv(
        trans: Bool, rows: Int, columns: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>, incx: Int,
        y: UnsafeMutablePointer<Float>, incy: Int, threads: Int
    ) {
        // Gather x into a contiguous buffer once; it is read rows (or columns) times.
        let xs = AlignedBuffer(count: columns)
        defer { xs.free() }
        for j in 0..<columns { xs.pointer[j] = x[j * incx] }
        let shared = UncheckedSendable((a: a, x: UnsafePointer(xs.pointer), y: y))
        let parts = max(1, min(threads, rows / 64))
        parallelFor(chunks: parts) { part in
            let s = shared.value
            let range = splitRange(rows, parts: parts, part: part, granule: 16)
            if range.isEmpty { return }
            if !trans {
                for i in range {
                    s.y[i * incy] += alpha * dot(s.a + i * lda, s.x, columns)
                }
            } else {
                // op(A)[i, j] = a[j * lda + i]: accumulate alpha * x[j] * (row j of A) over j.
                let acc = AlignedBuffer(count: range.count)
                defer { acc.free() }
                acc.pointer.update(repeating: 0, count: range.count)
                for j in 0..<columns {
                    axpy(s.x[j], s.a + j * lda + range.lowerBound, acc.pointer, range.count)
                }
                for (offset, i) in range.enumerated() { s.y[i * incy] += alpha * acc.pointer[offset] }
            }
        }
    }
}
