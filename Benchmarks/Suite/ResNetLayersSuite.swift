import FastSwift

/// `benchmarks layers`: every distinct convolution of ResNet-18 on 1×28×28 inputs at batch 64,
/// forward and forward + backward (input and weight gradients), in GFLOPS: where the training
/// step's convolution time goes, shape by shape.
func runResNetLayersSuite(_ options: BenchmarkOptions) {
    var reporter = Reporter(json: options.json, columns: ["gflops"])
    // (name, Cin, Cout, kernel, stride, padding, input size)
    let shapes: [(String, Int, Int, Int, Int, Int, Int)] = [
        ("stem 7x7 1->64 28", 1, 64, 7, 2, 3, 28),
        ("3x3 64->64 7", 64, 64, 3, 1, 1, 7),
        ("3x3 64->128 s2 7", 64, 128, 3, 2, 1, 7),
        ("1x1 64->128 s2 7", 64, 128, 1, 2, 0, 7),
        ("3x3 128->128 4", 128, 128, 3, 1, 1, 4),
        ("3x3 128->256 s2 4", 128, 256, 3, 2, 1, 4),
        ("3x3 256->256 2", 256, 256, 3, 1, 1, 2),
        ("3x3 256->512 s2 2", 256, 512, 3, 2, 1, 2),
        ("3x3 512->512 1", 512, 512, 3, 1, 1, 1),
    ]
    for threads in options.threads ?? defaultThreadCounts {
        withThreads(threads) {
            let batch = 64
            for (name, cin, cout, k, s, p, size) in shapes {
                var x = Tensor.randn([batch, cin, size, size], generator: RandomGenerator(seed: 1))
                x.requiresGrad = cin > 1
                let conv = Conv2d(cin, cout, kernelSize: k, stride: s, padding: p, bias: false)
                let out = (size + 2 * p - k) / s + 1
                // Multiply-adds that see the input (taps over padding excluded), as the GEMM does them.
                var taps = 0
                for i in 0..<k {
                    for j in 0..<k {
                        for oh in 0..<out {
                            for ow in 0..<out {
                                let ih = oh * s - p + i, iw = ow * s - p + j
                                if ih >= 0 && ih < size && iw >= 0 && iw < size { taps += 1 }
                            }
                        }
                    }
                }
                let flops = 2.0 * Double(batch * cin * cout * taps)
                let forward = measure(minSeconds: options.minSeconds) { _ = noGrad { conv(x) } }
                reporter.report(
                    BenchmarkResult(
                        suite: "layers", name: "\(name) fwd", threads: threads,
                        seconds: forward, fields: [("gflops", flops / forward / 1e9)], batch: batch))
                let upstream = Tensor.randn([batch, cout, out, out], generator: RandomGenerator(seed: 2))
                let both = measure(minSeconds: options.minSeconds) {
                    conv(x).backward(upstream)
                    conv.weight.zeroGrad()
                    x.zeroGrad()
                }
                let passes: Double = cin > 1 ? 3 : 2
                reporter.report(
                    BenchmarkResult(
                        suite: "layers", name: "\(name) f+b", threads: threads,
                        seconds: both, fields: [("gflops", passes * flops / both / 1e9)], batch: batch))
            }
        }
    }
}
