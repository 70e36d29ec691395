import Dispatch
import FastSwift

/// `benchmarks learner`: the main job's loop without its data files: `visionLearner(.resnet18)`
/// and `fitOneCycle` for one epoch over in-memory 1×28×28 images (6,400 training, 1,280
/// validation, batch 64, Adam as fastai's default), beside the same epoch written as a plain
/// loop (the same model, loaders and Adam; forward, loss, backward, step, then a validation pass
/// under `noGrad`), so the Learner's own overhead (schedule, callbacks, recorder, metrics,
/// checks) is the difference between the two. Each is timed over whole epochs, three times in
/// turn, the best kept. Also the Adam and SGD steps alone.
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

            let model = learn.model
            let plainOptimizer = Adam(model.parameters, lr: 1e-4, weightDecay: 0.01)
            func plainEpoch() {
                model.train()
                for (x, y) in dls.train {
                    crossEntropy(model(x), y).backward()
                    plainOptimizer.step()
                    plainOptimizer.zeroGrad()
                }
                model.eval()
                noGrad {
                    for (x, y) in dls.valid { _ = accuracy.function(model(x), y) }
                }
                model.train()
            }
            plainEpoch()  // warm-up: the plain optimizer's state
            var learner = Double.infinity, plain = Double.infinity
            for _ in 0..<3 {
                learner = min(learner, try seconds { try learn.fitOneCycle(epochs: 1, lrMax: 0.01) })
                plain = min(plain, seconds { plainEpoch() })
            }
            for (name, time) in [("fitOneCycle epoch", learner), ("plain loop epoch", plain)] {
                reporter.report(
                    BenchmarkResult(
                        suite: "learner", name: name, threads: threads, seconds: time,
                        fields: [("images_per_s", Double(trainCount + validCount) / time)], batch: batch))
            }

            // The optimizer step alone over every parameter (11.7M), gradients in place: the
            // main job's Adam, and the SGD with momentum of `benchmarks resnet18`.
            let parameters = learn.model.parameters
            for p in parameters { p.grad = Tensor.randn(p.shape) }
            let optimizers: [(String, Optimizer)] = [
                ("adam step", Adam(parameters, lr: 1e-4)), ("sgd step", SGD(parameters, lr: 1e-4, momentum: 0.9)),
            ]
            for (name, opt) in optimizers {
                let step = measure(minSeconds: options.minSeconds) { opt.step() }
                reporter.report(
                    BenchmarkResult(
                        suite: "learner", name: name, threads: threads, seconds: step,
                        fields: [("images_per_s", Double(batch) / step)], batch: batch))
            }
        }
    }
}

/// The seconds `body` takes, once.
private func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
