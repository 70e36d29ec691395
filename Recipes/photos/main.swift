// photos: fastai's chapter-1 pets workflow on a photo folder: labels from the file names
// (`cat_007.jpg` is a cat), photos of mixed sizes and formats (JPEG and PNG) resized to one size,
// augmented on the fly, a ResNet-18 trained on them. By default the bundled sample (96 photos,
// four classes); --data takes any folder of photos named `<label>_<anything>.jpg` (or .png).
//
//     swift run -c release photos
//     swift run -c release photos --data ~/Pictures/pets --size 128 --epochs 5
//     swift run -c release photos --data DIR --size 224 --arch resnet34 --bs 32 --epochs 1   # Benchmarks/compare_fastai_photos.py's twin
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(
    valued: ["data", "epochs", "lr", "bs", "seed", "size", "arch", "show", "export"],
    usage: """
        usage: photos [--data DIR] [--epochs N] [--lr X] [--bs N] [--seed N] [--size PIXELS] [--arch resnet18|resnet34|resnet50] [--show FILE] [--export FILE]
          --data DIR    a folder of photos whose names start with their label and '_'; default: the bundled sample
          --size N      the side the photos are resized to (default 64)
          --arch NAME   the network, trained from scratch (default resnet18)
          --show FILE   also write a PNG of one augmented training batch with its labels
          --export FILE save the trained model for loadLearner and `fastswift predict|serve FILE`
        """)

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let path = args.string("data").map { URL(fileURLWithPath: $0) } ?? BundledData.photos
    let start = Date()

    // fastai: dls = ImageDataLoaders.from_name_re(path, files, r'^(.+)_\d+', item_tfms=Resize(64), batch_tfms=aug_transforms())
    let files = try getImageFiles(path)
    let dls = try ImageDataLoaders.fromNameRe(
        path, files: files, pattern: #"^(.+?)_[^_]*$"#, validPct: 0.25, seed: 42,
        batchSize: args.int("bs", default: 8),
        itemTransforms: [Resize(args.int("size", default: 64))],
        batchTransforms: augTransforms())
    print("\(files.count) photos, classes \(dls.vocab ?? []): \(dls.train.itemCount) for training, \(dls.valid.itemCount) for validation")
    if let show = args.string("show") {
        try dls.showBatch(to: URL(fileURLWithPath: show))
        print("an augmented batch is in \(show)")
    }
    let archName = args.string("arch") ?? "resnet18"
    guard let arch = Architecture.allCases.first(where: { "\($0)" == archName }) else {
        throw RecipeError("--arch \(archName): not one of \(Architecture.allCases.map { "\($0)" }.joined(separator: ", "))")
    }
    let learn = visionLearner(dls, arch: arch, loss: crossEntropy, metrics: [accuracy])
    try learn.fitOneCycle(epochs: args.int("epochs", default: 12), lrMax: args.float("lr", default: 2e-3))

    if let file = args.string("export") {
        print("exported to \(try learn.export(URL(fileURLWithPath: file)).path): try `swift run -c release fastswift serve \(file)`")
    }
    let final = learn.recorder.values.last ?? []
    print(String(format: "final accuracy: %.2f%% (%.1fs in all)", (final.last ?? 0) * 100, seconds(since: start)))
}
