import FastSwift
import Foundation

/// `benchmarks data`: JPEG decoding and photo batches (below), then images/s decoding the full MNIST archive (`../shared/datasets/mnist_png.tgz`,
/// 70,000 PNGs: gunzip, untar, decode, stack into tensors), and DataLoader batches/s.
/// `FASTSWIFT_MNIST_TGZ` points at another copy of the archive.
func runDataSuite(_ options: BenchmarkOptions) throws {
    var reporter = Reporter(json: options.json, columns: ["megapixels_per_s", "images_per_s", "batches_per_s"])
    try runPhotoCases(options, reporter: &reporter)
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
            reporter.report(
                BenchmarkResult(
                    suite: "data", name: "decode mnist_png.tgz (\(images) images)", threads: threads,
                    seconds: seconds, fields: [("images_per_s", Double(images) / seconds)]))
            let train = splits["training"]!
            let loader = try DataLoader(TensorDataset(train.images, train.labels), batchSize: 64, shuffle: true)
            let pass = measure(minSeconds: options.minSeconds) { for _ in loader {} }
            reporter.report(
                BenchmarkResult(
                    suite: "data", name: "DataLoader pass", threads: threads, seconds: pass,
                    fields: [
                        ("images_per_s", Double(train.labels.count) / pass),
                        ("batches_per_s", Double(loader.count) / pass),
                    ], batch: 64))
        }
    }
}

/// `benchmarks data` (continued): JPEG decoding in megapixels/s, on every `.jpg` of
/// `FASTSWIFT_JPEG_DIR` (`Benchmarks/compare_pil_jpeg.py` makes such a folder and times PIL on
/// it) or else on the bundled photo sample; the same photos, decoded, resized to 224×224 on one
/// thread (megapixels of input per second); and training batches/s of a photo folder through
/// `Resize(64)` and `augTransforms()`.
func runPhotoCases(_ options: BenchmarkOptions, reporter: inout Reporter) throws {
    let folder = ProcessInfo.processInfo.environment["FASTSWIFT_JPEG_DIR"].map { URL(fileURLWithPath: $0) } ?? BundledData.photos
    let files = try getImageFiles(folder).filter { ["jpg", "jpeg"].contains($0.pathExtension.lowercased()) }
    guard !files.isEmpty else { throw BenchmarkError.usage("no JPEG files in \(folder.path)") }
    let encoded = try files.map { [UInt8](try Data(contentsOf: $0)) }
    let megapixels = try encoded.reduce(0.0) { total, bytes in
        let h = try JPEG.header(bytes, source: "")
        return total + Double(h.width * h.height) / 1e6
    }
    let where_ = ProcessInfo.processInfo.environment["FASTSWIFT_JPEG_DIR"] == nil ? "bundled photos" : folder.lastPathComponent
    // PIL's bilinear resize of every decoded photo to 224×224 (Resize(224)'s squish).
    let decoded = try ImageFolder.decodeAll(files)
    let resizing = measure(minSeconds: options.minSeconds) {
        for image in decoded { _ = image.resized(width: 224, height: 224) }
    }
    reporter.report(
        BenchmarkResult(
            suite: "data", name: "resize to 224x224 (\(files.count) files)", threads: 1, seconds: resizing,
            fields: [("megapixels_per_s", megapixels / resizing), ("images_per_s", Double(files.count) / resizing)]))
    for threads in options.threads ?? defaultThreadCounts {
        try withThreads(threads) {
            // One file after another on one thread; spread over the cores as the loaders do with more.
            _ = try ImageFolder.decodeAll(files)  // every file decodes; the timed runs need not check
            let seconds = measure(minSeconds: options.minSeconds) {
                if threads == 1 {
                    for bytes in encoded { _ = try? JPEG.decode(bytes, source: "") }
                } else {
                    _ = try? ImageFolder.decodeAll(files)
                }
            }
            reporter.report(
                BenchmarkResult(
                    suite: "data", name: "decode JPEG (\(files.count) files, \(where_))", threads: threads, seconds: seconds,
                    fields: [("megapixels_per_s", megapixels / seconds), ("images_per_s", Double(files.count) / seconds)]))
            let dls = try ImageDataLoaders.fromNameRe(
                BundledData.photos, files: try getImageFiles(BundledData.photos), pattern: #"^(.+?)_"#,
                seed: 1, batchSize: 16, itemTransforms: [Resize(64)], batchTransforms: augTransforms())
            dls.train.prefetch = false
            let pass = measure(minSeconds: options.minSeconds) { for _ in dls.train {} }
            reporter.report(
                BenchmarkResult(
                    suite: "data", name: "photo batches Resize(64)+augTransforms", threads: threads, seconds: pass,
                    fields: [
                        ("images_per_s", Double(dls.train.count * 16) / pass),
                        ("batches_per_s", Double(dls.train.count) / pass),
                    ], batch: 16))
        }
    }
}
