import Foundation
import TestSupport
import XCTest
@testable import Layers
@testable import Tensors
@testable import Training

/// The losses and metrics of multi-label, segmentation and regression against fastai's own on
/// the same inputs (Tests/Fixtures/make_task_metrics_reference.py, fastai 2.8).
final class TaskMetricTests: XCTestCase {
    var reference: [String: [String: Any]] = [:]

    override func setUpWithError() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/task_metrics", withExtension: "json"))
        reference = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: [String: Any]])
    }

    func tensor(_ group: String, _ key: String, shape: String = "shape", dropping axis: Int? = nil) throws -> Tensor {
        let values = try XCTUnwrap(reference[group]?[key] as? [Double]).map(Float.init)
        var dims = try XCTUnwrap(reference[group]?[shape] as? [Int])
        if let axis { dims.remove(at: axis) }
        return Tensor(shape: dims, scalars: values)
    }

    func value(_ group: String, _ key: String) throws -> Float { Float(try XCTUnwrap(reference[group]?[key] as? Double)) }

    func testMultiLabelLossAndMetricsMatchFastai() throws {
        let logits = try tensor("multi", "logits"), targets = try tensor("multi", "targets")
        assertClose(BCEWithLogitsLossFlat()(logits, targets).item(), try value("multi", "bce"), rtol: 1e-5)
        assertClose(accuracyMulti().function(logits, targets), try value("multi", "accuracy_multi"))
        assertClose(accuracyMulti(threshold: 0.2).function(logits, targets), try value("multi", "accuracy_multi_0.2"))
        assertClose(f1ScoreMulti().function(logits, targets), try value("multi", "f1_multi"))
        assertClose(f1ScoreMulti(threshold: 0.3).function(logits, targets), try value("multi", "f1_multi_0.3"))
    }

    func testSegmentationLossAndMetricsMatchFastai() throws {
        let scores = try tensor("segmentation", "scores"), masks = try tensor("segmentation", "masks", dropping: 1)
        assertClose(CrossEntropyLossFlat(axis: 1)(scores, masks).item(), try value("segmentation", "cross_entropy_axis1"), rtol: 1e-5)
        assertClose(foregroundAccuracy().function(scores, masks), try value("segmentation", "foreground_acc"))
        var shape = scores.shape
        shape[1] = 2
        let binaryScores = Tensor(shape: shape, scalars: try XCTUnwrap(reference["segmentation"]?["binary_scores"] as? [Double]).map(Float.init))
        let binaryMasks = Tensor(shape: masks.shape, scalars: try XCTUnwrap(reference["segmentation"]?["binary_masks"] as? [Double]).map(Float.init))
        assertClose(dice().function(binaryScores, binaryMasks), try value("segmentation", "dice"))
        assertClose(jaccardCoeff().function(binaryScores, binaryMasks), try value("segmentation", "jaccard"))
    }

    func testRegressionLossesAndMetricsMatchFastai() throws {
        let preds = try tensor("regression", "preds"), targets = try tensor("regression", "targets")
        assertClose(MSELossFlat()(preds, targets).item(), try value("regression", "mse"), rtol: 1e-5)
        assertClose(L1LossFlat()(preds, targets).item(), try value("regression", "l1"), rtol: 1e-5)
        assertClose(rmse.function(preds, targets), try value("regression", "rmse"), rtol: 1e-5)
        assertClose(mae.function(preds, targets), try value("regression", "mae"), rtol: 1e-5)
    }
}
