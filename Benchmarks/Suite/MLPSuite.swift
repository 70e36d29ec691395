import FastSwift

/// `benchmarks mlp`: one epoch of the chapter's MLP (784-128-64-10, ReLU, LogSoftmax + NLL,
/// SGD with momentum) over 60,000 in-memory images at batch 128: forward, backward and step.
func runMLPSuite(_ options: BenchmarkOptions) {
    var reporter = Reporter(json: options.json, columns: ["images_per_s", "s_per_epoch"])
    let n = 60_000, batchSize = 128
    let images = Tensor.rand([n, 784], generator: RandomGenerator(seed: 1))
    let labels = (0..<n).map { _ in Float(Int.random(in: 0..<10)) }
    for threads in options.threads ?? defaultThreadCounts {
        withThreads(threads) {
            seed(0)
            let model = Sequential(Linear(784, 128), ReLU(), Linear(128, 64), ReLU(), Linear(64, 10), LogSoftmax(dim: 1))
            let opt = SGD(model.parameters, lr: 0.01, momentum: 0.9)
            // Batches are cut beforehand: the suite times the training step, not data handling.
            let batches = stride(from: 0, to: n, by: batchSize).map { first -> (Tensor, Tensor) in
                let end = min(first + batchSize, n)
                return (images[first..<end], Tensor(Array(labels[first..<end])))
            }
            let seconds = measure(minSeconds: options.minSeconds) {
                for (x, y) in batches {
                    let loss = nllLoss(model(x), y)
                    loss.backward()
                    opt.step()
                    opt.zeroGrad()
                }
            }
            reporter.report(
                BenchmarkResult(
                    suite: "mlp", name: "784-128-64-10 epoch", threads: threads, seconds: seconds,
                    fields: [("images_per_s", Double(n) / seconds), ("s_per_epoch", seconds)],
                    batch: batchSize))
        }
    }
}
