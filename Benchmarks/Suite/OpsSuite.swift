import FastSwift

/// `benchmarks ops`: element-wise and reduction throughput (GB/s of operands read and written)
/// at sizes around the point where a second thread starts to pay; then batch norm with its ReLU,
/// forward and backward in training, over the maps of ResNet-18 on 28×28 digits at batch 64.
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
        batchNormCases(threads: threads, options: options, reporter: &reporter)
    }
}

/// Batch norm + ReLU, forward and backward (`dx`, `dγ`, `dβ`), on `[64, C, H, W]` for ResNet-18's
/// four stages on 28×28 digits: 7×7 to 1×1 maps, the same 200K-25K elements at every shape's
/// channel count. GB/s counts the passes' ten reads and writes of a map (statistics, affine,
/// gradient sums, input gradient).
private func batchNormCases(threads: Int, options: BenchmarkOptions, reporter: inout Reporter) {
    for shape in [[64, 64, 7, 7], [64, 128, 4, 4], [64, 256, 2, 2], [64, 512, 1, 1]] {
        let channels = shape[1], n = shape.reduce(1, *)
        let x = Tensor.randn(shape, generator: RandomGenerator(seed: 1)).requiringGrad()
        let g = Tensor.randn(shape, generator: RandomGenerator(seed: 2))
        let weight = Tensor.ones([channels]).requiringGrad(), bias = Tensor.zeros([channels]).requiringGrad()
        let mean = Tensor.zeros([channels]), variance = Tensor.ones([channels])
        let seconds = withThreads(threads) {
            measure(minSeconds: options.minSeconds / 5) {
                let y = Tensor.batchNorm(
                    x, weight: weight, bias: bias, runningMean: mean, runningVariance: variance, training: true, eps: 1e-5,
                    relu: true
                ).output
                y.backward(g)
                for t in [x, weight, bias] { t.zeroGrad() }
            }
        }
        reporter.report(
            BenchmarkResult(
                suite: "ops", name: "batchnorm+relu f+b \(shape.map(String.init).joined(separator: "x"))", threads: threads,
                seconds: seconds, fields: [("gb_per_s", Double(10 * n * 4) / seconds / 1e9)], batch: shape[0]))
    }
}
