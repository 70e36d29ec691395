import Foundation
import XCTest
@testable import Vision
@testable import Codecs
@testable import DataBlocks
@testable import Layers
@testable import Tensors
@testable import Training

/// The issue's "done when": a folder of mixed-size JPEG and PNG photos trains through fastai's
/// three lines plus a resize and the standard augmentations.
final class PhotoTrainingTests: XCTestCase {
    func testAMixedPhotoFolderTrainsWithResizeAndAugmentation() throws {
        seed(7)
        let path = BundledData.photos
        let dls = try ImageDataLoaders.fromNameRe(
            path, files: try getImageFiles(path), pattern: #"^(.+?)_"#, validPct: 0.25, seed: 42,
            batchSize: 8, itemTransforms: [Resize(32)], batchTransforms: augTransforms())
        let learn = visionLearner(dls, arch: .resnet18, loss: crossEntropy, metrics: [accuracy])
        learn.progress.show = false
        try learn.fitOneCycle(epochs: 12, lrMax: 2e-3)
        let accuracy = try XCTUnwrap(learn.recorder.values.last?.last)
        XCTAssertGreaterThanOrEqual(accuracy, 0.9, "four photographs, cropped: nearly all validation crops are recognised")
    }
}
