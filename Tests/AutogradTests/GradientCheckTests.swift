import TestSupport
import XCTest
@testable import Autograd
@testable import Tensors

/// A finite-difference check of every differentiable op, broadcasting included.
final class GradientCheckTests: XCTestCase {
    let g = RandomGenerator(seed: 99)
    func r(_ shape: [Int], _ low: Float = -2, _ high: Float = 2) -> Tensor { Tensor.uniform(shape, low, high, generator: g) }
    /// Values kept away from 0, where abs, relu and friends have kinks.
    func away(_ shape: [Int]) -> Tensor { Tensor.where(r(shape) .> 0, r(shape, 0.3, 2), r(shape, -2, -0.3)) }

    func check(
        _ name: String, _ inputs: [Tensor], eps: Float = 1e-2, file: StaticString = #filePath, line: UInt = #line,
        _ f: @escaping ([Tensor]) -> Tensor
    ) {
        let result = checkGradients(of: f, at: inputs, eps: eps)
        XCTAssertTrue(result.passed, "\(name): \(result)", file: file, line: line)
    }

    func testArithmeticWithBroadcasting() {
        check("add", [r([3, 4]), r([4])]) { $0[0] + $0[1] }
        check("sub", [r([3, 1]), r([1, 4])]) { $0[0] - $0[1] }
        check("mul", [r([2, 3, 4]), r([3, 1])]) { $0[0] * $0[1] }
        check("div", [r([3, 4]), r([4], 0.5, 2)]) { $0[0] / $0[1] }
        check("scalar ops", [r([5])]) { (2 * $0[0] + 1 - 3) / 4 - $0[0] * 0.5 }
        check("rsub", [r([5])]) { 1 - $0[0] }
        check("scalar / x", [r([5], 0.5, 2)]) { 3 / $0[0] }
        check("neg", [r([5])]) { -$0[0] }
    }

    func testUnaryMath() {
        check("exp", [r([6])]) { $0[0].exp() }
        check("log", [r([6], 0.5, 3)]) { $0[0].log() }
        check("sqrt", [r([6], 0.5, 3)]) { $0[0].sqrt() }
        check("abs", [away([6])]) { $0[0].abs() }
        check("sigmoid", [r([6])]) { $0[0].sigmoid() }
        check("relu", [away([6])]) { $0[0].relu() }
        check("tanh", [r([6])]) { $0[0].tanh() }
        check("square", [r([6])]) { $0[0].square() }
        check("pow scalar", [r([6], 0.5, 2)]) { $0[0].pow(2.5) }
        check("pow tensor", [r([2, 3], 0.5, 2), r([3], -1, 2)]) { $0[0].pow($0[1]) }
        check("clamp", [away([8])]) { $0[0].clamp(min: -1.1, max: 1.3) }
        check("maximum", [r([3, 4]), r([4])]) { Tensor.maximum($0[0], $0[1]) }
        check("minimum", [r([3, 4]), r([3, 1])]) { Tensor.minimum($0[0], $0[1]) }
        check("maximum scalar", [away([6])]) { Tensor.maximum($0[0], 0.1) }
        check("minimum scalar", [away([6])]) { Tensor.minimum($0[0], 0.1) }
    }

    func testWhereAndMnistLoss() {
        let cond = Tensor([1, 0, 1, 0])
        check("where", [r([4]), r([1])]) { Tensor.where(cond, $0[0], $0[1]) }
        let targets = Tensor([1, 0, 1, 1, 0])
        check("mnist_loss", [r([5])]) { xs in
            let p = xs[0].sigmoid()
            return Tensor.where(targets .== 1, 1 - p, p).mean()
        }
    }

    func testReductions() {
        check("sum all", [r([3, 4])]) { $0[0].sum() }
        check("sum dim", [r([3, 4, 2])]) { $0[0].sum(dim: 1) }
        check("sum keepDim", [r([3, 4])]) { $0[0].sum(dim: -1, keepDim: true) }
        check("sum dims", [r([3, 4, 2])]) { $0[0].sum(dims: [0, 2]) }
        check("mean", [r([3, 4])]) { $0[0].mean(dim: 0) }
        check("max", [r([3, 5])]) { $0[0].max(dim: 1) }
        check("min all", [r([3, 5])]) { $0[0].min() }
        check("variance", [r([4, 5])]) { $0[0].variance(dim: 1) }
        check("std", [r([4, 5])]) { $0[0].std() }
    }

    func testMatmul() {
        check("mm", [r([3, 4]), r([4, 5])]) { $0[0] • $0[1] }
        check("mv", [r([3, 4]), r([4])]) { $0[0] • $0[1] }
        check("vm", [r([4]), r([4, 5])]) { $0[0] • $0[1] }
        check("vv", [r([4]), r([4])]) { $0[0] • $0[1] }
        check("batched", [r([2, 3, 4]), r([2, 4, 2])]) { $0[0] • $0[1] }
        check("batch broadcast", [r([2, 3, 4]), r([4, 2])]) { $0[0] • $0[1] }
        check("matrix against batch", [r([3, 4]), r([2, 4, 2])]) { $0[0] • $0[1] }
        check("transposed A", [r([4, 3]), r([4, 5])]) { $0[0].matmul($0[1], transposeSelf: true, transposeOther: false) }
        check("transposed B", [r([3, 4]), r([5, 4])]) { $0[0].matmul($0[1], transposeSelf: false, transposeOther: true) }
        check("both transposed", [r([4, 3]), r([5, 4])]) { $0[0].matmul($0[1], transposeSelf: true, transposeOther: true) }
        check("batch, transposed B", [r([2, 3, 4]), r([5, 4])]) { $0[0].matmul($0[1], transposeSelf: false, transposeOther: true) }
    }

    func testShapeOps() {
        check("reshape", [r([2, 6])]) { $0[0].reshape([3, -1]) * Tensor.arange(12).reshape([3, 4]) }
        check("permute", [r([2, 3, 4])]) { $0[0].permute([2, 0, 1]) * Tensor.arange(24).reshape([4, 2, 3]) }
        check("transpose", [r([2, 3])]) { $0[0].T * Tensor.arange(6).reshape([3, 2]) }
        check("expand", [r([3, 1])]) { $0[0].expand(to: [2, 3, 4]) * Tensor.arange(24).reshape([2, 3, 4]) }
        check("cat", [r([2, 3]), r([1, 3])]) { Tensor.cat([$0[0], $0[1]]) * Tensor.arange(9).reshape([3, 3]) }
        check("stack", [r([3]), r([3])]) { Tensor.stack([$0[0], $0[1]], dim: 1) * Tensor.arange(6).reshape([3, 2]) }
        check("split", [r([5, 2])]) { $0[0].split(2)[1] * 3 }
        check("squeeze/unsqueeze", [r([3, 1])]) { $0[0].squeeze().unsqueeze(0) * Tensor([[1, 2, 3]]) }
    }

    func testIndexing() {
        check("index", [r([3, 4])]) { $0[0][1] * 2 }
        check("range", [r([5, 2])]) { $0[0][1..<4] * 2 }
        check("column", [r([3, 4])]) { $0[0][..., 2] * 2 }
        check("gather rows, repeated", [r([4, 2])]) { $0[0][[3, 0, 3]] * Tensor.arange(6).reshape([3, 2]) }
        let mask = Tensor([[1, 0, 1], [0, 1, 1]])
        check("mask", [r([2, 3])]) { $0[0][mask: mask] * Tensor.arange(4) }
        check("gatherColumns", [r([3, 4])]) { $0[0].gatherColumns([2, 0, 3]) * Tensor([1, 2, 3]) }
    }

    func testSoftmaxFamily() {
        check("softmax", [r([3, 5])]) { $0[0].softmax() }
        check("logSoftmax", [r([3, 5])]) { $0[0].logSoftmax() }
        check("logSoftmax dim 0", [r([4, 3])]) { $0[0].logSoftmax(dim: 0) }
        check("cross entropy by hand", [r([4, 3])]) { -$0[0].logSoftmax().gatherColumns([0, 2, 1, 2]).mean() }
    }

    func testCheckerCatchesAWrongGradient() {
        // A custom op whose backward rule is deliberately wrong must fail the check.
        let broken: ([Tensor]) -> Tensor = { xs in
            let x = xs[0]
            let value = x.square()
            guard x.requiresGrad else { return value }
            return value.detach().recordedCustom(name: "BrokenBackward", inputs: [x]) { g in [g * 3] }
        }
        XCTAssertFalse(checkGradients(of: broken, at: [r([4])]).passed)
    }
}
