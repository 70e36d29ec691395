import Foundation
import TestSupport
import XCTest
@testable import Autograd
@testable import Layers
@testable import Tensors

/// fastai's `...Flat` losses: their values, gradients, activations and decodings.
final class FlatLossTests: XCTestCase {
    func testBCEWithLogitsByHandWithItsActivationAndThreshold() {
        // max(x, 0) - x·t + log(1 + e^-|x|): x = 0, t = 1 gives log 2; x = 2, t = 0 gives 2 + log(1 + e^-2).
        let loss = BCEWithLogitsLossFlat(threshold: 0.7)
        let expected = (Foundation.log(2.0) + 2 + Foundation.log(1 + Foundation.exp(-2.0))) / 2
        assertClose(loss(Tensor([[0, 2]]), Tensor([[1, 0]])).item(), Float(expected))
        let p = loss.activation(Tensor([[0, 2, -1]]))
        assertClose(p.scalars, [0.5, Float(1 / (1 + Foundation.exp(-2.0))), Float(1 / (1 + Foundation.exp(1.0)))])
        XCTAssertEqual(loss.decodes(p).scalars, [0, 1, 0], "only 0.88 is over the threshold 0.7")
        XCTAssertEqual(BCEWithLogitsLossFlat().decodes(p).scalars, [0, 1, 0], "0.5 is not over 0.5")
    }

    func testCrossEntropyOnAxisOneIsEveryPixelAsARow() {
        // Scores [N=2, C=3, H=1, W=2] against masks [2, 1, 2]: the same as the four pixels' rows.
        let g = RandomGenerator(seed: 7)
        let scores = Tensor.randn([2, 3, 1, 2], generator: g)
        let masks = Tensor([[[0, 2]], [[1, 1]]])
        let s = scores.scalars
        var rows: [Float] = []
        for n in 0..<2 { for w in 0..<2 { for c in 0..<3 { rows.append(s[(n * 3 + c) * 2 + w]) } } }
        let expected = Tensor.crossEntropy(logits: Tensor(shape: [4, 3], scalars: rows), targets: [0, 2, 1, 1])
        let loss = CrossEntropyLossFlat(axis: 1)
        assertClose(loss(scores, masks).item(), expected.item(), rtol: 1e-6)
        XCTAssertEqual(loss.decodes(loss.activation(scores)).shape, [2, 1, 2])
        let probabilities = loss.activation(scores)
        assertClose(probabilities.sum(dim: 1).scalars, [1, 1, 1, 1], rtol: 1e-6)
        let result = checkGradients(of: { loss($0[0], masks) }, at: [scores])
        XCTAssertTrue(result.passed, result.description)
    }

    func testCrossEntropyFlatOnRowsIsCrossEntropy() {
        let logits = Tensor([[1, 2, 3], [3, 1, 0]]), targets = Tensor([2, 0])
        XCTAssertEqual(CrossEntropyLossFlat()(logits, targets).item(), crossEntropy(logits, targets).item())
        XCTAssertEqual(CrossEntropyLossFlat().decodes(CrossEntropyLossFlat().activation(logits)).scalars, [2, 0])
    }

    func testRegressionLossesKeepTheirValues() {
        let p = Tensor([[1, 2], [3, 4]]), t = Tensor([[2, 2], [3, 6]])
        assertClose(MSELossFlat()(p, t).item(), 5.0 / 4)
        assertClose(L1LossFlat()(p, t).item(), 3.0 / 4)
        XCTAssertEqual(MSELossFlat().decodes(MSELossFlat().activation(p)).scalars, p.scalars)
    }
}
