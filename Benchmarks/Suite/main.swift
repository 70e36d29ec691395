// The benchmark suite: `swift run -c release benchmarks <suite> [--threads N] [--json]`.
//
// Without --threads each suite measures 1 thread and every core. With --json it prints one
// JSON object per line with at least suite, case, threads, seconds and the suite's figure
// (gflops or images_per_s), and batch where it applies.
import Foundation

let suites: [(name: String, summary: String, run: (BenchmarkOptions) throws -> Void)] = [
    ("gemm", "SGEMM GFLOPS, square sizes 256-2048", runGEMMSuite),
    ("ops", "element-wise and reduction GB/s, 16K-4M elements; batch norm + ReLU forward and backward over ResNet-18's maps", runOpsSuite),
    ("mlp", "MLP 784-128-64-10 training epoch, 60,000 images, batch 128", runMLPSuite),
    ("conv", "3x3 conv 64->64, batch 64, 28x28 and 14x14: forward and forward+backward GFLOPS", runConvSuite),
    (
        "data", "JPEG decoding and resizing to 224x224 megapixels/s, photo batches/s; decoding the 70,000-image MNIST archive; DataLoader batches/s",
        runDataSuite
    ),
    (
        "learner", "visionLearner(.resnet18).fitOneCycle over in-memory 1x28x28 images (the main job without files); the Adam and SGD steps alone",
        runLearnerSuite
    ),
    ("layers", "every convolution shape of ResNet-18 on 1x28x28 at batch 64: forward and forward+backward GFLOPS", runResNetLayersSuite),
    (
        "layers224", "every convolution shape of ResNet-34 on 3x224x224 at batch 32 (the photo run's): forward and forward+backward GFLOPS",
        runResNet34LayersSuite
    ),
    ("lstm", "AWD-LSTM's LSTM stack (400-1152-1152-400, 72 steps, batch 64): forward and forward+backward sequences/s", runLSTMSuite),
    ("resnet18", "ResNet-18 on 1x28x28, 10 classes: training and inference images/s at batch 64 and 256", runResNet18Suite),
    (
        "tasks",
        "the other vision tasks on 1x56x56: a ResNet-18 U-Net (11 codes, batch 16) and a multi-label ResNet-18 (10 labels, batch 32), training and inference images/s",
        runTasksSuite
    ),
    (
        "serve", "fastswift serve on the bundled photo model: requests/s and p50/p99 ms at 1, 8 and 64 clients, batching on and off (--url: another server)",
        runServeSuite
    ),
    (
        "photos",
        "fastai's photo workflow at 224 px over FASTSWIFT_PHOTO_DIR: loaders, training batches/s (Resize + augTransforms), a ResNet-34 fitOneCycle epoch, batch 32",
        runPhotosSuite
    ),
    (
        "photo-memory", "memory at scale: peak RSS building loaders over FASTSWIFT_PHOTO_DIR (20,000 photos of 2-12 MP) with Resize(224), then a pass",
        runPhotoMemorySuite
    ),
    ("distributed", "ResNet-18 training images/s: 1 process x 2 threads against 2 MPI ranks x 1 thread; allreduce share", runDistributedSuite),
]

let usage =
    "usage: benchmarks <suite> [--threads N] [--json] [--min-seconds S] [--url URL]\nsuites:\n"
    + suites.map { "  \($0.name)\t\($0.summary)" }.joined(separator: "\n")

let arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.first, let suite = suites.first(where: { $0.name == name }) else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(2)
}
do {
    try suite.run(try BenchmarkOptions.parse(arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("benchmarks: \(error)\n\(usage)\n".utf8))
    exit(2)
}
