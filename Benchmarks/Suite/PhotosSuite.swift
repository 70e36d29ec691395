import FastSwift
import Foundation

/// `benchmarks photos`: fastai's photo workflow at photo size over the folder
/// `FASTSWIFT_PHOTO_DIR` (`Benchmarks/make_large_photo_folder.py --count 500 --megapixels 0.2 2
/// --png 0.2` makes one): the loaders of the `photos` recipe (labels from the names, a quarter
/// held out, `Resize(224)`, `augTransforms()`, batch 32), one pass over the training batches
/// (decoding, resizing and augmentation alone), and one `fitOneCycle` epoch of a ResNet-34
/// from scratch, data included, in training images/s. `Benchmarks/compare_fastai_photos.py`
/// runs fastai's twin on the same folder.
func runPhotosSuite(_ options: BenchmarkOptions) throws {
    guard let path = ProcessInfo.processInfo.environment["FASTSWIFT_PHOTO_DIR"] else {
        throw BenchmarkError.usage("set FASTSWIFT_PHOTO_DIR to a photo folder (Benchmarks/make_large_photo_folder.py makes one)")
    }
    var reporter = Reporter(json: options.json, columns: ["images_per_s"])
    let batch = 32
    for threads in options.threads ?? defaultThreadCounts {
        try withThreads(threads) {
            let folder = URL(fileURLWithPath: path)
            var start = DispatchTime.now().uptimeNanoseconds
            let files = try getImageFiles(folder)
            let dls = try ImageDataLoaders.fromNameRe(
                folder, files: files, pattern: #"^(.+?)_[^_]*$"#, validPct: 0.25, seed: 42, batchSize: batch,
                itemTransforms: [Resize(224)], batchTransforms: augTransforms())
            var seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            reporter.report(
                BenchmarkResult(
                    suite: "photos", name: "loaders over \(files.count) photos (headers, each decoded once)", threads: threads,
                    seconds: seconds, fields: [("images_per_s", Double(files.count) / seconds)]))

            start = DispatchTime.now().uptimeNanoseconds
            var images = 0
            for (x, _) in dls.train { images += x.shape[0] }
            seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            reporter.report(
                BenchmarkResult(
                    suite: "photos", name: "training batches at 224 px (Resize + augTransforms)", threads: threads, seconds: seconds,
                    fields: [("images_per_s", Double(images) / seconds)], batch: batch))

            seed(42)
            let learn = visionLearner(dls, arch: .resnet34, loss: crossEntropy, metrics: [accuracy])
            learn.progress.show = false
            start = DispatchTime.now().uptimeNanoseconds
            try learn.fitOneCycle(epochs: 1, lrMax: 2e-3)
            seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            reporter.report(
                BenchmarkResult(
                    suite: "photos", name: "ResNet-34 fitOneCycle epoch at 224 px (data included)", threads: threads, seconds: seconds,
                    fields: [("images_per_s", Double(dls.train.itemCount) / seconds)], batch: batch))
        }
    }
}
