// fine-tune: fastai's chapter-1 transfer learning, then chapter 2's look at the mistakes.
// A ResNet's pretrained weights (torchvision's layout, from a safetensors file) are cut at the
// body, given fastai's head for the photo classes, and fine-tuned: one frozen epoch, then
// unfrozen epochs with discriminative learning rates (fastai's two tables). Then the confusion
// matrix and the top losses are written as pictures.
//
//     swift run -c release fine-tune                                   # weights made here (below)
//     swift run -c release fine-tune --weights resnet34.safetensors --arch resnet34 --data ~/Pictures/pets
//
// torchvision's ImageNet weights: `Benchmarks/convert_torchvision.py resnet34-b627a593.pth resnet34.safetensors`.
// Without --weights (no network here), the recipe first pretrains a ResNet-18 on the bundled
// MNIST digits (as RGB) and saves it in torchvision's format, so the fine-tuning reads a real
// pretrained file through the same path ImageNet weights take.
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(
    valued: ["weights", "arch", "data", "epochs", "lr", "bs", "size", "seed", "out"],
    usage: """
        usage: fine-tune [--weights FILE] [--arch resnet18|resnet34|resnet50] [--data DIR] [--epochs N] [--lr X] [--bs N] [--size N] [--out DIR]
          --weights FILE  torchvision weights as safetensors; default: pretrain a ResNet-18 on the bundled digits first
          --data DIR      photos named <label>_<anything>.jpg (or .png); default: the bundled photo sample
          --out DIR       where the confusion matrix and top losses go (default: fine-tune-output, made if missing)
        """)

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let start = Date()
    let out = URL(fileURLWithPath: args.string("out") ?? "fine-tune-output", isDirectory: true)
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    guard let arch = Architecture.allCases.first(where: { $0.name == (args.string("arch") ?? "resnet18") }) else {
        throw RecipeError("--arch must be one of \(Architecture.allCases.map(\.name))")
    }
    let weights: URL
    if let file = args.string("weights") {
        weights = URL(fileURLWithPath: file)
    } else {
        guard arch == .resnet18 else { throw RecipeError("without --weights the recipe pretrains a resnet18; pass --weights for \(arch.name)") }
        weights = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-digits-resnet18.safetensors")
        print("Pretraining a ResNet-18 on the bundled digits (as RGB) for its weights...")
        let digits = try ImageDataLoaders.fromFolder(BundledData.mnist, train: "training", valid: "testing", batchSize: 64, channels: 3)
        let net = arch.network(classes: 10)
        let pretrain = Learner(dls: digits, model: net, loss: crossEntropy, metrics: [accuracy])
        try pretrain.fitOneCycle(epochs: 2, lrMax: 1e-2)
        try SafeTensors.write(net.stateDict(), to: weights)  // torchvision's keys: conv1.weight, layer1.0.bn1.running_mean, ..., fc.weight
    }

    // fastai: dls = ImageDataLoaders.from_name_re(path, files, pat, item_tfms=Resize(64), batch_tfms=aug_transforms())
    let path = args.string("data").map { URL(fileURLWithPath: $0) } ?? BundledData.photos
    let dls = try ImageDataLoaders.fromNameRe(
        path, files: try getImageFiles(path), pattern: #"^(.+?)_[^_]*$"#, validPct: 0.25, seed: 42,
        batchSize: args.int("bs", default: 8), itemTransforms: [Resize(args.int("size", default: 64))],
        batchTransforms: augTransforms())
    // fastai: learn = vision_learner(dls, resnet18, metrics=error_rate); learn.fine_tune(4)
    let learn = try visionLearner(dls, arch: arch, pretrained: weights, loss: crossEntropy, metrics: [errorRate, accuracy])
    try learn.fineTune(epochs: args.int("epochs", default: 4), baseLr: args.float("lr", default: 2e-3))

    // fastai: interp = ClassificationInterpretation.from_learner(learn); interp.plot_confusion_matrix(); interp.plot_top_losses(9)
    let interp = try ClassificationInterpretation(learn)
    let matrix = out.appendingPathComponent("confusion_matrix.png"), losses = out.appendingPathComponent("top_losses.png")
    try interp.plotConfusionMatrix(to: matrix)
    try interp.plotConfusionMatrix(to: out.appendingPathComponent("confusion_matrix.svg"))
    try interp.plotTopLosses(9, to: losses)
    print("most confused: \(interp.mostConfused(minVal: 1).map { "\($0.actual) as \($0.predicted) ×\($0.count)" })")
    print("wrote \(matrix.path), confusion_matrix.svg and \(losses.path)")
    let final = learn.recorder.values.last ?? []
    print(String(format: "final error rate: %.2f%% (%.1fs in all)", (final.count > 2 ? final[2] : 0) * 100, seconds(since: start)))
}
