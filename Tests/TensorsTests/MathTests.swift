import Foundation
import TestSupport
import XCTest
@testable import Tensors

final class MathTests: XCTestCase {
    /// Values over the ranges the functions are used on, plus edge values.
    let inputs: [Float] =
        stride(from: -20, through: 20, by: 0.0137).map { Float($0) }
        + [0, -0.0, 1e-8, -1e-8, 1e-30, 88, 88.7, 89, 100, -87, -100, -104, -200, 1e-38, Float.leastNormalMagnitude / 4, Float.leastNonzeroMagnitude]

    private func check(
        _ actual: Tensor, _ f: (Double) -> Double, on values: [Float], rtol: Float = 2e-6,
        atol: Float = 1e-37, _ name: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        let expected = values.map { Float(f(Double($0))) }
        assertClose(actual.scalars, expected, rtol: rtol, atol: atol, name, file: file, line: line)
    }

    func testExpLogAgainstLibm() {
        let x = Tensor(inputs)
        check(x.exp(), Foundation.exp, on: inputs, "exp")
        let positive = inputs.map { Swift.abs($0) } + [Float.leastNonzeroMagnitude, Float.greatestFiniteMagnitude]
        check(Tensor(positive).log(), Foundation.log, on: positive, atol: 1e-6, "log")
        XCTAssertEqual(
            Tensor([0, -1, .infinity, -.infinity, .nan]).log().scalars.map { $0.isNaN ? 99 : $0 },
            [-.infinity, 99, .infinity, 99, 99])
        XCTAssertEqual(Tensor([-.infinity, .infinity]).exp().scalars, [0, .infinity])
        XCTAssertTrue(Tensor([.nan]).exp().item().isNaN)
    }

    func testTanhSigmoidAgainstLibm() {
        let x = Tensor(inputs)
        check(x.tanh(), Foundation.tanh, on: inputs, rtol: 4e-6, atol: 1e-7, "tanh")
        check(x.sigmoid(), { 1 / (1 + Foundation.exp(-$0)) }, on: inputs, rtol: 4e-6, atol: 1e-37, "sigmoid")
        XCTAssertEqual(Tensor([-.infinity, .infinity]).tanh().scalars, [-1, 1])
        XCTAssertEqual(Tensor([-.infinity, .infinity]).sigmoid().scalars, [0, 1])
    }

    func testSimpleFunctions() {
        let x = Tensor([-2, -0.5, 0, 0.5, 4])
        XCTAssertEqual(x.abs(), Tensor([2, 0.5, 0, 0.5, 4]))
        XCTAssertEqual(x.relu(), Tensor([0, 0, 0, 0.5, 4]))
        XCTAssertEqual(x.square(), Tensor([4, 0.25, 0, 0.25, 16]))
        XCTAssertEqual(x.sign(), Tensor([-1, -1, 0, 1, 1]))
        XCTAssertEqual(Tensor([4, 9, 0.25]).sqrt(), Tensor([2, 3, 0.5]))
        XCTAssertEqual(x.clamp(min: -1, max: 1), Tensor([-1, -0.5, 0, 0.5, 1]))
        XCTAssertEqual(x.clamp(min: 0), x.relu())
        var y = x
        y.clampInPlace(max: 0)
        XCTAssertEqual(y, Tensor([-2, -0.5, 0, 0, 0]))
        XCTAssertTrue(Tensor([.nan]).relu().item().isNaN, "relu keeps NaN, as PyTorch")
        XCTAssertTrue(Tensor([.nan]).clamp(min: 0, max: 1).item().isNaN)
    }

    func testPow() {
        let x = Tensor([-2, -0.5, 0, 0.5, 3])
        assertClose(x.pow(2), Tensor([4, 0.25, 0, 0.25, 9]))
        assertClose(x.pow(3), Tensor([-8, -0.125, 0, 0.125, 27]), rtol: 1e-5)
        assertClose(Tensor([4, 0.25]).pow(0.5), Tensor([2, 0.5]))
        assertClose(Tensor([2, 3]).pow(-1), Tensor([0.5, 1.0 / 3]), rtol: 1e-5)
        assertClose(Tensor([8, 2]).pow(1.0 / 3), Tensor([2, Float(Foundation.pow(2.0, 1.0 / 3))]), rtol: 1e-5)
        let p = Tensor([-2, 0, 2]).pow(Tensor([0.5, -1, 0]))
        XCTAssertTrue(p[0].item().isNaN)
        XCTAssertEqual(p[1].item(), .infinity)
        XCTAssertEqual(p[2].item(), 1)
        let g = RandomGenerator(seed: 2)
        let base = Tensor.uniform([500], 0.01, 10, generator: g), exponent = Tensor.uniform([500], -3, 3, generator: g)
        let expected = zip(base.scalars, exponent.scalars).map { Float(Foundation.pow(Double($0), Double($1))) }
        assertClose(base.pow(exponent).scalars, expected, rtol: 1e-5)
    }

    func testMaximumMinimumPropagateNaN() {
        XCTAssertTrue(Tensor.maximum(Tensor([.nan]), Tensor([1])).item().isNaN)
        XCTAssertTrue(Tensor.maximum(Tensor([1]), Tensor([.nan])).item().isNaN)
        XCTAssertTrue(Tensor.minimum(Tensor([1]), Tensor([.nan])).item().isNaN)
        XCTAssertEqual(Tensor.maximum(Tensor([1, 5]), 3), Tensor([3, 5]))
        XCTAssertEqual(Tensor.minimum(Tensor([1, 5]), 3), Tensor([1, 3]))
    }
}
