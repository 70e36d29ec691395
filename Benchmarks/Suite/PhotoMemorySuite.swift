import FastSwift
import Foundation

/// `benchmarks photo-memory`: memory at scale. Over the photo folder `FASTSWIFT_PHOTO_DIR`
/// (`Benchmarks/make_large_photo_folder.py` makes 20,000 photos of 2–12 megapixels), the
/// loaders fastai's photo example builds (`fromNameFunc`, `Resize(224)`, batch 64), then a pass
/// over the training batches (`FASTSWIFT_PHOTO_BATCHES` of them, all by default). Each case
/// reports the process's peak resident memory so far (`peak_rss_mb`) beside the decoded-image
/// cache limit: far more decoded pixels than the limit must not raise it past the limit plus a
/// fixed margin, whatever the folder's size.
func runPhotoMemorySuite(_ options: BenchmarkOptions) throws {
    guard let path = ProcessInfo.processInfo.environment["FASTSWIFT_PHOTO_DIR"] else {
        throw BenchmarkError.usage("set FASTSWIFT_PHOTO_DIR to a photo folder (Benchmarks/make_large_photo_folder.py makes one)")
    }
    var reporter = Reporter(json: options.json, columns: ["images_per_s", "peak_rss_mb", "cache_limit_mb", "megapixels"])
    let threads = options.threads?.last ?? ProcessInfo.processInfo.activeProcessorCount
    Threads.count = threads
    let folder = URL(fileURLWithPath: path)
    let files = try getImageFiles(folder)
    let batch = 64
    let limit = Double(DataLimits.imageCacheBytes) / 1_048_576

    var start = DispatchTime.now().uptimeNanoseconds
    let dls = try ImageDataLoaders.fromNameFunc(
        folder, files: files, labelFunc: { String($0.lastPathComponent.prefix { $0 != "_" }) }, validPct: 0.2, seed: 42,
        batchSize: batch, itemTransforms: [Resize(224)])
    var seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let megapixels = try files.reduce(0.0) { total, file in
        let header = try Image.header(ofFile: file)
        return total + Double(header.width * header.height) / 1e6
    }
    reporter.report(
        BenchmarkResult(
            suite: "photo-memory", name: "loaders over \(files.count) photos (headers, each decoded once)", threads: threads,
            seconds: seconds,
            fields: [
                ("images_per_s", Double(files.count) / seconds), ("peak_rss_mb", peakResidentMegabytes()), ("cache_limit_mb", limit),
                ("megapixels", megapixels),
            ]))

    let wanted = ProcessInfo.processInfo.environment["FASTSWIFT_PHOTO_BATCHES"].flatMap(Int.init) ?? dls.train.count
    start = DispatchTime.now().uptimeNanoseconds
    var images = 0
    for (x, _) in dls.train.prefix(wanted) { images += x.shape[0] }
    seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    reporter.report(
        BenchmarkResult(
            suite: "photo-memory", name: "\(images / batch) training batches at 224 px", threads: threads, seconds: seconds,
            fields: [("images_per_s", Double(images) / seconds), ("peak_rss_mb", peakResidentMegabytes()), ("cache_limit_mb", limit)],
            batch: batch))
}

/// The most resident memory this process has had, in MiB (`getrusage`'s `ru_maxrss`).
private func peakResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}
