import Foundation
import TestSupport
import XCTest
@testable import Tensors

final class ArithmeticTests: XCTestCase {
    func testByHand() {
        let a = Tensor([[1, 2], [3, 4]]), b = Tensor([[10, 20], [30, 40]])
        XCTAssertEqual(a + b, Tensor([[11, 22], [33, 44]]))
        XCTAssertEqual(b - a, Tensor([[9, 18], [27, 36]]))
        XCTAssertEqual(a * b, Tensor([[10, 40], [90, 160]]))
        XCTAssertEqual(b / a, Tensor([[10, 10], [10, 10]]))
        XCTAssertEqual(a + 1, Tensor([[2, 3], [4, 5]]))
        XCTAssertEqual(1 - a, Tensor([[0, -1], [-2, -3]]))
        XCTAssertEqual(2 * a, a * 2)
        XCTAssertEqual(12 / a, Tensor([[12, 6], [4, 3]]))
        XCTAssertEqual(a / 2, Tensor([[0.5, 1], [1.5, 2]]))
        XCTAssertEqual(-a, Tensor([[-1, -2], [-3, -4]]))
    }

    func testBroadcastingByHand() {
        let m = Tensor([[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(m + Tensor([10, 20, 30]), Tensor([[11, 22, 33], [14, 25, 36]]))
        XCTAssertEqual(m + Tensor([[100], [200]]), Tensor([[101, 102, 103], [204, 205, 206]]))
        XCTAssertEqual(Tensor([[1], [2]]) * Tensor([1, 10, 100]), Tensor([[1, 10, 100], [2, 20, 200]]))
        XCTAssertEqual((m + Tensor(1)).shape, [2, 3])
        XCTAssertEqual((Tensor.zeros([3, 1, 2]) + Tensor.zeros([4, 1])).shape, [3, 4, 2])
    }

    func testBroadcastShapeRules() {
        XCTAssertEqual(broadcastShape([2, 3], [3]), [2, 3])
        XCTAssertEqual(broadcastShape([5, 1, 4], [3, 1]), [5, 3, 4])
        XCTAssertEqual(broadcastShape([], [2, 2]), [2, 2])
        XCTAssertEqual(broadcastShape([0], [1]), [0])
        XCTAssertNil(broadcastShape([2, 3], [4]))
        XCTAssertNil(broadcastShape([2, 3], [3, 2]))
        XCTAssertNil(broadcastShape([0], [2]))
    }

    func testShapeErrorMessageNamesOpAndShapes() {
        XCTAssertEqual(shapeMismatchMessage(op: "add", [2, 3], [4]), "add: shapes [2, 3] and [4] cannot be broadcast together")
        XCTAssertEqual(
            shapeMismatchMessage(op: "matmul", [2, 3], [4, 5], reason: "cannot be multiplied (2x3 and 4x5)"),
            "matmul: shapes [2, 3] and [4, 5] cannot be multiplied (2x3 and 4x5)")
    }

    /// Random shapes that broadcast, against the element-by-element reference.
    func testBroadcastingAgainstReference() {
        let g = RandomGenerator(seed: 11)
        let pairs: [([Int], [Int])] = [
            ([4, 5], [4, 5]), ([4, 5], [5]), ([4, 5], [4, 1]), ([3, 1, 5], [1, 4, 1]), ([2, 3, 4, 5], [3, 1, 5]),
            ([1], [7, 3]), ([7, 1, 1], [1, 1, 9]), ([6, 40], [1, 40]), ([33, 17], [17]), ([2, 1, 300], [2, 5, 300]),
        ]
        for (sa, sb) in pairs {
            let a = Tensor.randn(sa, generator: g), b = Tensor.randn(sb, generator: g) + 3
            assertClose(a + b, Reference.broadcast(a, b, +), "\(sa) + \(sb)")
            assertClose(a - b, Reference.broadcast(a, b, -), "\(sa) - \(sb)")
            assertClose(b - a, Reference.broadcast(b, a, -), "\(sb) - \(sa)")
            assertClose(a * b, Reference.broadcast(a, b, *), "\(sa) * \(sb)")
            assertClose(a / b, Reference.broadcast(a, b, /), "\(sa) / \(sb)")
            assertClose(Tensor.maximum(a, b), Reference.broadcast(a, b, Swift.max), "maximum \(sa) \(sb)")
            assertClose(Tensor.minimum(a, b), Reference.broadcast(a, b, Swift.min), "minimum \(sa) \(sb)")
            assertClose(a .< b, Reference.broadcast(a, b) { $0 < $1 ? 1 : 0 }, "\(sa) < \(sb)")
        }
    }

    func testLargeOperandsUseThreadsAndAgree() {
        // Big enough to be split over threads; each element must still be right.
        let g = RandomGenerator(seed: 12)
        let a = Tensor.randn([700, 600], generator: g), b = Tensor.randn([600], generator: g)
        let sum = a + b
        for (i, j) in [(0, 0), (699, 599), (350, 17)] {
            XCTAssertEqual(sum[i, j].item(), a[i, j].item() + b[j].item())
        }
        assertClose((a * 2).scalars, a.scalars.map { $0 * 2 })
    }

    func testInPlace() {
        var a = Tensor([[1, 2], [3, 4]])
        let alias = a
        a += Tensor([10, 20])
        XCTAssertEqual(a, Tensor([[11, 22], [13, 24]]))
        a -= 1
        a *= Tensor([[2], [3]])
        a /= 2
        XCTAssertEqual(a, Tensor([[10, 21], [18, 34.5]]))
        XCTAssertEqual(alias, Tensor([[1, 2], [3, 4]]), "copy-on-write keeps the other value intact")
    }

    func testComparisonsAndWhere() {
        let a = Tensor([1, 2, 3, .nan]), b = Tensor([3, 2, 1, 0])
        XCTAssertEqual(a .== b, Tensor([0, 1, 0, 0]))
        XCTAssertEqual(a .!= b, Tensor([1, 0, 1, 1]))
        XCTAssertEqual(a .< b, Tensor([1, 0, 0, 0]))
        XCTAssertEqual(a .<= b, Tensor([1, 1, 0, 0]))
        XCTAssertEqual(a .> b, Tensor([0, 0, 1, 0]))
        XCTAssertEqual(a .>= b, Tensor([0, 1, 1, 0]))
        XCTAssertEqual(a .> 1.5, Tensor([0, 1, 1, 0]))
        // The seeds' mnist_loss: torch.where(targets==1, 1-predictions, predictions).mean()
        let targets = Tensor([1, 0, 1]), predictions = Tensor([0.9, 0.4, 0.2])
        let loss = Tensor.where(targets .== 1, 1 - predictions, predictions)
        assertClose(loss, Tensor([0.1, 0.4, 0.8]))
        assertClose(loss.mean().item(), 1.3 / 3)
        XCTAssertEqual(Tensor.where(Tensor([[1], [0]]), Tensor([1, 2]), -1), Tensor([[1, 2], [-1, -1]]))
        XCTAssertEqual(Tensor.where(Tensor([1, 0]), 5, 6), Tensor([5, 6]))
    }
}
