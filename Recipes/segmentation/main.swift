// segmentation: chapter 1's street scenes (`SegmentationDataLoaders` and `unet_learner`) on the
// bundled digit scenes: every pixel is classified as background or as the digit whose ink it
// is, by a U-Net over a ResNet-18 body trained from scratch.
//
//     swift run -c release segmentation
//     swift run -c release segmentation --epochs 6 --count 1800 --results results.png
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(
    valued: ["data", "epochs", "lr", "bs", "seed", "count", "show", "results"],
    usage: """
        usage: segmentation [--data DIR] [--epochs N] [--lr X] [--bs N] [--seed N] [--count N] [--show FILE] [--results FILE]
          --data DIR     a folder laid out as the bundled digit scenes (Benchmarks/make_digit_scenes.py --out DIR)
          --count N      use the first N scenes (default 600; 1800 is all of them)
          --show FILE    write a PNG of one training batch with its masks coloured in
          --results FILE write a PNG of validation scenes, each with its actual and predicted mask
        """)

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let start = Date()
    let path = args.string("data").map { URL(fileURLWithPath: $0) } ?? BundledData.digitScenes
    let codes = ["background"] + (0...9).map(String.init)
    let files = Array(try getImageFiles(path.appendingPathComponent("images")).prefix(args.int("count", default: 600)))

    // fastai: dls = SegmentationDataLoaders.from_label_func(path, fnames, label_func=lambda o: path/'masks'/o.name, codes=codes)
    let dls = try SegmentationDataLoaders.fromLabelFunc(
        path, files: files, labelFunc: { path.appendingPathComponent("masks").appendingPathComponent($0.lastPathComponent) },
        codes: codes, seed: 42, batchSize: args.int("bs", default: 16))
    print("\(dls.train.itemCount) scenes for training, \(dls.valid.itemCount) for validation; codes \(codes)")
    if let show = args.string("show") {
        try dls.showBatch(to: URL(fileURLWithPath: show))
        print("a batch with its masks is in \(show)")
    }

    // fastai: learn = unet_learner(dls, resnet18, pretrained=False, metrics=foreground_acc)
    let learn = try unetLearner(dls, arch: .resnet18, metrics: [foregroundAccuracy()])
    try learn.fitOneCycle(epochs: args.int("epochs", default: 4), lrMax: args.float("lr", default: 3e-3))

    if let results = args.string("results") {
        try learn.showResults(to: URL(fileURLWithPath: results))
        print("validation scenes with actual and predicted masks are in \(results)")
    }
    let final = learn.recorder.values.last ?? []
    print(String(format: "foreground accuracy: %.2f%% (%.1fs in all)", (final.last ?? 0) * 100, seconds(since: start)))
}
