import Foundation
import XCTest
@testable import DataBlocks
@testable import Layers
@testable import Optimizers
@testable import Tensors
@testable import Training

/// Data-parallel training over MPI: 2 ranks × batch 32 reach the weights 1 process × batch 64
/// reaches. Needs Open MPI or MPICH (`.ci/run` installs Open MPI where it can); without it the
/// tests say why and are skipped.
final class DistributedTests: XCTestCase {
    static let workerOutput = "FASTSWIFT_DDP_WORKER_OUTPUT", workerOptimizer = "FASTSWIFT_DDP_WORKER_OPTIMIZER"
    static let workerDies = "FASTSWIFT_DDP_WORKER_DIES"

    /// An MLP on 640 separable points: 20 steps of 64 (or 2 × 32) in two epochs.
    func makeLearner(batchSize: Int, optimizer: String) throws -> Learner {
        seed(17)
        let x = Tensor.randn([704, 8]), y = Tensor((0..<704).map { Float($0 % 4) })
        let inputs = x + y.unsqueeze(1) * 0.5
        let train = try DataLoader(TensorDataset(inputs[0..<640], y[0..<640]), batchSize: batchSize, shuffle: true, dropLast: true)
        let valid = try DataLoader(TensorDataset(inputs[640..<704], y[640..<704]), batchSize: batchSize)
        let model = Sequential(Linear(8, 32), ReLU(), Linear(32, 4))
        let opt: OptimizerFactory = optimizer == "adam" ? .adam : .sgd(momentum: 0.9)
        let learn = Learner(
            dls: DataLoaders(train, valid, vocab: ["a", "b", "c", "d"]), model: model, loss: crossEntropy, opt: opt,
            metrics: [accuracy, f1Score])
        learn.progress.show = false
        return learn
    }

    /// Runs only as a rank of `mpirun` from the tests below.
    func testWorkerRank() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let output = environment[Self.workerOutput], let optimizer = environment[Self.workerOptimizer] else { return }
        let learn = try makeLearner(batchSize: 32, optimizer: optimizer)
        try learn.distributed()
        if environment[Self.workerDies] != nil {
            final class Die: Callback {
                override func afterBatch(_ l: Learner) throws { if l.processRank == 1 && l.iteration == 3 { kill(getpid(), SIGKILL) } }
            }
            learn.add([Die()])
        }
        try learn.fitOneCycle(epochs: 2, lrMax: 0.05)
        let values = learn.recorder.values.last!.map(Double.init)
        if learn.processRank == 0 {
            try SafeTensors.write(
                learn.model.stateDict(), metadata: ["table": values.map { "\($0)" }.joined(separator: ",")],
                to: URL(fileURLWithPath: output))
        }
    }

    /// `mpirun`, or nil (with the reason printed) when MPI is not installed.
    func mpirun() -> URL? {
        if let launcher = MPI.launcher { return launcher }
        print("DistributedTests: skipped: no mpirun (install Open MPI: apt-get install openmpi-bin libopenmpi-dev)")
        return nil
    }

    /// Runs `testWorkerRank` in 2 ranks of one thread each; returns the exit status and rank 0's file.
    func runRanks(optimizer: String, dies: Bool = false) throws -> (status: Int32, output: URL, log: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-ddp-\(UUID().uuidString).safetensors")
        let process = Process()
        process.executableURL = try XCTUnwrap(mpirun())
        process.arguments =
            MPI.launchArguments(process.executableURL!, ranks: 2)
            + [CommandLine.arguments[0], "TrainingTests.DistributedTests/testWorkerRank"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.workerOutput] = output.path
        environment[Self.workerOptimizer] = optimizer
        environment["FASTSWIFT_THREADS"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        if dies { environment[Self.workerDies] = "1" }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output, log)
    }

    func testTwoRanksOfHalfBatchesReachTheWeightsOfOneProcess() throws {
        guard mpirun() != nil else { return }
        for optimizer in ["sgd", "adam"] {
            let (status, output, log) = try runRanks(optimizer: optimizer)
            defer { try? FileManager.default.removeItem(at: output) }
            XCTAssertEqual(status, 0, log)
            guard status == 0 else { continue }
            let (distributed, metadata) = try SafeTensors.read(output)
            let single = try makeLearner(batchSize: 64, optimizer: optimizer)
            try single.fitOneCycle(epochs: 2, lrMax: 0.05)
            XCTAssertEqual(single.iteration, 20)
            for (name, reference) in single.model.stateDict() {
                let mine = try XCTUnwrap(distributed[name])
                let scale = max(reference.abs().max().item(), 1e-6)
                let worst = (mine - reference).abs().max().item()
                XCTAssertLessThanOrEqual(worst / scale, 1e-5, "\(optimizer) \(name): 2 × 32 differs from 1 × 64 by \(worst)")
            }
            // The table: the whole validation set's loss and metrics, as one process computes them.
            let table = try XCTUnwrap(metadata["table"]).split(separator: ",").compactMap { Double($0) }
            let expected = single.recorder.values.last!.map(Double.init)
            for (i, (a, b)) in zip(table, expected).enumerated() where i > 0 { XCTAssertEqual(a, b, accuracy: 1e-4, "\(optimizer) column \(i)") }
        }
    }

    func testARankThatDiesEndsTheJobInsteadOfHanging() throws {
        guard mpirun() != nil else { return }
        let start = Date()
        let (status, output, _) = try runRanks(optimizer: "sgd", dies: true)
        defer { try? FileManager.default.removeItem(at: output) }
        XCTAssertNotEqual(status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 60, "the surviving rank was stopped, not left waiting")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path))
    }

    func testWithoutMPITheErrorNamesWhatToInstall() {
        XCTAssertThrowsError(try MPI.openLibrary(["/nonexistent/libmpi.so"])) { error in
            XCTAssertTrue("\(error)".contains("no MPI library found (tried /nonexistent/libmpi.so)"), "\(error)")
            XCTAssertTrue("\(error)".contains("apt-get install openmpi-bin libopenmpi-dev"), "\(error)")
        }
    }
}
