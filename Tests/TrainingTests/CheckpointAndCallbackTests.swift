import Foundation
import XCTest
@testable import Autograd
@testable import DataBlocks
@testable import Layers
@testable import Optimizers
@testable import Tensors
@testable import Training

final class CheckpointAndCallbackTests: XCTestCase {
    var folder: URL!

    override func setUp() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-learn-\(UUID().uuidString)")
    }
    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func makeLearner(
        model: Module? = nil, opt: OptimizerFactory = .adam, loss: @escaping LossFunction = crossEntropy,
        cbs: [Callback] = [], shuffle: Bool = false
    ) throws -> Learner {
        seed(3)
        let x = Tensor.randn([32, 4]), y = Tensor((0..<32).map { Float($0 % 3) })
        let inputs = x + y.unsqueeze(1)
        let train = try DataLoader(TensorDataset(inputs[0..<24], y[0..<24]), batchSize: 8, shuffle: shuffle)
        let valid = try DataLoader(TensorDataset(inputs[24..<32], y[24..<32]), batchSize: 8)
        let learn = Learner(
            dls: DataLoaders(train, valid, vocab: ["a", "b", "c"]),
            model: model ?? Sequential(Linear(4, 8), BatchNorm1d(8), ReLU(), Linear(8, 3)),
            loss: loss, opt: opt, metrics: [accuracy], cbs: cbs)
        learn.progress.show = false
        learn.path = folder
        return learn
    }

    func testSaveLoadRoundTripIsBitExactWithOptimizerState() throws {
        let learn = try makeLearner()
        try learn.fit(epochs: 1, lr: 0.01)
        let file = try learn.save("stage1")
        XCTAssertTrue(FileManager.default.fileExists(atPath: file.path))
        try learn.fit(epochs: 1, lr: 0.01)
        let continued = learn.model.stateDict()
        try learn.load("stage1")
        try learn.fit(epochs: 1, lr: 0.01)
        let replayed = learn.model.stateDict()
        XCTAssertEqual(Set(continued.keys), Set(replayed.keys))
        for (name, t) in continued { XCTAssertEqual(replayed[name], t, "\(name) differs after load + the same epoch") }
        // The file holds the Adam state and the batch norm's running statistics.
        let (tensors, _) = try SafeTensors.read(file)
        XCTAssertNotNil(tensors["opt.0.exp_avg"])
        XCTAssertNotNil(tensors["model.1.running_mean"], "PyTorch's buffer names")
    }

    func testLoadingAMismatchedCheckpointListsEveryMismatch() throws {
        let learn = try makeLearner()
        try learn.fit(epochs: 1, lr: 0.01)
        try learn.save("small")
        let other = try makeLearner(model: Sequential(Linear(4, 5), BatchNorm1d(5), ReLU(), Linear(5, 3), ReLU(), Linear(3, 3)))
        other.path = folder
        let before = other.model.stateDict()
        XCTAssertThrowsError(try other.load("small")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("0.weight: checkpoint has [8, 4], model has [5, 4]"), text)
            XCTAssertTrue(text.contains("5.weight: missing from the checkpoint"), text)
            XCTAssertTrue(text.contains("1.running_mean: checkpoint has [8], model has [5]"), text)
        }
        XCTAssertEqual(other.model.stateDict()["0.weight"], before["0.weight"], "nothing changed")
    }

    func testAFailedLoadChangesNothing() throws {
        // An Adam checkpoint into an SGD-momentum Learner: refused before the weights are touched.
        let adam = try makeLearner()
        try adam.fit(epochs: 1, lr: 0.01)
        try adam.save("adam")
        let sgd = try makeLearner(opt: .sgd(momentum: 0.9))
        try sgd.fit(epochs: 1, lr: 0.01)
        let before = sgd.model.stateDict().mapValues { $0.clone() }, optBefore = sgd.opt!.stateDict()
        XCTAssertThrowsError(try sgd.load("adam")) { error in
            XCTAssertTrue("\(error)".contains("optimizer state 0.exp_avg: not expected by this optimizer"), "\(error)")
        }
        XCTAssertEqual(sgd.model.stateDict(), before, "the weights are unchanged")
        XCTAssertEqual(sgd.opt!.stateDict(), optBefore, "the optimizer is unchanged")

        // Step counts that are not one whole non-negative number are named, and change nothing.
        let file = adam.checkpointFile("adam")
        let (tensors, metadata) = try SafeTensors.read(file)
        for (bad, reason) in [
            (Tensor([1, 2]), "a step count must be one number, got shape [2]"),
            (Tensor(Float.nan), "nan is not a step count"), (Tensor(-3), "-3.0 is not a step count"),
            (Tensor(2.5), "2.5 is not a step count"),
        ] {
            var broken = tensors
            broken["opt.0.step"] = bad
            try SafeTensors.write(broken, metadata: metadata, to: adam.checkpointFile("broken"))
            let fresh = try makeLearner()
            let weights = fresh.model.stateDict().mapValues { $0.clone() }
            XCTAssertThrowsError(try fresh.load("broken")) { error in
                XCTAssertTrue("\(error)".contains("optimizer state 0.step: \(reason)"), "\(error)")
            }
            XCTAssertEqual(fresh.model.stateDict(), weights)
            XCTAssertNil(fresh.opt, "no optimizer was made")
        }
        // A model mismatch after a good optimizer state: the optimizer made for it is dropped too.
        var wrongModel = tensors
        wrongModel["model.0.weight"] = Tensor.zeros([2, 2])
        try SafeTensors.write(wrongModel, metadata: metadata, to: adam.checkpointFile("wrong"))
        let fresh = try makeLearner()
        XCTAssertThrowsError(try fresh.load("wrong")) { XCTAssertTrue("\($0)".contains("0.weight: checkpoint has [2, 2]"), "\($0)") }
        XCTAssertNil(fresh.opt)
    }

    func testExportRefusesToReplaceAFolder() throws {
        let learn = try makeLearner()
        let target = folder.appendingPathComponent("results")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: target.appendingPathComponent("thesis.txt"))
        XCTAssertThrowsError(try learn.export(target)) { error in
            XCTAssertTrue("\(error)".contains("is a folder; refusing to replace it"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOf: target.appendingPathComponent("thesis.txt"), encoding: .utf8), "keep me")
    }

    func testExportAndLoadLearner() throws {
        let learn = try makeLearner()
        try learn.fit(epochs: 2, lr: 0.01)
        let file = try learn.export()
        let item = learn.dls.valid.oneBatch().0[0]
        let expected = learn.predict(item)
        let loaded = try loadLearner(file, model: Sequential(Linear(4, 8), BatchNorm1d(8), ReLU(), Linear(8, 3)))
        let got = loaded.predict(item)
        XCTAssertEqual(got.label, expected.label)
        XCTAssertEqual(got.probabilities, expected.probabilities)
        XCTAssertEqual(loaded.vocab, ["a", "b", "c"])
    }

    func testLRFindSuggestsAWorkingRateAndRestoresTheModel() throws {
        // Linear regression on standardised inputs: rates up to about 1 converge.
        seed(5)
        let x = Tensor.randn([256, 3]), w = Tensor([[1.5], [-2], [0.5]])
        let y = x • w
        let dl = try DataLoader(TensorDataset(x, y), batchSize: 32, shuffle: true)
        let learn = Learner(dls: DataLoaders(dl, dl), model: Linear(3, 1), loss: mse, opt: .sgd)
        learn.progress.show = false
        let before = learn.model.stateDict()
        let result = try learn.lrFind(plot: folder.appendingPathComponent("lr.svg"))
        XCTAssertGreaterThan(result.valley, 1e-3)
        XCTAssertLessThan(result.valley, 1)
        XCTAssertLessThan(result.lrs.count, 101)
        XCTAssertEqual(learn.model.stateDict()["weight"], before["weight"], "the model is restored")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("lr.svg").path))
        // The suggested rate trains: 40 steps cut the loss by more than half.
        let initial = try learn.validate()[0]
        try learn.fit(epochs: 5, lr: result.valley)
        XCTAssertLessThan(try learn.validate()[0], initial / 2)
        // fastai's valley rule on a hand-made curve: decreasing from index 2 to 8.
        let losses: [Float] = [5, 6, 4, 3.5, 3, 2.5, 2, 1.5, 1, 3, 9]
        let lrs = (0..<11).map { Float($0) }
        XCTAssertEqual(valleySuggestion(lrs: lrs, losses: losses), 3)
    }

    func testEarlyStoppingTerminateOnNaNAndGradientClip() throws {
        // lr 0: the validation loss never improves, so training stops after `patience` epochs.
        let early = try makeLearner(cbs: [EarlyStopping(monitor: "valid_loss", patience: 2)])
        try early.fit(epochs: 10, lr: 0)
        XCTAssertEqual(early.recorder.values.count, 3)
        // A loss that turns NaN on the third training batch ends the fit there (call 1 is the
        // Learner's check before training; TerminateOnNaN runs before the Recorder).
        final class Counter { var n = 0 }
        let counter = Counter()
        let nan = try makeLearner(
            loss: { p, y in
                counter.n += 1
                return counter.n == 4 ? crossEntropy(p, y) * Float.nan : crossEntropy(p, y)
            }, cbs: [TerminateOnNaN()])
        try nan.fit(epochs: 5, lr: 0.01)
        XCTAssertEqual(nan.recorder.losses.count, 2)
        XCTAssertTrue(nan.recorder.values.isEmpty, "the first epoch never finished")
        // Clipping: every step sees a global gradient norm of at most 0.1.
        final class NormProbe: Callback {
            var norms: [Float] = []
            override var order: Int { 10 }
            override func beforeStep(_ learn: Learner) throws {
                norms.append(learn.model.parameters.compactMap(\.grad).reduce(Float(0)) { $0 + $1.square().sum().item() }.squareRoot())
            }
        }
        let probe = NormProbe()
        let clipped = try makeLearner(cbs: [GradientClip(maxNorm: 0.1), probe])
        try clipped.fit(epochs: 1, lr: 0.01)
        XCTAssertEqual(probe.norms.count, 3)
        XCTAssertTrue(probe.norms.allSatisfy { $0 <= 0.1 + 1e-4 }, "\(probe.norms)")
    }

    func testSaveModelKeepsTheBestAndSummaryDescribesTheModel() throws {
        let learn = try makeLearner(cbs: [SaveModel(monitor: "accuracy", fileName: "best")])
        try learn.fit(epochs: 3, lr: 0.05)
        XCTAssertTrue(FileManager.default.fileExists(atPath: learn.checkpointFile("best").path))
        let summary = learn.summary()
        XCTAssertTrue(summary.contains("Linear                  [8, 8]                  40          True"), summary)
        XCTAssertTrue(summary.contains("Total params: \(learn.model.parameterCount)"), summary)
        XCTAssertTrue(summary.contains("Optimizer used: Adam"), summary)
        XCTAssertTrue(summary.contains("  - SaveModel"), summary)
        // Frozen parameters are counted as such: the first layer's weight and bias (4·8 + 8).
        let firstLayer = try XCTUnwrap((learn.model as? Sequential)?.layers.first)
        for var p in firstLayer.parameters { p.requiresGrad = false }
        let partly = learn.summary()
        XCTAssertTrue(partly.contains("Total non-trainable params: 40"), partly)
        XCTAssertTrue(partly.contains("Total trainable params: \(learn.model.parameterCount - 40)"), partly)
        XCTAssertTrue(partly.contains("Linear                  [8, 8]                  40          False"), partly)
        for var p in firstLayer.parameters { p.requiresGrad = true }
    }
}

final class LegacyCheckpointNameTests: XCTestCase {
    func testCheckpointsWithTheOldBatchNormNamesStillLoad() throws {
        let model = Sequential(Linear(2, 3), BatchNorm1d(3))
        var state = model.stateDict()
        XCTAssertNotNil(state["1.running_var"])
        state["1.runningVar"] = Tensor([2, 2, 2]); state["1.running_var"] = nil
        state["1.runningMean"] = state.removeValue(forKey: "1.running_mean")
        try model.loadStateDict(state)
        XCTAssertEqual(model.stateDict()["1.running_var"], Tensor([2, 2, 2]))
    }
}
