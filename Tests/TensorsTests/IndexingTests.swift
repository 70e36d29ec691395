import TestSupport
import XCTest
@testable import Tensors

final class IndexingTests: XCTestCase {
    let m = Tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])

    func testReading() {
        XCTAssertEqual(m[0], Tensor([1, 2, 3]))
        XCTAssertEqual(m[-1], Tensor([7, 8, 9]))
        XCTAssertEqual(m[1, 2].item(), 6)
        XCTAssertEqual(m[1, 2].shape, [])
        XCTAssertEqual(m[0..<2], Tensor([[1, 2, 3], [4, 5, 6]]))
        XCTAssertEqual(m[1...], Tensor([[4, 5, 6], [7, 8, 9]]))
        XCTAssertEqual(m[..<1].shape, [1, 3])
        XCTAssertEqual(m[..., 0], Tensor([1, 4, 7]))
        XCTAssertEqual(m[..., 1..<3], Tensor([[2, 3], [5, 6], [8, 9]]))
        XCTAssertEqual(m[.all, 1], Tensor([2, 5, 8]))
        XCTAssertEqual(m[.range(1..<3), .from(1)], Tensor([[5, 6], [8, 9]]))
        XCTAssertEqual(m[[2, 0, 2]], Tensor([[7, 8, 9], [1, 2, 3], [7, 8, 9]]))
        XCTAssertEqual(m[[-1]], Tensor([[7, 8, 9]]))
    }

    func testMasks() {
        XCTAssertEqual(m[mask: m .> 4], Tensor([5, 6, 7, 8, 9]))
        XCTAssertEqual(m[mask: Tensor([1, 0, 1])], Tensor([[1, 2, 3], [7, 8, 9]]))
        var t = m
        t[mask: t .> 4] = Tensor(0)
        XCTAssertEqual(t, Tensor([[1, 2, 3], [4, 0, 0], [0, 0, 0]]))
    }

    func testAssignment() {
        var t = m
        t[0] = Tensor([0, 0, 0])
        t[..., 2] = Tensor(-1)
        t[1, 1] = Tensor(50)
        XCTAssertEqual(t, Tensor([[0, 0, -1], [4, 50, -1], [7, 8, -1]]))
        t[1...] = Tensor([10, 20, 30])
        XCTAssertEqual(t, Tensor([[0, 0, -1], [10, 20, 30], [10, 20, 30]]))
        t[[0, 2]] = Tensor([[1, 1, 1], [2, 2, 2]])
        XCTAssertEqual(t, Tensor([[1, 1, 1], [10, 20, 30], [2, 2, 2]]))
        XCTAssertEqual(m, Tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), "the original is untouched (copy-on-write)")
    }

    func testInPlaceThroughSubscript() {
        // The twin of PyTorch's `w[:, 0].uniform_(-1, 1)`.
        var w = Tensor.zeros([4, 3])
        w[..., 0].uniformInPlace(-1, 1, generator: RandomGenerator(seed: 1))
        XCTAssertTrue(w[..., 0].scalars.allSatisfy { $0 != 0 && $0 >= -1 && $0 < 1 })
        XCTAssertEqual(w[..., 1..<3], Tensor.zeros([4, 2]))
        w[1] += Tensor(5)
        XCTAssertEqual(w[1, 2].item(), 5)
    }
}
