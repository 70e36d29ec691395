import Dispatch
import FastSwift

/// `benchmarks learner`: the main job's loop without its data files: `visionLearner(.resnet18)`
/// and `fitOneCycle` for one epoch over in-memory 1×28×28 images (6,400 training, 1,280
/// validation, batch 64, Adam as fastai's default), so the Learner's own overhead (optimizer,
/// head, metrics, callbacks) shows next to `benchmarks resnet18`'s bare training step. Also the
/// Adam step alone over the same model's parameters.
func runLearnerSuite(_ options: BenchmarkOptions) throws {
    var reporter = Reporter(json: options.json, columns: ["images_per_s"])
    for threads in options.threads ?? defaultThreadCounts {
        try withThreads(threads) {
            seed(0)
            let batch = 64, trainCount = 6_400, validCount = 1_280
            func loader(_ count: Int, shuffle: Bool) throws -> DataLoader<(Tensor, Tensor)> {
                let x = Tensor.rand([count, 1, 28, 28]), y = Tensor((0..<count).map { Float($0 % 10) })
                return try DataLoader(TensorDataset(x, y), batchSize: batch, shuffle: shuffle)
            }
            let dls = DataLoaders(
                try loader(trainCount, shuffle: true), try loader(validCount, shuffle: false),
                vocab: (0..<10).map(String.init))
            let learn = visionLearner(dls, arch: .resnet18, loss: crossEntropy, metrics: [accuracy])
            learn.progress.show = false
            try learn.fitOneCycle(epochs: 1, lrMax: 0.01)  // warm-up: buffers, optimizer state
            let start = DispatchTime.now().uptimeNanoseconds
            try learn.fitOneCycle(epochs: 1, lrMax: 0.01)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            reporter.report(
                BenchmarkResult(
                    suite: "learner", name: "fitOneCycle epoch", threads: threads, seconds: seconds,
                    fields: [("images_per_s", Double(trainCount + validCount) / seconds)], batch: batch))

            // The optimizer step alone: Adam over every parameter (11.7M), gradients in place.
            let parameters = learn.model.parameters
            for p in parameters { p.grad = Tensor.randn(p.shape) }
            let opt = Adam(parameters, lr: 1e-4)
            let step = measure(minSeconds: options.minSeconds) { opt.step() }
            reporter.report(
                BenchmarkResult(
                    suite: "learner", name: "adam step", threads: threads, seconds: step,
                    fields: [("images_per_s", Double(batch) / step)], batch: batch))
        }
    }
}
