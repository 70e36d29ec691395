import TestSupport
import XCTest
@testable import Tensors

final class GEMMTests: XCTestCase {
    /// Runs our SGEMM and the reference on random operands with padded leading dimensions.
    private func check(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0,
        threads: Int? = nil, file: StaticString = #filePath, line: UInt = #line
    ) {
        let g = RandomGenerator(seed: UInt64(m * 1_000_003 + n * 1009 + k))
        // Leading dimensions larger than the rows, so that strides are exercised too.
        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 5, ldc = n + 2
        let aRows = transA ? k : m, bRows = transB ? n : k
        let a = (0..<(aRows * lda)).map { _ in g.nextUniform() * 2 - 1 }
        let b = (0..<(bRows * ldb)).map { _ in g.nextUniform() * 2 - 1 }
        let c0 = (0..<(m * ldc)).map { _ in g.nextUniform() * 2 - 1 }
        var c = c0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    Kernels.sgemm(
                        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                        a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                        beta: beta, c: pc.baseAddress!, ldc: ldc, threads: threads)
                }
            }
        }
        let expected = Reference.gemm(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c0, ldc: ldc)
        // Padding columns of C (beyond n) must be untouched.
        for i in 0..<m { for j in n..<ldc { XCTAssertEqual(c[i * ldc + j], c0[i * ldc + j], "padding touched", file: file, line: line) } }
        assertClose(
            c, expected, rtol: 1e-4, atol: 1e-4 * Float(max(k, 1)).squareRoot(),
            "transA=\(transA) transB=\(transB) m=\(m) n=\(n) k=\(k)", file: file, line: line)
    }

    func testAllTranspositionsAtAwkwardSizes() {
        let sizes = [1, 7, 17, 63, 129]
        for transA in [false, true] {
            for transB in [false, true] {
                for m in sizes {
                    for n in sizes {
                        for k in [1, 17, 129] { check(transA: transA, transB: transB, m: m, n: n, k: k) }
                    }
                }
            }
        }
    }

    func testSkinnyShapes() {
        for transA in [false, true] {
            for transB in [false, true] {
                check(transA: transA, transB: transB, m: 1000, n: 3, k: 7)
                check(transA: transA, transB: transB, m: 3, n: 1000, k: 7)
                check(transA: transA, transB: transB, m: 1000, n: 3, k: 1000)
                check(transA: transA, transB: transB, m: 3, n: 1000, k: 1000)
                check(transA: transA, transB: transB, m: 7, n: 17, k: 1000)
            }
        }
    }

    func testBlockBoundariesAndBothThreadCounts() {
        // Sizes that cross the depth block (256), the column block (512) and the 12x32 tile.
        for threads in [1, 2] {
            check(transA: false, transB: false, m: 300, n: 530, k: 520, threads: threads)
            check(transA: true, transB: true, m: 301, n: 97, k: 257, threads: threads)
            check(transA: false, transB: true, m: 24, n: 1100, k: 300, threads: threads)
            check(transA: true, transB: false, m: 1000, n: 64, k: 33, threads: threads)
        }
    }

    func testAlphaAndBeta() {
        check(transA: false, transB: false, m: 37, n: 45, k: 29, alpha: 0.5, beta: 2)
        check(transA: true, transB: false, m: 37, n: 1, k: 29, alpha: -1, beta: 1)
        check(transA: false, transB: true, m: 1, n: 45, k: 29, alpha: 2, beta: -0.5)
    }

    func testBetaZeroOverwritesGarbage() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c: [Float] = [.nan, .infinity, .nan, -.infinity]
        Kernels.sgemm(transA: false, transB: false, m: 2, n: 2, k: 2, a: a, lda: 2, b: b, ldb: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [19, 22, 43, 50])
        // The packed path writes C on its first depth block: edge tiles and a second depth block
        // (k > 256) on one and two threads, with NaN where C starts.
        for threads in [1, 2] {
            let (m, n, k) = (30, 70, 300)
            let g = RandomGenerator(seed: 11)
            let a = (0..<(m * k)).map { _ in g.nextUniform() - 0.5 }, b = (0..<(k * n)).map { _ in g.nextUniform() - 0.5 }
            var c = [Float](repeating: .nan, count: m * n)
            Kernels.sgemm(transA: false, transB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n, threads: threads)
            let expected = Reference.gemm(
                transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                beta: 0, c: [Float](repeating: 0, count: m * n), ldc: n)
            assertClose(c, expected, rtol: 1e-4, atol: 1e-4)
        }
    }

    func testZeroDepthScalesC() {
        var c: [Float] = [1, 2, 3]
        Kernels.sgemm(transA: false, transB: false, m: 1, n: 3, k: 0, a: [], lda: 1, b: [], ldb: 3, beta: 2, c: &c, ldc: 3)
        XCTAssertEqual(c, [2, 4, 6])
    }

    func testThreadCountsGiveTheSameResult() {
        let a = Tensor.randn([200, 300], generator: RandomGenerator(seed: 1))
        let b = Tensor.randn([300, 400], generator: RandomGenerator(seed: 2))
        let saved = Threads.count
        defer { Threads.count = saved }
        Threads.count = 1
        let one = a.matmul(b)
        Threads.count = 2
        let two = a.matmul(b)
        XCTAssertEqual(one, two, "each element is summed in the same order whatever the thread count")
    }

    /// A prepacked A gives exactly what `sgemm` gives on the unpacked one: partial panels, depth
    /// over one block (and a partial last block), columns of B and C with padded strides, both
    /// thread counts, zero depth. (A single row or column, which `sgemm` hands to `gemv`, is
    /// compared within rounding.)
    func testPrepackedAIsBitIdenticalToSGEMM() {
        for (m, n, k) in [(1, 5, 3), (13, 70, 300), (64, 1, 49), (130, 33, 513), (512, 64, 512), (5, 9, 0)] {
            for threads in [1, 2] {
                let g = RandomGenerator(seed: UInt64(m * 7 + n * 11 + k))
                let ldb = n + 3, ldc = n + 1
                let a = (0..<(m * k)).map { _ in g.nextUniform() * 2 - 1 }
                let b = (0..<(k * ldb)).map { _ in g.nextUniform() * 2 - 1 }
                var expected = [Float](repeating: .nan, count: m * ldc), packed = expected
                Kernels.sgemm(
                    transA: false, transB: false, m: m, n: n, k: k, a: a, lda: max(k, 1), b: b, ldb: ldb,
                    c: &expected, ldc: ldc, threads: threads)
                let panels = a.withUnsafeBufferPointer { Kernels.PackedPanels($0.baseAddress ?? UnsafePointer(bitPattern: 64)!, lda: k, rows: m, depth: k) }
                b.withUnsafeBufferPointer { pb in
                    packed.withUnsafeMutableBufferPointer { pc in
                        Kernels.sgemm(packed: panels, n: n, b: pb.baseAddress!, ldb: ldb, c: pc.baseAddress!, ldc: ldc, threads: threads)
                    }
                }
                for i in 0..<m {
                    for j in 0..<n {
                        XCTAssertEqual(
                            packed[i * ldc + j], expected[i * ldc + j], accuracy: m == 1 || n == 1 ? 1e-5 : 0,
                            "m=\(m) n=\(n) k=\(k) threads=\(threads) at (\(i), \(j))")
                    }
                    XCTAssertTrue(packed[i * ldc + n].isNaN, "padding column touched")
                }
            }
        }
    }
}
