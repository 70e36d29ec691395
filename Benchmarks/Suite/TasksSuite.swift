import FastSwift

/// `benchmarks tasks`: fastai's other vision tasks at the bundled digit scenes' size (1×56×56):
/// a U-Net over ResNet-18 with 11 scores per pixel (segmentation; `CrossEntropyLossFlat(axis: 1)`)
/// and ResNet-18 with fastai's head and 10 sigmoid outputs (multi-label; `BCEWithLogitsLossFlat`),
/// each a training step (forward, loss, backward, Adam step) and inference (eval, no gradients),
/// images/s at batch 16 (U-Net) and 32 (multi-label), the recipes' batch sizes.
func runTasksSuite(_ options: BenchmarkOptions) throws {
    var reporter = Reporter(json: options.json, columns: ["images_per_s"])
    for threads in options.threads ?? defaultThreadCounts {
        try withThreads(threads) {
            seed(0)
            let unet = try DynamicUnet(encoder: resnet18(inChannels: 1, classes: 10).body, inChannels: 1, outChannels: 11, size: (56, 56))
            let masks = Tensor((0..<(16 * 56 * 56)).map { Float($0 % 11) }).reshape([16, 56, 56])
            try measureTask(
                "unet train", unet, input: Tensor.rand([16, 1, 56, 56]), targets: masks, loss: CrossEntropyLossFlat(axis: 1),
                threads: threads, options: options, reporter: &reporter)

            let classifier = Sequential(resnet18(inChannels: 1, classes: 10).body, createHead(512, 10))
            let labels = Tensor((0..<(32 * 10)).map { Float(($0 * 7) % 3 == 0 ? 1 : 0) }).reshape([32, 10])
            try measureTask(
                "multi-label train", classifier, input: Tensor.rand([32, 1, 56, 56]), targets: labels, loss: BCEWithLogitsLossFlat(),
                threads: threads, options: options, reporter: &reporter)
        }
    }
}

/// Reports `model`'s training step (`"<name>"`) and its inference (`"<name>"` with "train"
/// replaced by "inference") on one batch, in images/s.
private func measureTask(
    _ name: String, _ model: Module, input: Tensor, targets: Tensor, loss: any BaseLoss, threads: Int, options: BenchmarkOptions,
    reporter: inout Reporter
) throws {
    let batch = input.shape[0]
    let opt = Adam(model.parameters, lr: 1e-4)
    model.train()
    let train = measure(minSeconds: options.minSeconds) {
        loss(model(input), targets).backward()
        opt.step()
        opt.zeroGrad()
    }
    model.eval()
    let infer = measure(minSeconds: options.minSeconds) { _ = noGrad { model(input) } }
    model.train()
    for (caseName, time) in [(name, train), (name.replacingOccurrences(of: "train", with: "inference"), infer)] {
        reporter.report(
            BenchmarkResult(suite: "tasks", name: caseName, threads: threads, seconds: time, fields: [("images_per_s", Double(batch) / time)], batch: batch))
    }
}
