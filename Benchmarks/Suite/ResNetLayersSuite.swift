import FastSwift

/// A convolution's shape: name, Cin, Cout, kernel, stride, padding, input size.
typealias ConvShape = (String, Int, Int, Int, Int, Int, Int)

/// `benchmarks layers`: every distinct convolution of ResNet-18 on 1×28×28 inputs at batch 64,
/// forward and forward + backward (input and weight gradients), in GFLOPS: where the training
/// step's convolution time goes, shape by shape.
func runResNetLayersSuite(_ options: BenchmarkOptions) {
    let shapes: [ConvShape] = [
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
    runConvolutionShapes(shapes, batch: 64, suite: "layers", options)
}

/// `benchmarks layers224`: every distinct convolution of ResNet-34 on 3×224×224 photos at batch
/// 32 (the photo run's), as `layers` measures them.
func runResNet34LayersSuite(_ options: BenchmarkOptions) {
    let shapes: [ConvShape] = [
        ("stem 7x7 3->64 224", 3, 64, 7, 2, 3, 224),
        ("3x3 64->64 56", 64, 64, 3, 1, 1, 56),
        ("3x3 64->128 s2 56", 64, 128, 3, 2, 1, 56),
        ("1x1 64->128 s2 56", 64, 128, 1, 2, 0, 56),
        ("3x3 128->128 28", 128, 128, 3, 1, 1, 28),
        ("3x3 128->256 s2 28", 128, 256, 3, 2, 1, 28),
        ("1x1 128->256 s2 28", 128, 256, 1, 2, 0, 28),
        ("3x3 256->256 14", 256, 256, 3, 1, 1, 14),
        ("3x3 256->512 s2 14", 256, 512, 3, 2, 1, 14),
        ("1x1 256->512 s2 14", 256, 512, 1, 2, 0, 14),
        ("3x3 512->512 7", 512, 512, 3, 1, 1, 7),
    ]
    runConvolutionShapes(shapes, batch: 32, suite: "layers224", options)
}

/// Forward and forward + backward GFLOPS of each shape at `batch` (the first shape is a network's
/// stem: its input needs no gradient).
private func runConvolutionShapes(_ shapes: [ConvShape], batch: Int, suite: String, _ options: BenchmarkOptions) {
    var reporter = Reporter(json: options.json, columns: ["gflops"])
    for threads in options.threads ?? defaultThreadCounts {
        withThreads(threads) {
            for (index, (name, cin, cout, k, s, p, size)) in shapes.enumerated() {
                var x = Tensor.randn([batch, cin, size, size], generator: RandomGenerator(seed: 1))
                x.requiresGrad = index > 0
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
                        suite: suite, name: "\(name) fwd", threads: threads,
                        seconds: forward, fields: [("gflops", flops / forward / 1e9)], batch: batch))
                let upstream = Tensor.randn([batch, cout, out, out], generator: RandomGenerator(seed: 2))
                let both = measure(minSeconds: options.minSeconds) {
                    conv(x).backward(upstream)
                    conv.weight.zeroGrad()
                    x.zeroGrad()
                }
                let passes: Double = index > 0 ? 3 : 2
                reporter.report(
                    BenchmarkResult(
                        suite: suite, name: "\(name) f+b", threads: threads,
                        seconds: both, fields: [("gflops", passes * flops / both / 1e9)], batch: batch))
            }
        }
    }
}
