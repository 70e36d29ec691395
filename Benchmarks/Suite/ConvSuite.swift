import FastSwift

/// `benchmarks conv`: a 3×3 convolution, 64→64 channels, padding 1, batch 64, at 28×28 and
/// 14×14: GFLOPS of the forward pass and of forward + backward (input and weight gradients).
func runConvSuite(_ options: BenchmarkOptions) {
    var reporter = Reporter(json: options.json, columns: ["gflops"])
    for threads in options.threads ?? defaultThreadCounts {
        withThreads(threads) {
            for size in [28, 14] {
                let batch = 64
                var x = Tensor.randn([batch, 64, size, size], generator: RandomGenerator(seed: 1))
                x.requiresGrad = true
                let conv = Conv2d(64, 64, kernelSize: 3, padding: 1, bias: false)
                let flops = 2.0 * Double(batch * 64 * size * size * 64 * 9)
                let forward = measure(minSeconds: options.minSeconds) { _ = noGrad { conv(x) } }
                reporter.report(
                    BenchmarkResult(
                        suite: "conv", name: "3x3 64->64 \(size)x\(size) forward", threads: threads,
                        seconds: forward, fields: [("gflops", flops / forward / 1e9)], batch: batch))
                let upstream = Tensor.randn([batch, 64, size, size], generator: RandomGenerator(seed: 2))
                let both = measure(minSeconds: options.minSeconds) {
                    conv(x).backward(upstream)
                    conv.weight.zeroGrad()
                    x.zeroGrad()
                }
                reporter.report(
                    BenchmarkResult(
                        suite: "conv", name: "3x3 64->64 \(size)x\(size) fwd+bwd", threads: threads,
                        seconds: both, fields: [("gflops", 3 * flops / both / 1e9)], batch: batch))
            }
        }
    }
}

/// `benchmarks resnet18`: ResNet-18 on 1×28×28 inputs with 10 classes: training images/s
/// (forward, backward and an SGD step) at batch 64 and 256, and inference images/s.
func runResNet18Suite(_ options: BenchmarkOptions) {
    var reporter = Reporter(json: options.json, columns: ["images_per_s"])
    for threads in options.threads ?? defaultThreadCounts {
        withThreads(threads) {
            for batch in [64, 256] {
                seed(0)
                let model = resnet18(inChannels: 1, classes: 10)
                let opt = SGD(model.parameters, lr: 0.01, momentum: 0.9)
                let x = Tensor.randn([batch, 1, 28, 28])
                let y = Tensor((0..<batch).map { Float($0 % 10) })
                let train = measure(minSeconds: options.minSeconds) {
                    crossEntropy(model(x), y).backward()
                    opt.step()
                    opt.zeroGrad()
                }
                reporter.report(
                    BenchmarkResult(
                        suite: "resnet18", name: "train", threads: threads, seconds: train,
                        fields: [("images_per_s", Double(batch) / train)], batch: batch))
                model.eval()
                let infer = measure(minSeconds: options.minSeconds) { _ = noGrad { model(x) } }
                reporter.report(
                    BenchmarkResult(
                        suite: "resnet18", name: "inference", threads: threads, seconds: infer,
                        fields: [("images_per_s", Double(batch) / infer)], batch: batch))
            }
        }
    }
}
