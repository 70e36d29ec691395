import Foundation
import TestSupport
import XCTest
@testable import Autograd
@testable import Layers
@testable import Tensors

final class LossTests: XCTestCase {
    func testRegressionLosses() {
        let p = Tensor([1, 2, 3]), t = Tensor([2, 2, 5])
        assertClose(mse(p, t).item(), 5.0 / 3)
        assertClose(l1(p, t).item(), 1)
        assertClose(mse(p.unsqueeze(1), t).item(), 5.0 / 3, "targets reshape to the predictions")
    }

    func testCrossEntropyByHand() {
        // log(e^1 + e^2 + e^3) - 3
        let logits = Tensor([[1, 2, 3], [1, 2, 3]])
        let lse = Float(Foundation.log(Foundation.exp(1.0) + Foundation.exp(2.0) + Foundation.exp(3.0)))
        assertClose(crossEntropy(logits, Tensor([2, 0])).item(), ((lse - 3) + (lse - 1)) / 2)
        assertClose(crossEntropySum(logits, Tensor([2, 0])).item(), (lse - 3) + (lse - 1))
        assertClose(nllLoss(logits.logSoftmax(), Tensor([2, 0])).item(), ((lse - 3) + (lse - 1)) / 2, rtol: 1e-5)
        // Huge logits stay finite.
        XCTAssertEqual(crossEntropy(Tensor([[1000, 0]]), Tensor([0])).item(), 0)
        assertClose(crossEntropy(Tensor([[0, 1000]]), Tensor([0])).item(), 1000)
    }

    func testCrossEntropyMatchesTheComposite() {
        let g = RandomGenerator(seed: 2)
        let logits = Tensor.randn([16, 10], generator: g) * 3
        let targets = Tensor((0..<16).map { Float($0 % 10) })
        assertClose(crossEntropy(logits, targets), -logits.logSoftmax().gatherColumns(targets.indices()).mean(), rtol: 1e-5)
        let result = checkGradients(of: { crossEntropy($0[0], targets) }, at: [logits])
        XCTAssertTrue(result.passed, result.description)
        let summed = checkGradients(of: { crossEntropySum($0[0], targets) * 0.1 }, at: [logits])
        XCTAssertTrue(summed.passed, summed.description)
    }

    func testBinaryCrossEntropy() {
        let p = Tensor([0.9, 0.2, 0.6]), t = Tensor([1, 0, 0])
        let expected = -(Foundation.log(0.9) + Foundation.log(0.8) + Foundation.log(0.4)) / 3
        assertClose(binaryCrossEntropy(p, t).item(), Float(expected), rtol: 1e-5)
        XCTAssertEqual(binaryCrossEntropy(Tensor([0]), Tensor([1])).item(), 100, "log clamped at -100 as PyTorch")
        let logits = Tensor([-3, -1, 0, 2, 4])
        let targets = Tensor([1, 0, 1, 1, 0])
        assertClose(binaryCrossEntropyWithLogits(logits, targets), binaryCrossEntropy(logits.sigmoid(), targets), rtol: 1e-5)
        // Where the sigmoid saturates in Float, the fused form still gives the exact loss.
        assertClose(binaryCrossEntropyWithLogits(Tensor([-30, 40]), Tensor([1, 0])).item(), 35)
        let result = checkGradients(of: { binaryCrossEntropyWithLogits($0[0], targets) }, at: [Tensor([-2, -1, 0.5, 2, 3])])
        XCTAssertTrue(result.passed, result.description)
    }
}
