import FastSwift
import Foundation

/// `benchmarks data`: images/s decoding the full MNIST archive (`../shared/datasets/mnist_png.tgz`,
/// 70,000 PNGs: gunzip, untar, decode, stack into tensors), and DataLoader batches/s.
/// `FASTSWIFT_MNIST_TGZ` points at another copy of the archive.
func runDataSuite(_ options: BenchmarkOptions) throws {
    var reporter = Reporter(json: options.json, columns: ["images_per_s", "batches_per_s"])
    let path = ProcessInfo.processInfo.environment["FASTSWIFT_MNIST_TGZ"] ?? "../shared/datasets/mnist_png.tgz"
    let archive = URL(fileURLWithPath: path)
    guard FileManager.default.fileExists(atPath: archive.path) else {
        throw BenchmarkError.usage("no MNIST archive at \(archive.path); set FASTSWIFT_MNIST_TGZ to mnist_png.tgz")
    }
    for threads in options.threads ?? defaultThreadCounts {
        try withThreads(threads) {
            var splits: [String: ImageFolder.Split] = [:]
            let start = Date()
            splits = try ImageFolder.loadArchive(archive)
            let seconds = Date().timeIntervalSince(start)
            let images = splits.values.reduce(0) { $0 + $1.labels.count }
            reporter.report(BenchmarkResult(suite: "data", name: "decode mnist_png.tgz (\(images) images)", threads: threads,
                                            seconds: seconds, fields: [("images_per_s", Double(images) / seconds)]))
            let train = splits["training"]!
            let loader = try DataLoader(TensorDataset(train.images, train.labels), batchSize: 64, shuffle: true)
            let pass = measure(minSeconds: options.minSeconds) { for _ in loader {} }
            reporter.report(BenchmarkResult(suite: "data", name: "DataLoader pass", threads: threads, seconds: pass,
                                            fields: [("images_per_s", Double(train.labels.count) / pass),
                                                     ("batches_per_s", Double(loader.count) / pass)], batch: 64))
        }
    }
}
