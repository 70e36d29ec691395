import Tensors

/// `benchmarks ops`: element-wise and reduction throughput (GB/s of operands read and written)
/// at sizes around the point where a second thread starts to pay.
func runOpsSuite(_ options: BenchmarkOptions) {
    var reporter = Reporter(json: options.json, columns: ["gb_per_s"])
    for threads in options.threads ?? defaultThreadCounts {
        for n in [1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22] {
            let a = Tensor.randn([n], generator: RandomGenerator(seed: 1))
            let b = Tensor.randn([n], generator: RandomGenerator(seed: 2))
            let cases: [(String, Int, () -> Tensor)] = [
                ("add", 3, { a + b }),
                ("exp", 2, { a.exp() }),
                ("log", 2, { a.log() }),
                ("tanh", 2, { a.tanh() }),
                ("sigmoid", 2, { a.sigmoid() }),
                ("sum", 1, { a.sum() }),
            ]
            for (name, arrays, body) in cases {
                let seconds = withThreads(threads) { measure(minSeconds: options.minSeconds / 5) { _ = body() } }
                reporter.report(
                    BenchmarkResult(
                        suite: "ops", name: "\(name) \(n)", threads: threads, seconds: seconds,
                        fields: [("gb_per_s", Double(arrays * n * 4) / seconds / 1e9)]))
            }
        }
    }
}
