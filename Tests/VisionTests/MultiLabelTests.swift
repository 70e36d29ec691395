import FastSwift
import Foundation
import TestSupport
import XCTest

/// Several labels per image (chapter 6's PASCAL recipe) on the bundled digit scenes: a table's
/// rows through `DataBlock`, `MultiCategoryBlock` targets, the loss and decoding they imply.
final class MultiLabelTests: TemporaryFolderTestCase {
    let path = BundledData.digitScenes

    func scenesBlock(batchTransforms: [BatchTransform] = []) -> DataBlock<DataFrame.Row, MultiCategoryBlock> {
        DataBlock(
            blocks: (ImageBlock(), MultiCategoryBlock()), splitter: ColSplitter("is_valid"),
            getX: ColReader("fname", prefix: path.appendingPathComponent("images").path + "/"),
            getY: ColReader("labels", labelDelimiter: " "), batchTransforms: batchTransforms)
    }

    func testATablesRowsBecomeImagesAndOneHotLabelSets() throws {
        seed(1)
        let table = try DataFrame.readCSV(path.appendingPathComponent("labels.csv"))
        let dls = try scenesBlock().dataLoaders(table, batchSize: 16)
        XCTAssertEqual(dls.vocab, (0...9).map(String.init))
        XCTAssertEqual(dls.train.itemCount, 1400)
        XCTAssertEqual(dls.valid.itemCount, 400)
        XCTAssertTrue(dls.lossFunction is BCEWithLogitsLossFlat)
        // The validation loader keeps the table's order: its first items are valid_0000.png on.
        let (x, y) = dls.valid.oneBatch()
        XCTAssertEqual(x.shape, [16, 1, 56, 56])
        XCTAssertEqual(y.shape, [16, 10])
        let firstValid = try XCTUnwrap(table.rowItems.first { $0["is_valid"] == "True" })
        XCTAssertEqual(firstValid["fname"], "valid_0000.png")
        let expected = try XCTUnwrap(firstValid["labels"]).split(separator: " ").map(String.init)
        XCTAssertEqual(dls.describeTarget(y[0]), expected.joined(separator: ";"))
        let image = try Image.open(path.appendingPathComponent("images/valid_0000.png")).tensor(channels: 1)
        XCTAssertTrue(x[0].scalars == image.scalars, "the first validation input is valid_0000.png")

        // ImageDataLoaders.fromCSV with a delimiter gives the same label sets.
        let csv = try ImageDataLoaders.fromCSV(path, folder: "images", labelDelimiter: " ", validCol: 3, batchSize: 16)
        XCTAssertEqual(csv.vocab, dls.vocab)
        XCTAssertTrue(csv.valid.oneBatch().1.scalars == y.scalars)
        XCTAssertTrue(scenesBlock().summary(table).contains("inputs [4, 1, 56, 56], targets [4, 10]"))
        // showBatch captions each picture with its label set.
        let grid = try dls.showBatch(to: folder.appendingPathComponent("batch.png"), count: 4)
        XCTAssertGreaterThan(grid.width, 4 * 56)
    }

    func testALearnerWithoutALossTrainsWithTheBlocksAndDecodesLabelSets() throws {
        seed(3)
        let table = try DataFrame.readCSV(path.appendingPathComponent("labels.csv"))
        let dls = try scenesBlock().dataLoaders(table, batchSize: 32)
        // A small convolutional net: its global max pool answers "is this digit anywhere?".
        func conv(_ i: Int, _ o: Int, stride: Int = 2) -> [Module] {
            [Conv2d(i, o, kernelSize: 3, stride: stride, padding: 1), BatchNorm2d(o), ReLU()]
        }
        let model = Sequential(
            conv(1, 32) + conv(32, 64) + conv(64, 128) + conv(128, 128, stride: 1) + [AdaptiveMaxPool2d((1, 1)), Flatten(), Linear(128, 10)])
        let learn = try Learner(dls: dls, model: model, metrics: [accuracyMulti(), f1ScoreMulti()])
        learn.progress.show = false
        XCTAssertTrue(learn.outputDecoding is BCEWithLogitsLossFlat, "the loss comes from MultiCategoryBlock")
        try learn.fitOneCycle(epochs: 6, lrMax: 1e-2)
        let final = try XCTUnwrap(learn.recorder.values.last)
        print("multi-label small CNN, 6 epochs: valid loss \(final[1]), accuracy_multi \(final[2]), F1 \(final[3])")
        XCTAssertGreaterThan(final[2], 0.93)
        XCTAssertGreaterThan(final[3], 0.75)

        let preds = try learn.getPreds(withDecoded: true)
        let decoded = try XCTUnwrap(preds.decoded)
        XCTAssertEqual(decoded.shape, [400, 10])
        XCTAssertTrue(Set(decoded.scalars).isSubset(of: [0, 1]))
        XCTAssertTrue(preds.probabilities.scalars.allSatisfy { $0 >= 0 && $0 <= 1 }, "sigmoid probabilities")
        let one = learn.predict(dls.valid.oneBatch().0[0])
        XCTAssertEqual(one.label, learn.dls.describeTarget(decoded[0]))
        XCTAssertThrowsError(try ClassificationInterpretation(learn)) { error in
            XCTAssertTrue("\(error)".contains("predicts sets of labels"), "\(error)")
        }
        try learn.showResults(to: folder.appendingPathComponent("results.png"))
    }

    func testVisionLearnersForLabelSetsAndValuesExportAndPredictAsTheyDid() throws {
        seed(5)
        let table = try DataFrame.readCSV(path.appendingPathComponent("labels.csv"))
        let dls = try scenesBlock().dataLoaders(table, batchSize: 8)
        let multi = try visionLearner(dls, arch: .resnet18, loss: BCEWithLogitsLossFlat(threshold: 0.3))
        multi.path = folder
        let files = (0..<3).map { path.appendingPathComponent(String(format: "images/valid_%04d.png", $0)) }
        let before = try multi.predict(files: files)
        for prediction in before {
            XCTAssertEqual(prediction.labels, prediction.probabilities.filter { $0.probability > 0.3 }.map(\.label).sorted())
            XCTAssertEqual(prediction.label, prediction.labels.joined(separator: ";"))
        }
        let loaded = try loadLearner(try multi.export())
        XCTAssertEqual(try loaded.predict(files: files), before, "the export decodes with the same threshold")

        // Values: two per image, squeezed into -1...1 by the head's SigmoidRange.
        let x = Tensor.rand([8, 1, 32, 32]), y = Tensor.uniform([8, 2], -1, 1)
        let dl = try DataLoader(TensorDataset(x, y), batchSize: 4)
        let values = try visionLearner(DataLoaders(dl, dl, targetBlock: RegressionBlock()), arch: .resnet18, yRange: -1...1)
        XCTAssertTrue(values.outputDecoding is MSELossFlat)
        values.path = folder
        values.progress.show = false
        try values.fit(epochs: 1, lr: 1e-3)
        let predicted = try values.getPreds().probabilities
        XCTAssertEqual(predicted.shape, [8, 2])
        XCTAssertTrue(predicted.scalars.allSatisfy { $0 > -1 && $0 < 1 })
        let reloaded = try loadLearner(try values.export(folder.appendingPathComponent("values.safetensors")))
        assertClose(reloaded.predict(x[0]).probabilities.scalars, predicted[0].scalars, rtol: 1e-4)
        XCTAssertThrowsError(try visionLearner(DataLoaders(dl, dl), arch: .resnet18)) { error in
            XCTAssertTrue("\(error)".contains("no loss function"), "\(error)")
        }
    }
}
