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
            cancelAt = nil   // once: a CancelTrain thrown again while validating would end the fit
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
    func makeLearner(metrics: [Metric] = [], cbs: [Callback] = [], opt: OptimizerFactory = .sgd) -> Learner {
        seed(1)
        let x = Tensor.randn([16, 2]), y = Tensor((0..<16).map { Float($0 % 2) })
        let inputs = x + y.unsqueeze(1) * 3
        let train = DataLoader(TensorDataset(inputs[0..<10], y[0..<10]), batchSize: 4, shuffle: true, dropLast: true)
        let valid = DataLoader(TensorDataset(inputs[10..<16], y[10..<16]), batchSize: 4)
        let learn = Learner(dls: DataLoaders(train, valid, vocab: ["a", "b"]), model: Sequential(Linear(2, 2)), loss: crossEntropy,
                            opt: opt, metrics: metrics, cbs: cbs)
        learn.progress.show = false
        return learn
    }

    func testEventsRunInFastaisOrder() throws {
        let log = EventLog()
        try makeLearner(cbs: [log]).fit(epochs: 1, lr: 0.1)
        let batch = ["beforeBatch", "afterPred", "afterLoss", "beforeBackward", "beforeStep", "afterStep", "afterBatch"]
        let validBatch = ["beforeBatch", "afterPred", "afterLoss", "afterBatch"]
        XCTAssertEqual(log.events, ["beforeFit", "beforeEpoch", "beforeTrain"] + batch + batch + ["afterTrain", "beforeValidate"]
                       + validBatch + validBatch + ["afterValidate", "afterEpoch", "afterFit"])
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
            let learn = makeLearner(cbs: [log])
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
        let learn = makeLearner(cbs: [NoSteps()])
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
        let learn = makeLearner(opt: .sgd(momentum: 0.9))
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
        let learn = makeLearner(metrics: [firstBatch, accuracy])
        try learn.fit(epochs: 1, lr: 0.1)
        XCTAssertEqual(learn.recorder.values[0][2], 4.0 / 6, accuracy: 1e-6)
        let (preds, targets) = learn.getPreds()
        XCTAssertEqual(preds.shape, [6, 2])
        let exact = (preds.argmax(dim: 1) .== targets).mean().item()
        XCTAssertEqual(learn.recorder.values[0][3], exact, accuracy: 1e-6)
        XCTAssertEqual(try learn.validate()[1], 4.0 / 6, accuracy: 1e-6)
    }

    func testTableFormatAndRecorder() throws {
        let learn = makeLearner(metrics: [accuracy])
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

    func testAMismatchedModelIsReportedBeforeTraining() {
        seed(2)
        let x = Tensor.randn([8, 2]), y = Tensor((0..<8).map { Float($0 % 5) })
        let dl = DataLoader(TensorDataset(x, y), batchSize: 4)
        let learn = Learner(dls: DataLoaders(dl, dl), model: Linear(2, 3), loss: crossEntropy)
        learn.progress.show = false
        XCTAssertThrowsError(try learn.fit(epochs: 1, lr: 0.1)) { error in
            XCTAssertTrue("\(error)".contains("outputs 3 class scores [2, 3] but a target is 3"), "\(error)")
        }
        XCTAssertTrue(learn.recorder.losses.isEmpty, "nothing was trained")
    }

    func testATrainingSetWithoutAFullBatchIsAnErrorNotAHangOrAnEmptyFit() {
        // 3 items, batch 4, last partial batch dropped: no batch at all. lrFind used to loop
        // forever here, and fit to "train" zero steps.
        seed(3)
        let x = Tensor.randn([3, 2]), y = Tensor([0, 1, 0])
        let train = DataLoader(TensorDataset(x, y), batchSize: 4, shuffle: true, dropLast: true)
        let learn = Learner(dls: DataLoaders(train, DataLoader(TensorDataset(x, y), batchSize: 4)), model: Linear(2, 2),
                            loss: crossEntropy)
        learn.progress.show = false
        for attempt in [{ try learn.fit(epochs: 1, lr: 0.1) }, { _ = try learn.lrFind() }] {
            XCTAssertThrowsError(try attempt()) { error in
                XCTAssertEqual("\(error)", "the training set gives no batch: 3 items with batch size 4 and the last partial "
                               + "batch dropped; use a smaller batch size or more training items")
            }
        }
        XCTAssertThrowsError(try makeLearner().fit(epochs: -1, lr: 0.1)) { error in
            XCTAssertEqual("\(error)", "fit(epochs: -1): the number of epochs cannot be negative")
        }
    }

    func testPredictDecodesTheLabel() throws {
        let learn = makeLearner()
        try learn.fit(epochs: 5, lr: 0.5)
        let (label, index, probabilities) = learn.predict(Tensor([0, 3]))
        XCTAssertEqual(probabilities.shape, [2])
        XCTAssertEqual(probabilities.sum().item(), 1, accuracy: 1e-5)
        XCTAssertEqual(label, ["a", "b"][index])
    }
}
