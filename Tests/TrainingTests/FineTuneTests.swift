import Foundation
import XCTest
@testable import DataBlocks
@testable import Layers
@testable import Optimizers
@testable import Tensors
@testable import Training

/// Records each group's learning rate and the momentum at every step, and which parameters
/// train when each fit begins.
final class ScheduleLog: Callback {
    var steps: [(lrs: [Double], mom: Double)] = []
    var phases: [[[Bool]]] = []
    override func beforeFit(_ l: Learner) throws { phases.append(l.opt!.groups.map { $0.parameters.map(\.requiresGrad) }) }
    override func beforeStep(_ l: Learner) throws {
        steps.append((l.opt!.values(\.lr).map(Double.init), Double(l.opt!.groups.last!.hypers.momentum)))
    }
}

final class FineTuneTests: XCTestCase {
    static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

    /// Three groups as the fixture's: conv + batch norm, conv + batch norm + pooling, a linear head.
    func threeGroupLearner() throws -> Learner {
        seed(3)
        let x = Tensor.randn([60, 3, 8, 8]), y = Tensor((0..<60).map { Float($0 % 2) })
        let train = try DataLoader(TensorDataset(x[0..<48], y[0..<48]), batchSize: 8, shuffle: true, dropLast: true)
        let valid = try DataLoader(TensorDataset(x[48..<60], y[48..<60]), batchSize: 8)
        let model = Sequential(
            Sequential(Conv2d(3, 4, kernelSize: 3), BatchNorm2d(4), ReLU()),
            Sequential(Conv2d(4, 4, kernelSize: 3), BatchNorm2d(4), ReLU(), AdaptiveAvgPool2d((1, 1)), Flatten()),
            Linear(4, 2))
        let learn = Learner(dls: DataLoaders(train, valid), model: model, loss: crossEntropy)
        learn.splitter = { m in (m as? Sequential)?.layers.map { [$0] } ?? [[m]] }
        learn.progress.show = false
        return learn
    }

    func testFineTuneFollowsFastaisScheduleAndFreezing() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("fine_tune_schedule.json"))
        let reference = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let steps = try XCTUnwrap(reference["steps"] as? [[String: Any]])
        let phases = try XCTUnwrap(reference["trainable_by_phase"] as? [[[Bool]]])
        let learn = try threeGroupLearner()
        XCTAssertEqual(learn.parameterGroups.map(\.count), [4, 4, 2])
        let log = ScheduleLog()
        learn.add([log])
        try learn.fineTune(epochs: 2, baseLr: 1e-2)
        XCTAssertEqual(log.phases, phases, "frozen: only the batch norms and the head train; then everything")
        XCTAssertEqual(log.steps.count, steps.count)
        for (i, (mine, theirs)) in zip(log.steps, steps).enumerated() {
            let lrs = try XCTUnwrap(theirs["lrs"] as? [Double]), mom = try XCTUnwrap(theirs["mom"] as? Double)
            for (a, b) in zip(mine.lrs, lrs) { XCTAssertEqual(a, b, accuracy: 1e-5 * b, "step \(i): group learning rates \(mine.lrs) vs fastai's \(lrs)") }
            XCTAssertEqual(mine.mom, mom, accuracy: 1e-6, "step \(i): momentum")
        }
    }

    func testFrozenGroupsDoNotChangeButTheirBatchNormsDo() throws {
        let learn = try threeGroupLearner()
        learn.freeze()
        let before = learn.model.stateDict()
        try learn.fit(epochs: 1, lr: 1e-2)
        let after = learn.model.stateDict()
        XCTAssertEqual(after["0.0.weight"], before["0.0.weight"], "a frozen convolution keeps its weights")
        XCTAssertEqual(after["1.0.weight"], before["1.0.weight"])
        XCTAssertNotEqual(after["0.1.weight"], before["0.1.weight"], "batch norms train while frozen (train_bn)")
        XCTAssertNotEqual(after["2.weight"], before["2.weight"], "the head trains")
        learn.unfreeze()
        try learn.fit(epochs: 1, lr: 1e-2)
        XCTAssertNotEqual(learn.model.stateDict()["0.0.weight"], before["0.0.weight"])
    }

    func testDiscriminativeLearningRatesSpreadOverTheGroups() throws {
        let learn = try threeGroupLearner()
        let lrs = learn.learningRates(1e-5...1e-3)
        XCTAssertEqual(lrs.count, 3)
        XCTAssertEqual(lrs[0], 1e-5, accuracy: 1e-12)
        XCTAssertEqual(lrs[1], 1e-4, accuracy: 1e-9)
        XCTAssertEqual(lrs[2], 1e-3, accuracy: 1e-8)
        XCTAssertEqual(learn.learningRates(upTo: 1e-3), [1e-3 / 10, 1e-3 / 10, 1e-3])
        XCTAssertThrowsError(try learn.fitOneCycle(epochs: 1, lrs: [1e-3, 1e-3])) { error in
            XCTAssertEqual("\(error)", "fitOneCycle: 2 learning rates for 3 parameter groups")
        }
    }

    func testLRFindOnFrozenAndUnfrozenModelsSuggestsThreeRates() throws {
        let learn = try threeGroupLearner()
        learn.freeze()
        let before = learn.model.stateDict()
        let frozen = try learn.lrFind(iterations: 30)
        XCTAssertEqual(learn.model.stateDict(), before, "lrFind puts the model back")
        XCTAssertFalse(learn.parameterGroups[0][0].requiresGrad, "and leaves it frozen")
        for rate in [frozen.valley, frozen.minimum, frozen.steep] {
            XCTAssertTrue(rate >= 1e-8 && rate <= 10, "\(rate) is within the range tried")
        }
        XCTAssertEqual(
            frozen.minimum * 10, frozen.lrs[frozen.losses.indices.dropFirst(3).dropLast(5).min { frozen.losses[$0] < frozen.losses[$1] }!],
            accuracy: 1e-12, "a tenth of the rate with the lowest loss, the first tenth and last 5 left out")
        learn.unfreeze()
        XCTAssertGreaterThan(try learn.lrFind(iterations: 30).lrs.count, 5)
    }
}
