import Foundation
import XCTest
@testable import Vision
@testable import Codecs
@testable import Autograd
@testable import DataBlocks
@testable import Layers
@testable import Tensors
import TestSupport
@testable import Training

/// Reading the results: interpretation pictures and numbers, metrics, losses and callbacks.
final class InterpretationTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-interp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// Not blank: the pixels take many values.
    func assertNotBlank(_ image: Image, _ what: String) {
        XCTAssertGreaterThan(Set(image.pixels).count, 8, "\(what) is blank")
    }

    func testFineTunedPhotosInterpretationWritesPicturesOurDecoderReads() throws {
        seed(5)
        // Pretrained weights in torchvision's format (the fixture's deterministic ResNet-18).
        let weights = folder.appendingPathComponent("resnet18.safetensors")
        let net = resnet18()
        try SafeTensors.write(
            Dictionary(uniqueKeysWithValues: net.stateDict().keys.map { ($0, DeterministicWeights.tensor($0, shape: net.stateDict()[$0]!.shape)) }),
            to: weights)
        let path = BundledData.photos
        let dls = try ImageDataLoaders.fromNameRe(
            path, files: try getImageFiles(path), pattern: #"^(.+?)_"#, validPct: 0.25, seed: 42,
            batchSize: 8, itemTransforms: [Resize(32)], batchTransforms: augTransforms())
        let learn = try visionLearner(dls, arch: .resnet18, pretrained: weights, loss: crossEntropy, metrics: [errorRate, f1Score])
        learn.progress.show = false
        try learn.fineTune(epochs: 1, baseLr: 2e-3)
        XCTAssertEqual(learn.recorder.values.count, 1, "the unfrozen fit's table (the frozen one came first)")

        let interp = try ClassificationInterpretation(learn)
        let matrix = interp.confusionMatrix()
        XCTAssertEqual(matrix.count, 4)
        XCTAssertEqual(matrix.flatMap { $0 }.reduce(0, +), 24, "every validation photo counted once")
        let wrong = matrix.indices.flatMap { a in matrix.indices.filter { $0 != a }.map { matrix[a][$0] } }.reduce(0, +)
        XCTAssertEqual(interp.mostConfused(minVal: 1).map(\.count).reduce(0, +), wrong)
        let top = interp.topLosses(5)
        XCTAssertEqual(top.count, 5)
        XCTAssertEqual(top.map(\.loss), top.map(\.loss).sorted(by: >))
        XCTAssertEqual(Double(top[0].loss), Double(try XCTUnwrap(interp.predictions.losses?.max().item())), accuracy: 1e-6)

        let matrixFile = folder.appendingPathComponent("confusion.png"), lossesFile = folder.appendingPathComponent("top_losses.png")
        let results = folder.appendingPathComponent("results.png")
        try interp.plotConfusionMatrix(to: matrixFile)
        try interp.plotConfusionMatrix(to: folder.appendingPathComponent("confusion.svg"))
        try interp.plotTopLosses(9, to: lossesFile, columns: 3, scale: 2)
        try learn.showResults(to: results)
        let confusion = try Image.open(matrixFile), losses = try Image.open(lossesFile), shown = try Image.open(results)
        XCTAssertGreaterThan(confusion.width, 4 * 24)
        XCTAssertGreaterThanOrEqual(losses.width, 3 * (64 + 4) + 4, "three columns of 32-pixel photos at scale 2")
        XCTAssertGreaterThanOrEqual(losses.height, 3 * (64 + 2 * 14), "three rows, each with two lines of caption")
        for (image, what) in [(confusion, "confusion matrix"), (losses, "top losses"), (shown, "results")] { assertNotBlank(image, what) }
        let svg = try String(contentsOf: folder.appendingPathComponent("confusion.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains("astronaut") && svg.contains("<rect"))

        // Test-time augmentation gives probabilities accuracy can score.
        let (probabilities, targets) = try learn.tta(n: 2)
        XCTAssertEqual(probabilities.shape, [24, 4])
        for total in probabilities.sum(dim: 1).scalars { XCTAssertEqual(total, 1, accuracy: 1e-5) }
        XCTAssertLessThanOrEqual(accuracy.function(probabilities, targets), 1)
    }

    func testMacroMetricsAndTopKAgainstHandCounts() {
        // 3 classes; predictions (argmax) 0,0,1,2,2,2 for targets 0,1,1,2,2,0.
        let p = Tensor([[2, 0, 0], [2, 0, 0], [0, 2, 0], [0, 0, 2], [0, 0, 2], [0, 1, 2]] as [[Float]])
        let y = Tensor([0, 1, 1, 2, 2, 0])
        // class 0: tp 1, predicted 2, actual 2; class 1: tp 1, predicted 1, actual 2; class 2: tp 2, predicted 3, actual 2
        XCTAssertEqual(precision.function(p, y), Float((0.5 + 1 + 2.0 / 3) / 3), accuracy: 1e-6)
        XCTAssertEqual(recall.function(p, y), Float((0.5 + 0.5 + 1) / 3), accuracy: 1e-6)
        XCTAssertEqual(f1Score.function(p, y), Float((2.0 / 4 + 2.0 / 3 + 4.0 / 5) / 3), accuracy: 1e-6)
        XCTAssertTrue(f1Score.accumulates && !accuracy.accumulates)
        XCTAssertEqual(topKAccuracy(k: 1).function(p, y), 4.0 / 6, accuracy: 1e-6)
        XCTAssertEqual(topKAccuracy(k: 2).function(p, y), 5.0 / 6, accuracy: 1e-6, "row 1's target is second (a tie broken by index); row 5's third")
        XCTAssertEqual(topKAccuracy(k: 3).function(p, y), 1, accuracy: 1e-6)
    }

    func testLabelSmoothingCrossEntropyByHand() {
        let logits = Tensor([[1, 2, 3], [0, 0, 0]] as [[Float]]), y = Tensor([2, 0])
        let logP = logits.logSoftmax(dim: -1).scalars
        let eps: Float = 0.1
        let smooth = -(logP[0] + logP[1] + logP[2] + logP[3] + logP[4] + logP[5]) / 2 * eps / 3
        let nll = -(logP[2] + logP[3]) / 2 * (1 - eps)
        XCTAssertEqual(labelSmoothingCrossEntropy(eps: eps)(logits, y).item(), smooth + nll, accuracy: 1e-6)
        XCTAssertEqual(labelSmoothingCrossEntropy(eps: 0)(logits, y).item(), crossEntropy(logits, y).item(), accuracy: 1e-6)
    }

    /// A small classifier on two separable blobs.
    func blobLearner(cbs: [Callback] = [], metrics: [Metric] = []) throws -> Learner {
        seed(9)
        let x = Tensor.cat([Tensor.randn([40, 2]) + 2, Tensor.randn([40, 2]) - 2]), y = Tensor((0..<80).map { Float($0 / 40) })
        let order = Tensor.randperm(80)
        let data = try TensorDataset(x[order], y[order])
        let train = try DataLoader(TensorDataset(data.inputs[0..<64], data.targets[0..<64]), batchSize: 16, shuffle: true, dropLast: true)
        let valid = try DataLoader(TensorDataset(data.inputs[64..<80], data.targets[64..<80]), batchSize: 8)
        let learn = Learner(
            dls: DataLoaders(train, valid, vocab: ["a", "b"]), model: Sequential(Linear(2, 8), ReLU(), Linear(8, 2)),
            loss: crossEntropy, metrics: metrics, cbs: cbs)
        learn.progress.show = false
        return learn
    }

    func testCSVLoggerShowGraphAndAccumulatedMetricsInTheTable() throws {
        let csv = folder.appendingPathComponent("history.csv"), graph = folder.appendingPathComponent("losses.svg")
        let learn = try blobLearner(cbs: [CSVLogger(csv), ShowGraph(graph)], metrics: [accuracy, f1Score])
        try learn.fit(epochs: 3, lr: 0.05)
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "epoch,train_loss,valid_loss,accuracy,f1_score,time")
        XCTAssertEqual(lines.count, 4)
        XCTAssertTrue(lines[3].hasPrefix("2,"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: graph.path))
        // The F1 in the table is the whole validation set's, not an average of batches.
        let preds = try learn.getPreds(withDecoded: true)
        XCTAssertEqual(learn.recorder.values.last![3], f1Score.function(preds.probabilities, preds.targets), accuracy: 1e-6)
    }

    func testReduceLROnPlateauAndMixUp() throws {
        // minDelta 100: after the first epoch nothing counts as better, so each epoch divides the rate.
        let learn = try blobLearner(cbs: [ReduceLROnPlateau(minDelta: 100, patience: 1, factor: 10)])
        try learn.fit(epochs: 3, lr: 0.1)
        XCTAssertEqual(learn.opt!.lr, 0.001, accuracy: 1e-9)

        final class Watch: Callback {
            let orderValue: Int
            var seen: [(training: Bool, x: Tensor)] = []
            init(order: Int) { orderValue = order }
            override var order: Int { orderValue }
            override func beforeBatch(_ l: Learner) throws { seen.append((l.training, l.xb)) }
        }
        let before = Watch(order: -1), after = Watch(order: 1)
        let mixed = try blobLearner(cbs: [before, MixUp(alpha: 0.4), after])
        try mixed.fit(epochs: 1, lr: 0.05)
        XCTAssertEqual(before.seen.count, after.seen.count)
        for (b, a) in zip(before.seen, after.seen) {
            XCTAssertEqual(a.x.shape, b.x.shape)
            if b.training { XCTAssertNotEqual(a.x, b.x, "training batches are blended") } else { XCTAssertEqual(a.x, b.x, "validation is untouched") }
        }
        XCTAssertTrue(mixed.recorder.values.last!.allSatisfy(\.isFinite))
    }
}
