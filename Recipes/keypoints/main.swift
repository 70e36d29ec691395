// keypoints: chapter 6's key-point regression (BIWI's head centres) on the bundled digit
// scenes: for every scene showing one digit, the model finds the digit's centre. Points are
// given in pixels and scaled to -1...1 across the image; the flips, rotations, zooms and warps
// of `augTransforms` move them with the pixels, and `yRange: -1...1` keeps the predictions in
// the picture.
//
//     swift run -c release keypoints
//     swift run -c release keypoints --epochs 8 --show batch.png --results results.png
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(
    valued: ["data", "epochs", "lr", "bs", "seed", "show", "results"],
    usage: """
        usage: keypoints [--data DIR] [--epochs N] [--lr X] [--bs N] [--seed N] [--show FILE] [--results FILE]
          --data DIR     a folder laid out as the bundled digit scenes (Benchmarks/make_digit_scenes.py --out DIR)
          --show FILE    write a PNG of one augmented training batch with its points drawn
          --results FILE write a PNG of validation scenes, each with its actual and predicted point
        """)

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let start = Date()
    let path = args.string("data").map { URL(fileURLWithPath: $0) } ?? BundledData.digitScenes
    let table = try DataFrame.readCSV(path.appendingPathComponent("labels.csv"))
    // The scenes with one digit, whose `centres` cell is one `x y` pair.
    let single = table.rows(table.rowItems.indices.filter { table.rowItems[$0]["centres"]?.split(separator: " ").count == 2 })

    // fastai: DataBlock(blocks=(ImageBlock, PointBlock), get_x=ColReader('fname', pref=...), get_y=get_ctr,
    //                   splitter=ColSplitter('is_valid'), batch_tfms=aug_transforms())
    let dblock = DataBlock(
        blocks: (ImageBlock(), PointBlock()), splitter: ColSplitter("is_valid"),
        getX: ColReader("fname", prefix: path.appendingPathComponent("images").path + "/"), getY: ColReader("centres"),
        batchTransforms: augTransforms(maxRotate: 15, maxLighting: 0))
    let dls = try dblock.dataLoaders(single, batchSize: args.int("bs", default: 32))
    print("\(dls.train.itemCount) one-digit scenes for training, \(dls.valid.itemCount) for validation")
    if let show = args.string("show") {
        try dls.showBatch(to: URL(fileURLWithPath: show))
        print("an augmented batch with its points is in \(show)")
    }

    // fastai: learn = vision_learner(dls, resnet18, y_range=(-1, 1), pretrained=False)
    let learn = try visionLearner(dls, arch: .resnet18, yRange: -1...1, metrics: [mae])
    try learn.fitOneCycle(epochs: args.int("epochs", default: 12), lrMax: args.float("lr", default: 1e-2))

    if let results = args.string("results") {
        try learn.showResults(to: URL(fileURLWithPath: results))
        print("validation scenes with actual and predicted points are in \(results)")
    }
    // The mean distance between predicted and actual centres, in pixels of the 56×56 scenes.
    let (predictions, targets) = try learn.getPreds()
    let p = predictions.scalars, t = targets.scalars
    let distances = stride(from: 0, to: p.count, by: 2).map { i in
        let dx = (p[i] - t[i]) * 28, dy = (p[i + 1] - t[i + 1]) * 28
        return (dx * dx + dy * dy).squareRoot()
    }
    print(
        String(
            format: "mean distance to the digit's centre: %.2f pixels (%.1fs in all)", distances.reduce(0, +) / Float(distances.count), seconds(since: start)))
}
