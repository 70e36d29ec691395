import Foundation
import XCTest
@testable import Autograd
@testable import DataBlocks
@testable import Layers
@testable import Optimizers
@testable import Tensors
@testable import Training

/// Records every event it sees, by name.
final class EventLog: Callback {
    var events: [String] = []
    var cancelAt: (event: String, error: Error)?
    private func log(_ name: String) throws {
        events.append(name)
        if let c = cancelAt, c.event == name {
            cancelAt = nil  // once: a CancelTrain thrown again while validating would end the fit
            throw c.error
        }
    }
    override func beforeFit(_ l: Learner) throws { try log("beforeFit") }
    override func beforeEpoch(_ l: Learner) throws { try log("beforeEpoch") }
    override func beforeTrain(_ l: Learner) throws { try log("beforeTrain") }
    override func beforeBatch(_ l: Learner) throws { try log("beforeBatch") }
    override func afterPred(_ l: Learner) throws { try log("afterPred") }
    override func afterLoss(_ l: Learner) throws { try log("afterLoss") }
    override func beforeBackward(_ l: Learner) throws { try log("beforeBackward") }
    override func beforeStep(_ l: Learner) throws { try log("beforeStep") }
    override func afterStep(_ l: Learner) throws { try log("afterStep") }
    override func afterBatch(_ l: Learner) throws { try log("afterBatch") }
    override func afterTrain(_ l: Learner) throws { try log("afterTrain") }
    override func beforeValidate(_ l: Learner) throws { try log("beforeValidate") }
    override func afterValidate(_ l: Learner) throws { try log("afterValidate") }
    override func afterEpoch(_ l: Learner) throws { try log("afterEpoch") }
    override func afterFit(_ l: Learner) throws { try log("afterFit") }
    override func afterCancelBatch(_ l: Learner) throws { try log("afterCancelBatch") }
    override func afterCancelStep(_ l: Learner) throws { try log("afterCancelStep") }
    override func afterCancelBackward(_ l: Learner) throws { try log("afterCancelBackward") }
    override func afterCancelTrain(_ l: Learner) throws { try log("afterCancelTrain") }
    override func afterCancelValidate(_ l: Learner) throws { try log("afterCancelValidate") }
    override func afterCancelEpoch(_ l: Learner) throws { try log("afterCancelEpoch") }
    override func afterCancelFit(_ l: Learner) throws { try log("afterCancelFit") }
}

final class LearnerTests: XCTestCase {
    /// A tiny linearly separable problem: 10 training items (batches 4, 4, 2 → 2 kept with
    /// dropLast) and 6 validation items (batches 4 and 2).
    func makeLearner(metrics: [Metric] = [], cbs: [Callback] = [], opt: OptimizerFactory = .sgd) throws -> Learner {
        seed(1)
        let x = Tensor.randn([16, 2]), y = Tensor((0..<16).map { Float($0 % 2) })
        let inputs = x + y.unsqueeze(1) * 3
        let train = try DataLoader(TensorDataset(inputs[0..<10], y[0..<10]), batchSize: 4, shuffle: true, dropLast: true)
        let valid = try DataLoader(TensorDataset(inputs[10..<16], y[10..<16]), batchSize: 4)
        let learn = Learner(
            dls: DataLoaders(train, valid, vocab: ["a", "b"]), model: Sequential(Linear(2, 2)), loss: crossEntropy,
            opt: opt, metrics: metrics, cbs: cbs)
        learn.progress.show = false
        return learn
    }

    func testEventsRunInFastaisOrder() throws {
        let log = EventLog()
        try makeLearner(cbs: [log]).fit(epochs: 1, lr: 0.1)
        let batch = ["beforeBatch", "afterPred", "afterLoss", "beforeBackward", "beforeStep", "afterStep", "afterBatch"]
        let validBatch = ["beforeBatch", "afterPred", "afterLoss", "afterBatch"]
        XCTAssertEqual(
            log.events,
            ["beforeFit", "beforeEpoch", "beforeTrain"] + batch + batch + ["afterTrain", "beforeValidate"]
                + validBatch + validBatch + ["afterValidate", "afterEpoch", "afterFit"])
    }

    func testGetPredsRunsTheValidationEventsWithoutTouchingTheRecord() throws {
        // fastai's get_preds: the validation phase's events over every item in order; a callback
        // that changes predictions after they are made changes what getPreds returns; the
        // recorder's table and last validation stay as the fit left them, even for the
        // training set's items (10 of them, none dropped, none shuffled).
        final class Doubling: Callback {
            override func afterPred(_ learn: Learner) throws { learn.pred = learn.pred * 2 }
        }
        let log = EventLog()
        let learn = try makeLearner(cbs: [log])
        try learn.fit(epochs: 1, lr: 0.1)
        let (values, last) = (learn.recorder.values, learn.recorder.lastValidation)
        log.events = []
        let (plain, targets) = try learn.getPreds()
        let validBatch = ["beforeBatch", "afterPred", "afterLoss", "afterBatch"]
        XCTAssertEqual(log.events, ["beforeValidate"] + validBatch + validBatch + ["afterValidate"])
        XCTAssertEqual(targets, Tensor((10..<16).map { Float($0 % 2) }))
        XCTAssertEqual(plain, noGrad { learn.model(learn.dls.valid.batch(Array(0..<6)).0) })
        learn.add([Doubling()])
        XCTAssertEqual(try learn.getPreds().predictions, plain * 2)
        let training = try learn.getPreds(training: true)
        XCTAssertEqual(training.targets, Tensor((0..<10).map { Float($0 % 2) }))
        XCTAssertEqual(learn.recorder.values, values)
        XCTAssertEqual(learn.recorder.lastValidation, last)
        XCTAssertTrue(learn.model.isTraining, "back in training mode")
    }

    func testEachCancellationRunsItsCancelEventThenTheAfterEvent() throws {
        let cases: [(String, Error, String, String)] = [
            ("afterPred", CancelBatch(), "afterCancelBatch", "afterBatch"),
            ("beforeStep", CancelStep(), "afterCancelStep", "afterStep"),
            ("beforeBackward", CancelBackward(), "afterCancelBackward", "beforeStep"),
            ("beforeBatch", CancelTrain(), "afterCancelTrain", "afterTrain"),
            ("beforeValidate", CancelValidate(), "afterCancelValidate", "afterValidate"),
            ("beforeTrain", CancelEpoch(), "afterCancelEpoch", "afterEpoch"),
            ("beforeEpoch", CancelFit(), "afterCancelFit", "afterFit"),
        ]
        for (event, error, cancelEvent, next) in cases {
            let log = EventLog()
            log.cancelAt = (event, error)
            let learn = try makeLearner(cbs: [log])
            XCTAssertNoThrow(try learn.fit(epochs: 1, lr: 0.1), "\(event)")
            let i = log.events.firstIndex(of: event)!
            XCTAssertEqual(log.events[i + 1], cancelEvent, "\(event) → \(error)")
            XCTAssertEqual(log.events[i + 2], next, "\(event) → \(error)")
            XCTAssertEqual(log.events.last, "afterFit")
        }
        // Cancelled steps leave the parameters as they were.
        final class NoSteps: Callback {
            override func beforeStep(_ learn: Learner) throws { throw CancelStep() }
        }
        let learn = try makeLearner(cbs: [NoSteps()])
        let before = learn.model.parameters.map(\.scalars)
        try learn.fit(epochs: 1, lr: 0.1)
        XCTAssertEqual(learn.model.parameters.map(\.scalars), before)
    }

    func testOneCycleMatchesFastaisFormulas() throws {
        let lr = combinedCos(pctStart: 0.25, 0.1 / 25, 0.1, 0.1 / 1e5)
        XCTAssertEqual(lr(0), 0.004, accuracy: 1e-12)
        XCTAssertEqual(lr(0.25), 0.1, accuracy: 1e-12)
        XCTAssertEqual(lr(1), 1e-6, accuracy: 1e-12)
        XCTAssertEqual(lr(0.125), 0.004 + (0.1 - 0.004) / 2, accuracy: 1e-12, "halfway up the cosine")
        let mom = combinedCos(pctStart: 0.25, 0.95, 0.85, 0.95)
        XCTAssertEqual(mom(0.25), 0.85, accuracy: 1e-12)
        XCTAssertEqual(mom(1), 0.95, accuracy: 1e-12)
        // Through the Learner: the first batch runs at lrMax/25 with momentum 0.95.
        let learn = try makeLearner(opt: .sgd(momentum: 0.9))
        try learn.fitOneCycle(epochs: 4, lrMax: 0.1)
        XCTAssertEqual(learn.recorder.lrs.count, 8)
        XCTAssertEqual(learn.recorder.lrs[0], 0.004, accuracy: 1e-7)
        XCTAssertEqual(learn.recorder.lrs[2], 0.1, accuracy: 1e-7, "25% of 8 steps")
        XCTAssertEqual(learn.recorder.moms[0], 0.95, accuracy: 1e-7)
        XCTAssertEqual(learn.recorder.moms[2], 0.85, accuracy: 1e-7)
    }

    func testMetricsAverageOverTheValidationSetWeightedByBatchSize() throws {
        // Batches of 4 and 2: a metric that is 1 on the first batch and 0 on the second
        // averages to 4/6, not 1/2.
        let firstBatch = Metric("first") { _, y in y.count == 4 ? 1 : 0 }
        let learn = try makeLearner(metrics: [firstBatch, accuracy])
        try learn.fit(epochs: 1, lr: 0.1)
        XCTAssertEqual(learn.recorder.values[0][2], 4.0 / 6, accuracy: 1e-6)
        let (preds, targets) = try learn.getPreds()
        XCTAssertEqual(preds.shape, [6, 2])
        let exact = (preds.argmax(dim: 1) .== targets).mean().item()
        XCTAssertEqual(learn.recorder.values[0][3], exact, accuracy: 1e-6)
        XCTAssertEqual(try learn.validate()[1], 4.0 / 6, accuracy: 1e-6)
    }

    func testTableFormatAndRecorder() throws {
        let learn = try makeLearner(metrics: [accuracy])
        try learn.fit(epochs: 2, lr: 0.5)
        let lines = learn.progress.lines
        XCTAssertEqual(lines[0], "epoch     train_loss  valid_loss  accuracy  time      ")
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[1].hasPrefix("0         "), lines[1])
        let cells = lines[2].split(separator: " ")
        XCTAssertEqual(cells.count, 5)
        XCTAssertEqual(cells[4].count, 5, "time as mm:ss")
        XCTAssertEqual(learn.recorder.losses.count, 4)
        // Smoothed loss: debiased exponential average with β = 0.98.
        let l = learn.recorder.losses.map(Double.init)
        let avg2 = 0.98 * (0.02 * l[0]) + 0.02 * l[1]
        XCTAssertEqual(Double(learn.recorder.smoothLosses[1]), avg2 / (1 - 0.98 * 0.98), accuracy: 1e-5)
        XCTAssertEqual(Double(learn.recorder.smoothLosses[0]), l[0], accuracy: 1e-5)
        XCTAssertLessThan(learn.recorder.values[1][0], learn.recorder.values[0][0] + 0.5)
        let folder = FileManager.default.temporaryDirectory
        try learn.recorder.plotLoss(to: folder.appendingPathComponent("fastswift-loss.svg"))
        try learn.recorder.plotSched(to: folder.appendingPathComponent("fastswift-sched.svg"))
        XCTAssertTrue(try String(contentsOf: folder.appendingPathComponent("fastswift-loss.svg"), encoding: .utf8).contains("<polyline"))
    }

    func testAMismatchedModelIsReportedBeforeTraining() throws {
        seed(2)
        let x = Tensor.randn([8, 2]), y = Tensor((0..<8).map { Float($0 % 5) })
        let dl = try DataLoader(TensorDataset(x, y), batchSize: 4)
        let learn = Learner(dls: DataLoaders(dl, dl), model: Linear(2, 3), loss: crossEntropy)
        learn.progress.show = false
        XCTAssertThrowsError(try learn.fit(epochs: 1, lr: 0.1)) { error in
            XCTAssertTrue("\(error)".contains("a target is 3.0, but the model outputs 3 class scores"), "\(error)")
        }
        XCTAssertTrue(learn.recorder.losses.isEmpty, "nothing was trained")
    }

    func testInputsLabelsAndBatchesThatDoNotFitAreThrownNotTrapped() throws {
        // An input the first layer cannot take: named with the layer and both shapes, before training.
        seed(5)
        let images = Tensor.randn([8, 1, 28, 28]), digits = Tensor((0..<8).map { Float($0 % 10) })
        let imageDL = try DataLoader(TensorDataset(images, digits), batchSize: 4)
        let flat = Learner(dls: DataLoaders(imageDL, imageDL), model: Sequential(Linear(784, 10)), loss: crossEntropy)
        flat.progress.show = false
        XCTAssertThrowsError(try flat.fit(epochs: 1, lr: 0.1)) { error in
            XCTAssertTrue(error is LearnerError, "\(error)")
            XCTAssertTrue("\(error)".contains("the first validation batch of shape [2, 1, 28, 28] does not fit the model: Linear("), "\(error)")
            XCTAssertTrue("\(error)".contains(" at 0: input of shape [2, 1, 28, 28] does not end in 784 features"), "\(error)")
        }

        // A label past the model's outputs in a later training batch stops the fit there.
        let x = Tensor.randn([12, 2]), y = Tensor((0..<12).map { Float($0 == 9 ? 7 : $0 % 3) })
        let train = try DataLoader(TensorDataset(x, y), batchSize: 4)
        let valid = try DataLoader(TensorDataset(x[0..<4], y[0..<4]), batchSize: 4)
        let labels = Learner(dls: DataLoaders(train, valid), model: Linear(2, 3), loss: crossEntropy)
        labels.progress.show = false
        XCTAssertThrowsError(try labels.fit(epochs: 1, lr: 0.1)) { error in
            XCTAssertEqual(
                "\(error)",
                "training batch 2: a target is 7.0, but the model outputs 3 class scores (targets must be 0...2); "
                    + "the last layer must have as many outputs as the vocab (0)")
        }
        XCTAssertEqual(labels.recorder.losses.count, 2, "the two good batches trained")

        // A last training batch of one item cannot go through batch norm in training mode.
        let nine = try DataLoader(TensorDataset(x[0..<9], Tensor((0..<9).map { Float($0 % 2) })), batchSize: 4)
        let binary = try DataLoader(TensorDataset(x[0..<4], Tensor([0, 1, 1, 0])), batchSize: 4)
        let norm = Learner(
            dls: DataLoaders(nine, binary), model: Sequential(Linear(2, 4), BatchNorm1d(4), ReLU(), Linear(4, 2)),
            loss: crossEntropy)
        norm.progress.show = false
        XCTAssertThrowsError(try norm.fit(epochs: 1, lr: 0.1)) { error in
            XCTAssertTrue("\(error)".hasPrefix("the training batch 2 of shape [1, 2] does not fit the model: BatchNorm1d("), "\(error)")
            XCTAssertTrue("\(error)".contains(" at 1: expected more than 1 value per channel when training"), "\(error)")
        }
    }

    func testLayersReportTheShapesTheyGiveAndWhereAnInputStopsFitting() throws {
        let model = resnet18(inChannels: 1, classes: 10)
        XCTAssertEqual(try model.outputShape(for: [5, 1, 28, 28]), [5, 10])
        XCTAssertEqual(try model.outputShape(for: [5, 1, 64, 48]), [5, 10])
        XCTAssertThrowsError(try model.outputShape(for: [5, 3, 28, 28])) { error in
            XCTAssertEqual(
                "\(error)",
                "Conv2d(1, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False) at conv1: "
                    + "expected input [N, 1, H, W], got [5, 3, 28, 28]")
        }
        let head = Sequential(Sequential(AdaptiveConcatPool2d((1, 1)), Flatten(), BatchNorm1d(1024), Linear(1024, 4)), Softmax())
        XCTAssertEqual(try head.outputShape(for: [6, 512, 3, 3]), [6, 4])
        XCTAssertThrowsError(try head.outputShape(for: [6, 256, 3, 3])) { error in
            XCTAssertTrue("\(error)".contains(" at 0.2: expected input with 1024 channels on axis 1"), "\(error)")
        }
        // A layer that cannot tell ends the check without an error.
        XCTAssertNil(try Sequential(Lambda { $0 }, Linear(3, 2)).outputShape(for: [2, 5]))
    }

    func testATrainingSetWithoutAFullBatchIsAnErrorNotAHangOrAnEmptyFit() throws {
        // 3 items, batch 4, last partial batch dropped: no batch at all. lrFind used to loop
        // forever here, and fit to "train" zero steps.
        seed(3)
        let x = Tensor.randn([3, 2]), y = Tensor([0, 1, 0])
        let train = try DataLoader(TensorDataset(x, y), batchSize: 4, shuffle: true, dropLast: true)
        let learn = Learner(
            dls: DataLoaders(train, try DataLoader(TensorDataset(x, y), batchSize: 4)), model: Linear(2, 2),
            loss: crossEntropy)
        learn.progress.show = false
        for attempt in [{ try learn.fit(epochs: 1, lr: 0.1) }, { _ = try learn.lrFind() }] {
            XCTAssertThrowsError(try attempt()) { error in
                XCTAssertEqual(
                    "\(error)",
                    "the training set gives no batch: 3 items with batch size 4 and the last partial "
                        + "batch dropped; use a smaller batch size or more training items")
            }
        }
        XCTAssertThrowsError(try makeLearner().fit(epochs: -1, lr: 0.1)) { error in
            XCTAssertEqual("\(error)", "fit(epochs: -1): the number of epochs cannot be negative")
        }
    }

    func testPredictDecodesTheLabel() throws {
        let learn = try makeLearner()
        try learn.fit(epochs: 5, lr: 0.5)
        let (label, index, probabilities) = learn.predict(Tensor([0, 3]))
        XCTAssertEqual(probabilities.shape, [2])
        XCTAssertEqual(probabilities.sum().item(), 1, accuracy: 1e-5)
        XCTAssertEqual(label, ["a", "b"][index])
    }
}
