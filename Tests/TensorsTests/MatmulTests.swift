import TestSupport
import XCTest
@testable import Tensors

final class MatmulTests: XCTestCase {
    /// matmul of two matrices, element by element.
    private func naive(_ a: Tensor, _ b: Tensor) -> Tensor {
        let (n, k, m) = (a.shape[0], a.shape[1], b.shape[1])
        let av = a.scalars, bv = b.scalars
        var out = [Float](repeating: 0, count: n * m)
        for i in 0..<n {
            for j in 0..<m {
                var s = 0.0
                for p in 0..<k { s += Double(av[i * k + p]) * Double(bv[p * m + j]) }
                out[i * m + j] = Float(s)
            }
        }
        return Tensor(shape: [n, m], scalars: out)
    }

    func testByHand() {
        let a = Tensor([[1, 2], [3, 4]]), b = Tensor([[5, 6], [7, 8]])
        XCTAssertEqual(a • b, Tensor([[19, 22], [43, 50]]))
        XCTAssertEqual(a.matmul(Tensor([1, 1])), Tensor([3, 7]))
        XCTAssertEqual(Tensor([1, 1]).matmul(a), Tensor([4, 6]))
        XCTAssertEqual(Tensor([1, 2, 3]) • Tensor([4, 5, 6]), Tensor(32))
        XCTAssertEqual(a.matmul(b, transposeSelf: true, transposeOther: false), a.T • b)
        XCTAssertEqual(a.matmul(b, transposeSelf: false, transposeOther: true), a • b.T)
        XCTAssertEqual(a.matmul(b, transposeSelf: true, transposeOther: true), a.T • b.T)
    }

    func testSeedLinearModel() {
        // The seeds' `x@a` with x of shape [n, 2] and a of shape [2]: a vector of predictions.
        let x = Tensor.randn([100, 2], generator: RandomGenerator(seed: 1))
        let a = Tensor([3, 10])
        let y = x • a
        XCTAssertEqual(y.shape, [100])
        assertClose(y, x[..., 0] * 3 + x[..., 1] * 10, rtol: 1e-5, atol: 1e-5)
    }

    func testRandomMatricesAgainstNaive() {
        let g = RandomGenerator(seed: 2)
        for (n, k, m) in [(1, 1, 1), (5, 7, 3), (64, 100, 33), (130, 257, 70)] {
            let a = Tensor.randn([n, k], generator: g), b = Tensor.randn([k, m], generator: g)
            assertClose(a • b, naive(a, b), rtol: 1e-4, atol: 1e-4)
            assertClose(a.T.matmul(b, transposeSelf: true, transposeOther: false), naive(a, b), rtol: 1e-4, atol: 1e-4)
            assertClose(a.matmul(b.T, transposeSelf: false, transposeOther: true), naive(a, b), rtol: 1e-4, atol: 1e-4)
        }
    }

    func testBatchedWithBroadcasting() {
        let g = RandomGenerator(seed: 3)
        let a = Tensor.randn([2, 3, 4, 5], generator: g)
        let b = Tensor.randn([3, 5, 6], generator: g)
        let c = a • b
        XCTAssertEqual(c.shape, [2, 3, 4, 6])
        for i in 0..<2 {
            for j in 0..<3 {
                assertClose(c[i, j], naive(a[i, j], b[j]), rtol: 1e-4, atol: 1e-5)
            }
        }
        // A batch against one matrix folds into a single GEMM.
        let w = Tensor.randn([5, 2], generator: g)
        let d = a • w
        XCTAssertEqual(d.shape, [2, 3, 4, 2])
        assertClose(d[1, 2], naive(a[1, 2], w), rtol: 1e-4, atol: 1e-5)
        // A matrix against a batch broadcasts the matrix.
        let e = Tensor.randn([4, 5], generator: g) • b
        XCTAssertEqual(e.shape, [3, 4, 6])
        // Batched with a transposed operand.
        let f = a.matmul(Tensor.randn([3, 6, 5], generator: g), transposeSelf: false, transposeOther: true)
        XCTAssertEqual(f.shape, [2, 3, 4, 6])
        // Batched matrix-vector.
        XCTAssertEqual((a • Tensor.ones([5])).shape, [2, 3, 4])
        assertClose((a • Tensor.ones([5]))[0, 0], a[0, 0].sum(dim: 1), rtol: 1e-5, atol: 1e-5)
    }
}
