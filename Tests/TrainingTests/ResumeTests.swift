import Foundation
import XCTest
@testable import DataBlocks
@testable import Layers
@testable import Tensors
@testable import Training

/// Kills its own process, as `kill -9` would, at one training batch.
final class KillAtIteration: Callback {
    let iteration: Int
    init(_ iteration: Int) { self.iteration = iteration }
    override func afterBatch(_ learn: Learner) throws {
        if learn.training && learn.iteration == iteration { kill(getpid(), SIGKILL) }
    }
}

final class ResumeTests: XCTestCase {
    static let childFolder = "FASTSWIFT_RESUME_CHILD_FOLDER"

    /// Adam, a one-cycle schedule, shuffling, batch norm and dropout: every piece of state a
    /// resumed fit must restore. 9 training batches per epoch.
    func makeLearner(folder: URL) throws -> Learner {
        seed(21)
        let x = Tensor.randn([96, 6]), y = Tensor((0..<96).map { Float($0 % 3) })
        let inputs = x + y.unsqueeze(1)
        let train = try DataLoader(TensorDataset(inputs[0..<72], y[0..<72]), batchSize: 8, shuffle: true, dropLast: true)
        let valid = try DataLoader(TensorDataset(inputs[72..<96], y[72..<96]), batchSize: 8)
        let model = Sequential(Linear(6, 16), BatchNorm1d(16), ReLU(), Dropout(p: 0.3), Linear(16, 3))
        let learn = Learner(
            dls: DataLoaders(train, valid, vocab: ["a", "b", "c"]), model: model, loss: crossEntropy,
            opt: .adam, metrics: [accuracy])
        learn.progress.show = false
        learn.path = folder
        return learn
    }

    /// Runs only as the child process of `testAFitKilledMidEpochResumesBitForBit`: a checkpoint
    /// after each epoch, then SIGKILL in the middle of the third epoch.
    func testChildTrainsUntilKilled() throws {
        guard let folder = ProcessInfo.processInfo.environment[Self.childFolder] else { return }
        let learn = try makeLearner(folder: URL(fileURLWithPath: folder))
        try learn.fitOneCycle(epochs: 4, lrMax: 0.01, cbs: [SaveModel(fileName: "resume", everyEpoch: true), KillAtIteration(2 * 9 + 4)])
        XCTFail("the child process should have been killed in epoch 2")
    }

    func testAFitKilledMidEpochResumesBitForBit() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let reference = try makeLearner(folder: folder.appendingPathComponent("reference"))
        try reference.fitOneCycle(epochs: 4, lrMax: 0.01)

        // The same fit in a child process (this test binary running the test above), killed
        // with SIGKILL in the middle of its third epoch.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["TrainingTests.ResumeTests/testChildTrainsUntilKilled"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childFolder] = folder.appendingPathComponent("child").path
        environment["FASTSWIFT_THREADS"] = String(Threads.count)
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .uncaughtSignal, "the child was killed, not finished")
        XCTAssertEqual(child.terminationStatus, SIGKILL)
        let models = folder.appendingPathComponent("child/models")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: models.path).sorted(),
            ["resume_0.safetensors", "resume_1.safetensors"], "two epochs done, no temporary file left")

        // Resumed after its last finished epoch, it ends where the uninterrupted run ended.
        let resumed = try makeLearner(folder: folder.appendingPathComponent("resumed"))
        try resumed.fitOneCycle(epochs: 4, lrMax: 0.01, resume: models.appendingPathComponent("resume_1.safetensors"))
        XCTAssertEqual(resumed.iteration, reference.iteration)
        XCTAssertEqual(resumed.model.stateDict(), reference.model.stateDict(), "weights and batch-norm statistics, bit for bit")
        XCTAssertEqual(resumed.opt!.stateDict(), reference.opt!.stateDict(), "Adam's moments and step counts")
        XCTAssertEqual(resumed.recorder.values.last, reference.recorder.values.last, "the last epoch's row: smoothed training loss, validation loss, accuracy")

        // A fit of another length cannot resume from it, and says why.
        let other = try makeLearner(folder: folder.appendingPathComponent("other"))
        XCTAssertThrowsError(try other.fitOneCycle(epochs: 5, lrMax: 0.01, resume: models.appendingPathComponent("resume_1.safetensors"))) {
            XCTAssertTrue("\($0)".contains("saved after epoch 2 of a fit of 4 epochs of 9 batches; this fit has 5 epochs"), "\($0)")
        }
    }
}
