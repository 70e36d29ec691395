// multilabel: chapter 6's multi-label classifier (PASCAL's several objects per photo) on the
// bundled digit scenes: each 56×56 picture shows one to three digits, and the model names every
// digit it sees. A table lists the files and their labels; a column says which rows validate.
//
// By default the model is a small convolutional net ending in a global max pool ("is this digit
// anywhere?"); `--arch resnet18` trains fastai's `vision_learner(dls, resnet18)` from scratch,
// which needs many more epochs on 1,400 scenes (fastai's own does the same: see the README).
//
//     swift run -c release multilabel
//     swift run -c release multilabel --epochs 8 --threshold 0.4 --show batch.png --results results.png
//     swift run -c release multilabel --arch resnet18 --epochs 20
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(
    valued: ["data", "arch", "epochs", "lr", "bs", "seed", "threshold", "show", "results", "export"],
    usage: """
        usage: multilabel [--data DIR] [--arch small|resnet18] [--epochs N] [--lr X] [--bs N] [--seed N] [--threshold P] [--show FILE] [--results FILE] [--export FILE]
          --data DIR     a folder laid out as the bundled digit scenes (Benchmarks/make_digit_scenes.py --out DIR)
          --arch A       small (default: four convolutions and a global max pool) or resnet18 (visionLearner)
          --threshold P  the probability over which a label is predicted (default 0.5)
          --show FILE    write a PNG of one training batch with its label sets
          --results FILE write a PNG of validation scenes with actual/predicted label sets
          --export FILE  save the trained model for loadLearner
        """)

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let start = Date()
    let path = args.string("data").map { URL(fileURLWithPath: $0) } ?? BundledData.digitScenes
    let threshold = args.float("threshold", default: 0.5)

    // fastai: df = pd.read_csv(path/'labels.csv')
    let df = try DataFrame.readCSV(path.appendingPathComponent("labels.csv"))
    print(df)
    // fastai: dblock = DataBlock(blocks=(ImageBlock, MultiCategoryBlock), splitter=ColSplitter('is_valid'),
    //                            get_x=ColReader('fname', pref=path/'images'), get_y=ColReader('labels', label_delim=' '))
    let dblock = DataBlock(
        blocks: (ImageBlock(), MultiCategoryBlock()), splitter: ColSplitter("is_valid"),
        getX: ColReader("fname", prefix: path.appendingPathComponent("images").path + "/"),
        getY: ColReader("labels", labelDelimiter: " "))
    let dls = try dblock.dataLoaders(df, batchSize: args.int("bs", default: 32))
    print("vocab \(dls.vocab ?? []): \(dls.train.itemCount) scenes for training, \(dls.valid.itemCount) for validation")
    if let show = args.string("show") {
        try dls.showBatch(to: URL(fileURLWithPath: show))
        print("a training batch is in \(show)")
    }

    let loss = BCEWithLogitsLossFlat(threshold: threshold)
    let metrics = [accuracyMulti(threshold: threshold), f1ScoreMulti(threshold: threshold)]
    let learn: Learner
    switch args.string("arch") ?? "small" {
    case "small":
        // fastai: learn = Learner(dls, simple_cnn, loss_func=BCEWithLogitsLossFlat(), metrics=[...])
        func conv(_ i: Int, _ o: Int, stride: Int = 2) -> [Module] {
            [Conv2d(i, o, kernelSize: 3, stride: stride, padding: 1), BatchNorm2d(o), ReLU()]
        }
        let model = Sequential(
            conv(1, 32) + conv(32, 64) + conv(64, 128) + conv(128, 128, stride: 1) + [AdaptiveMaxPool2d((1, 1)), Flatten(), Linear(128, 10)])
        learn = try Learner(dls: dls, model: model, loss: loss, metrics: metrics)
    case "resnet18":
        // fastai: learn = vision_learner(dls, resnet18, pretrained=False, loss_func=..., metrics=[...])
        learn = try visionLearner(dls, arch: .resnet18, loss: loss, metrics: metrics)
    case let other:
        throw RecipeError("--arch \(other): use small or resnet18")
    }
    try learn.fitOneCycle(epochs: args.int("epochs", default: 6), lrMax: args.float("lr", default: 1e-2))

    if let results = args.string("results") {
        try learn.showResults(to: URL(fileURLWithPath: results))
        print("validation scenes with actual/predicted labels are in \(results)")
    }
    // fastai: learn.predict(path/'images/valid_0000.png')
    let first = learn.predict(try Image.open(path.appendingPathComponent("images/valid_0000.png")).tensor(channels: 1))
    let actual = df.rowItems.first { $0["fname"] == "valid_0000.png" }?["labels"] ?? "?"
    print("valid_0000.png: predicted '\(first.label)' (actual: '\(actual)')")
    if let file = args.string("export") { print("exported to \(try learn.export(URL(fileURLWithPath: file)).path)") }
    let final = learn.recorder.values.last ?? []
    print(String(format: "final accuracy_multi: %.2f%%, F1 %.3f (%.1fs in all)", (final.dropLast().last ?? 0) * 100, final.last ?? 0, seconds(since: start)))
}
