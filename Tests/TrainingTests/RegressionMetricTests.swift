import XCTest
@testable import Tensors
@testable import Training

/// The regression metrics against values worked out by hand.
final class RegressionMetricTests: XCTestCase {
    func testRMSEMAER2AndExpRMSPEByHand() {
        let predictions = Tensor(shape: [4, 1], scalars: [2, 4, 5, 9]), targets = Tensor([1, 4, 7, 8])
        // Errors 1, 0, -2, 1: squares 1, 0, 4, 1.
        XCTAssertEqual(rmse.function(predictions, targets), (6 / Float(4)).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(mae.function(predictions, targets), 1, accuracy: 1e-6)
        // Targets' mean 5: Σ(y - ȳ)² = 16 + 1 + 4 + 9 = 30; R² = 1 - 6/30.
        XCTAssertEqual(r2Score.function(predictions, targets), 0.8, accuracy: 1e-6)
        // exp_rmspe of log values: predictions e^(log 2) = 2 against 1 is (1 - 2)/1 = -1, and so on.
        let logP = Tensor([Float(2).squareRoot(), 1].map { Float(log(Double($0))) }), logY = Tensor([Float(1), 2].map { Float(log(Double($0))) })
        let terms = [(1 - 2.squareRoot()) / 1, (2 - 1) / 2.0]
        XCTAssertEqual(Double(expRMSPE.function(logP, logY)), ((terms[0] * terms[0] + terms[1] * terms[1]) / 2).squareRoot(), accuracy: 1e-6)
        XCTAssertTrue(rmse.function(Tensor([1, 2]), Tensor([1])).isNaN, "outputs and targets of different sizes")
        XCTAssertTrue(rmse.accumulates, "over the whole validation set, as fastai's AccumMetric")
    }
}
