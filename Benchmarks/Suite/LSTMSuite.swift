import FastSwift

/// `benchmarks lstm`: AWD-LSTM's recurrent stack at its sizes (embedding 400, hidden 1152, 3
/// layers, the last back to 400; sequence 72, batch 64): forward, and forward + backward with
/// every weight's gradient, as sequences/s and GFLOPS.
func runLSTMSuite(_ options: BenchmarkOptions) {
    var reporter = Reporter(json: options.json, columns: ["sequences_per_s", "gflops"])
    let (batch, steps, embedding, hidden) = (64, 72, 400, 1152)
    let sizes = [(embedding, hidden), (hidden, hidden), (hidden, embedding)]
    // 2 FLOPs per multiply-add, 4 gates; backward does twice the forward's products.
    let forwardFlops = sizes.reduce(0.0) { $0 + 2.0 * Double(batch * steps * 4 * $1.1 * ($1.0 + $1.1)) }
    for threads in options.threads ?? defaultThreadCounts {
        withThreads(threads) {
            seed(0)
            let layers = sizes.map { LSTM($0.0, $0.1) }
            var x = Tensor.randn([batch, steps, embedding])
            x.requiresGrad = true
            func run() -> Tensor { layers.reduce(x) { input, layer in layer(input, state: nil).output } }
            let forward = measure(minSeconds: options.minSeconds) { _ = noGrad { run() } }
            reporter.report(
                BenchmarkResult(
                    suite: "lstm", name: "3 layers 400-1152-400, 72 steps forward", threads: threads, seconds: forward,
                    fields: [("sequences_per_s", Double(batch) / forward), ("gflops", forwardFlops / forward / 1e9)], batch: batch))
            let upstream = Tensor.randn([batch, steps, embedding])
            let both = measure(minSeconds: options.minSeconds) {
                run().backward(upstream)
                for layer in layers { for p in layer.parameters { p.zeroGrad() } }
                x.zeroGrad()
            }
            reporter.report(
                BenchmarkResult(
                    suite: "lstm", name: "3 layers 400-1152-400, 72 steps fwd+bwd", threads: threads, seconds: both,
                    fields: [("sequences_per_s", Double(batch) / both), ("gflops", 3 * forwardFlops / both / 1e9)], batch: batch))
        }
    }
}
