import Dispatch
import FastSwift
import Foundation

/// `benchmarks distributed`: ResNet-18 training images/s (one `fitOneCycle` epoch over in-memory
/// 1×28×28 images, global batch 64) in one process of 2 threads against 2 MPI processes of 1
/// thread each (`mpirun -np 2`, launched by this suite), and the gradient allreduce's share of
/// the training step time. Needs Open MPI or MPICH for the second case (skipped, saying why,
/// without).
func runDistributedSuite(_ options: BenchmarkOptions) throws {
    var reporter = Reporter(json: options.json, columns: ["images_per_s", "ranks", "allreduce_share"])
    if ProcessInfo.processInfo.environment["FASTSWIFT_BENCH_DDP_WORKER"] != nil {
        Threads.count = 1
        try distributedEpoch(reporter: &reporter, distributed: true)
        return
    }
    try withThreads(options.threads?.first ?? 2) {
        try distributedEpoch(reporter: &reporter, distributed: false)
    }
    guard let mpirun = MPI.launcher else {
        FileHandle.standardError.write(Data("distributed: 2 ranks skipped: no mpirun (install Open MPI: apt-get install openmpi-bin libopenmpi-dev)\n".utf8))
        return
    }
    let process = Process()
    process.executableURL = mpirun
    process.arguments = MPI.launchArguments(mpirun, ranks: 2) + [CommandLine.arguments[0], "distributed"] + (options.json ? ["--json"] : [])
    var environment = ProcessInfo.processInfo.environment
    environment["FASTSWIFT_BENCH_DDP_WORKER"] = "1"
    environment["FASTSWIFT_THREADS"] = "1"
    environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    process.environment = environment
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw BenchmarkError.usage("mpirun -np 2 failed with status \(process.terminationStatus)") }
}

/// One warm-up and one timed `fitOneCycle` epoch; rank 0 (or the single process) reports.
private func distributedEpoch(reporter: inout Reporter, distributed: Bool) throws {
    seed(0)
    let globalBatch = 64, trainCount = 3_200, validCount = 640
    let mpi = distributed ? try MPI.shared() : nil
    let ranks = mpi?.size ?? 1
    func loader(_ count: Int, shuffle: Bool) throws -> DataLoader<(Tensor, Tensor)> {
        let x = Tensor.rand([count, 1, 28, 28]), y = Tensor((0..<count).map { Float($0 % 10) })
        return try DataLoader(TensorDataset(x, y), batchSize: globalBatch / ranks, shuffle: shuffle, dropLast: shuffle)
    }
    let dls = DataLoaders(try loader(trainCount, shuffle: true), try loader(validCount, shuffle: false), vocab: (0..<10).map(String.init))
    let learn = visionLearner(dls, arch: .resnet18, loss: crossEntropy, metrics: [accuracy])
    learn.progress.show = false
    if distributed { try learn.distributed() }
    try learn.fitOneCycle(epochs: 1, lrMax: 0.01)  // warm-up
    let start = DispatchTime.now().uptimeNanoseconds
    try learn.fitOneCycle(epochs: 1, lrMax: 0.01)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    guard learn.processRank == 0 else { return }
    let ddp = learn.callbacks.compactMap { $0 as? DistributedDataParallel }.first
    let share = ddp.map { $0.trainingSeconds > 0 ? $0.allreduceSeconds / $0.trainingSeconds : 0 } ?? 0
    reporter.report(
        BenchmarkResult(
            suite: "distributed", name: distributed ? "\(ranks) ranks x 1 thread" : "1 rank x \(Threads.count) threads",
            threads: Threads.count, seconds: seconds,
            fields: [
                ("images_per_s", Double(trainCount + validCount) / seconds), ("ranks", Double(ranks)),
                ("allreduce_share", share),
            ], batch: globalBatch))
}
