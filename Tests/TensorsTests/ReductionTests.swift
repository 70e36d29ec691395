import TestSupport
import XCTest
@testable import Tensors

final class ReductionTests: XCTestCase {
    let m = Tensor([[1, 5, 3], [4, 2, 6]])

    func testByHand() {
        XCTAssertEqual(m.sum().item(), 21)
        XCTAssertEqual(m.sum().shape, [])
        XCTAssertEqual(m.sum(dim: 0), Tensor([5, 7, 9]))
        XCTAssertEqual(m.sum(dim: 1), Tensor([9, 12]))
        XCTAssertEqual(m.sum(dim: -1, keepDim: true), Tensor([[9], [12]]))
        XCTAssertEqual(m.sum(keepDim: true).shape, [1, 1])
        XCTAssertEqual(m.mean().item(), 3.5)
        XCTAssertEqual(m.mean(dim: 0), Tensor([2.5, 3.5, 4.5]))
        XCTAssertEqual(m.max().item(), 6)
        XCTAssertEqual(m.max(dim: 1), Tensor([5, 6]))
        XCTAssertEqual(m.min(dim: 0), Tensor([1, 2, 3]))
        XCTAssertEqual(m.argmax().item(), 5)
        XCTAssertEqual(m.argmax(dim: 1), Tensor([1, 2]))
        XCTAssertEqual(m.argmin(dim: 0), Tensor([0, 1, 0]))
        XCTAssertEqual(m.argmax(dim: 0, keepDim: true), Tensor([[1, 0, 1]]))
        XCTAssertEqual(Tensor([2, 7, 7, 1]).argmax().item(), 1, "ties go to the first")
        XCTAssertEqual(Tensor([2, .nan, 7]).argmax().item(), 1, "NaN counts as the maximum")
        XCTAssertTrue(Tensor([2, .nan, 7]).max().item().isNaN)
        XCTAssertEqual(m.sum(dims: [0, 1]).item(), 21)
        XCTAssertEqual(Tensor.zeros([2, 3, 4]).sum(dims: [0, 2]).shape, [3])
        XCTAssertEqual(Tensor.zeros([0]).sum().item(), 0)
    }

    func testVarianceAndStd() {
        let x = Tensor([2, 4, 4, 4, 5, 5, 7, 9])
        XCTAssertEqual(x.variance(unbiased: false).item(), 4)
        assertClose(x.variance().item(), 32.0 / 7)
        XCTAssertEqual(x.std(unbiased: false).item(), 2)
        assertClose(m.variance(dim: 1), Tensor([4, 4]))
        assertClose(m.std(dim: 0, keepDim: true), Tensor([[2.1213203, 2.1213203, 2.1213203]]))
    }

    func testAgainstReferenceOnRandomTensors() {
        let g = RandomGenerator(seed: 4)
        for shape in [[7], [5, 9], [3, 17, 33], [4, 1, 6], [2, 3, 4, 5], [64, 100]] {
            let t = Tensor.randn(shape, generator: g)
            for dim in 0..<shape.count {
                assertClose(t.sum(dim: dim), Reference.reduce(t, dim: dim) { $0.reduce(0, +) }, rtol: 1e-5, atol: 1e-5, "sum \(shape) \(dim)")
                assertClose(t.max(dim: dim), Reference.reduce(t, dim: dim) { $0.max()! }, "max \(shape) \(dim)")
                assertClose(t.min(dim: dim), Reference.reduce(t, dim: dim) { $0.min()! }, "min \(shape) \(dim)")
                assertClose(t.argmax(dim: dim), Reference.reduce(t, dim: dim) { Float($0.firstIndex(of: $0.max()!)!) }, "argmax \(shape) \(dim)")
                assertClose(t.argmin(dim: dim), Reference.reduce(t, dim: dim) { Float($0.firstIndex(of: $0.min()!)!) }, "argmin \(shape) \(dim)")
            }
        }
    }

    func testLongSumsAreAccurate() {
        // A million values split over threads: the blocked sum stays close to the exact one.
        let t = Tensor.uniform([1_000_003], 0, 1, generator: RandomGenerator(seed: 8))
        let exact = t.scalars.reduce(0.0) { $0 + Double($1) }
        XCTAssertEqual(Double(t.sum().item()), exact, accuracy: exact * 1e-6)
        XCTAssertEqual(Double(t.mean().item()), exact / 1_000_003, accuracy: 1e-6)
        XCTAssertEqual(t.max().item(), t.scalars.max()!)
    }
}
