import TestSupport
import XCTest
@testable import Tensors
@testable import Training

/// `accuracyMulti` and `f1ScoreMulti` against values worked out by hand (scikit-learn's
/// definitions: macro F1 over the label columns).
final class MultiLabelMetricTests: XCTestCase {
    // Three items, three labels. Logits: positive means predicted at threshold 0.5.
    let logits = Tensor([[2, -1, 3], [-2, 1, -1], [1, 1, -3]])
    let targets = Tensor([[1, 0, 0], [0, 1, 0], [1, 0, 1]])

    func testAccuracyMultiCountsEveryLabel() {
        // Predicted [[1,0,1],[0,1,0],[1,1,0]]: wrong at (0,2), (2,1), (2,2): 6 of 9 right.
        assertClose(accuracyMulti().function(logits, targets), 6.0 / 9)
        // Without the sigmoid, logits are compared with the threshold directly: 1 > 0.5 still.
        assertClose(accuracyMulti(threshold: 1.5, sigmoid: false).function(logits, targets), 5.0 / 9)
    }

    func testF1ScoreMultiIsTheMacroAverageOverLabels() {
        // Label 0: tp 2, fp 0, fn 0 → 1. Label 1: tp 1, fp 1, fn 0 → 2/3. Label 2: tp 0, fp 1, fn 1 → 0.
        let metric = f1ScoreMulti()
        XCTAssertTrue(metric.accumulates)
        assertClose(metric.function(logits, targets), (1 + 2.0 / 3 + 0) / 3)
        // A label neither predicted nor present counts 0 (scikit-learn's zero_division).
        assertClose(metric.function(Tensor([[5, -5]]), Tensor([[1, 0]])), 0.5)
    }
}
