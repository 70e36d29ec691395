import FastSwift
import Foundation
import TestSupport
import XCTest

/// The `keypoints` and `segmentation` recipes' paths on the bundled digit scenes, trained to a
/// set figure (shorter than the recipes, to fit CI), then predicted and exported.
final class TaskRecipeTests: TemporaryFolderTestCase {
    let path = BundledData.digitScenes

    func testKeypointsFindEachDigitsCentre() throws {
        seed(42)
        let table = try DataFrame.readCSV(path.appendingPathComponent("labels.csv"))
        let single = table.rows(table.rowItems.indices.filter { table.rowItems[$0]["centres"]?.split(separator: " ").count == 2 })
        let dblock = DataBlock(
            blocks: (ImageBlock(), PointBlock()), splitter: ColSplitter("is_valid"),
            getX: ColReader("fname", prefix: path.appendingPathComponent("images").path + "/"), getY: ColReader("centres"),
            batchTransforms: augTransforms(maxRotate: 15, maxLighting: 0))
        let dls = try dblock.dataLoaders(single, batchSize: 32)
        let learn = try visionLearner(dls, arch: .resnet18, yRange: -1...1)
        learn.progress.show = false
        learn.path = folder
        try learn.fitOneCycle(epochs: 6, lrMax: 1e-2)
        let (predictions, targets) = try learn.getPreds()
        let p = predictions.scalars, t = targets.scalars
        let distances = stride(from: 0, to: p.count, by: 2).map { i in
            let dx = (p[i] - t[i]) * 28, dy = (p[i + 1] - t[i + 1]) * 28
            return (dx * dx + dy * dy).squareRoot()
        }
        let mean = distances.reduce(0, +) / Float(distances.count)
        // The best constant guess, every scene's centre at the centres' mean: about 20 pixels off.
        let half = Float(t.count / 2)
        let (mx, my) = (
            stride(from: 0, to: t.count, by: 2).map { t[$0] }.reduce(0, +) / half, stride(from: 1, to: t.count, by: 2).map { t[$0] }.reduce(0, +) / half
        )
        let guess =
            stride(from: 0, to: t.count, by: 2).map { i in
                let dx = (t[i] - mx) * 28, dy = (t[i + 1] - my) * 28
                return (dx * dx + dy * dy).squareRoot()
            }.reduce(0, +) / half
        print("keypoints: mean distance \(mean) pixels after 6 epochs (a constant guess: \(guess))")
        // Six epochs land anywhere from 7.4 to 13.2 pixels with the seed (42, 1, 2 and 3, each
        // with the dense and with the im2col convolutions of 2x2 maps, measured 2026-12-07).
        XCTAssertLessThan(mean, 0.75 * guess, "the predicted centres are near the digits' centres")

        // predict gives the point in pixels of the scene (the first validation scene's, as getPreds
        // scaled it to -1...1); the export predicts the same.
        let row = try XCTUnwrap(single.rowItems.first { $0["is_valid"] == "True" })
        let file = path.appendingPathComponent("images").appendingPathComponent(try XCTUnwrap(row["fname"]))
        let prediction = try XCTUnwrap(try learn.predict(files: [file]).first)
        XCTAssertEqual(prediction.points.count, 1)
        XCTAssertEqual(prediction.points[0].x, (p[0] + 1) / 2 * 56, accuracy: 1e-3)
        XCTAssertEqual(prediction.points[0].y, (p[1] + 1) / 2 * 56, accuracy: 1e-3)
        let loaded = try loadLearner(try learn.export())
        XCTAssertEqual(try loaded.predict(files: [file]).first?.points, prediction.points)
    }

    func testSegmentationFindsTheDigitsInk() throws {
        seed(42)
        let codes = ["background"] + (0...9).map(String.init)
        let files = Array(try getImageFiles(path.appendingPathComponent("images")).prefix(240))
        let dls = try SegmentationDataLoaders.fromLabelFunc(
            path, files: files, labelFunc: { self.path.appendingPathComponent("masks").appendingPathComponent($0.lastPathComponent) },
            codes: codes, seed: 42, batchSize: 8)
        let learn = try unetLearner(dls, arch: .resnet18, metrics: [foregroundAccuracy()])
        learn.progress.show = false
        learn.path = folder
        XCTAssertTrue(learn.outputDecoding is CrossEntropyLossFlat)
        try learn.fitOneCycle(epochs: 4, lrMax: 3e-3)
        let final = try XCTUnwrap(learn.recorder.values.last)
        print("segmentation: valid loss \(final[1]), foreground accuracy \(final[2]) after 4 epochs")
        XCTAssertGreaterThan(final[2], 0.10, "predicting the background everywhere scores 0")

        let file = files[0]
        let prediction = try XCTUnwrap(try learn.predict(files: [file]).first)
        let mask = try XCTUnwrap(prediction.mask)
        XCTAssertEqual(mask.shape, [56, 56])
        XCTAssertTrue(Set(mask.scalars).isSubset(of: Set((0..<11).map(Float.init))))
        let loaded = try loadLearner(try learn.export())
        XCTAssertTrue(try loaded.predict(files: [file]).first?.mask?.scalars == mask.scalars, "the export predicts the same mask")
        try learn.showResults(to: folder.appendingPathComponent("results.png"))
    }
}
