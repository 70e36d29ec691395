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
    static let workerDies = "FASTSWIFT_DDP_WORKER_DIES", workerCollectives = "FASTSWIFT_DDP_WORKER_COLLECTIVES"

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

    /// Runs only as a rank of `mpirun` from `testRingAllreduce...` below: sums buffers of many
    /// sizes (within one segment, several segments, not a multiple of the ranks, just above the
    /// ring's threshold) around the ring and in the library, and writes "ok" or the first
    /// mismatch to the output file from rank 0. Random values: the ring's sum has the library's
    /// bits (2 ranks, where both take `a + b`); small integers: both have the exact sum (any
    /// number of ranks, where the orders differ).
    func testCollectivesWorkerRank() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let output = environment[Self.workerCollectives] else { return }
        let mpi = try MPI.shared()
        var failures: [String] = []
        let threshold = mpi.size * MPI.ringElementsPerRank
        for count in [threshold, threshold + 1, 300_001, (1 << 18) * mpi.size + 17, 2_000_003] {
            let generator = RandomGenerator(seed: UInt64(count * 31 + mpi.rank))
            var values = (0..<count).map { _ in generator.nextNormal() }
            var integers = (0..<count).map { i in Float((i * 7 + mpi.rank * 13) % 101) - 50 }
            var library = values
            library.withUnsafeMutableBufferPointer { mpi.libraryAllreduceSum($0.baseAddress!, count: count) }
            values.withUnsafeMutableBufferPointer { mpi.allreduceSum($0.baseAddress!, count: count) }
            integers.withUnsafeMutableBufferPointer { mpi.allreduceSum($0.baseAddress!, count: count) }
            for i in 0..<count {
                let exact = (0..<mpi.size).reduce(Float(0)) { $0 + Float((i * 7 + $1 * 13) % 101) - 50 }
                if integers[i] != exact {
                    failures.append("count \(count): integers[\(i)] = \(integers[i]), the exact sum is \(exact)")
                    break
                }
                if mpi.size == 2 && values[i].bitPattern != library[i].bitPattern {
                    failures.append("count \(count): ring[\(i)] = \(values[i]), MPI_Allreduce gives \(library[i])")
                    break
                }
            }
        }
        // Every rank's verdict reaches rank 0.
        var failed = [Double(failures.isEmpty ? 0 : 1)]
        failed = mpi.allreduceSum(failed)
        if mpi.rank == 0 {
            let verdict = failed[0] == 0 ? "ok" : "failures on \(Int(failed[0])) ranks; rank 0: " + failures.joined(separator: "; ")
            try verdict.write(toFile: output, atomically: true, encoding: .utf8)
        }
    }

    /// The ring's sums against `MPI_Allreduce`'s (bit for bit over 2 ranks) and against exact
    /// integer sums (over 2 and 3 ranks).
    func testRingAllreduceGivesTheLibrarysSums() throws {
        guard mpirun() != nil else { return }
        for ranks in [2, 3] {
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-ring-\(UUID().uuidString).txt")
            defer { try? FileManager.default.removeItem(at: output) }
            let (status, log) = try launch(
                test: "testCollectivesWorkerRank", ranks: ranks, environment: [Self.workerCollectives: output.path])
            XCTAssertEqual(status, 0, log)
            XCTAssertEqual(try? String(contentsOf: output, encoding: .utf8), "ok", "\(ranks) ranks")
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
        var environment = [Self.workerOutput: output.path, Self.workerOptimizer: optimizer]
        if dies { environment[Self.workerDies] = "1" }
        let (status, log) = try launch(test: "testWorkerRank", ranks: 2, environment: environment)
        return (status, output, log)
    }

    /// Runs the test method `test` of this class in `ranks` processes of one thread each, with
    /// `environment` added; returns the exit status and the ranks' output.
    func launch(test: String, ranks: Int, environment extra: [String: String]) throws -> (status: Int32, log: String) {
        let process = Process()
        process.executableURL = try XCTUnwrap(mpirun())
        process.arguments =
            MPI.launchArguments(process.executableURL!, ranks: ranks)
            + [CommandLine.arguments[0], "TrainingTests.DistributedTests/\(test)"]
        var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        environment["FASTSWIFT_THREADS"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, log)
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
