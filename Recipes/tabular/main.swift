// tabular: fastai's tabular learner (chapter 9, and fastai's tabular tutorial) on a CSV table:
// categorical and continuous columns, missing values filled, a target predicted; then a row.
//
//     swift run -c release tabular                      # the bundled Titanic passengers
//     swift run -c release tabular --data adult.csv --y salary --cat workclass,education --cont age,fnlwgt
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(
    valued: ["data", "y", "cat", "cont", "valid-col", "epochs", "lr", "bs", "seed", "layers"],
    usage: """
        usage: tabular [--data FILE.csv --y NAME [--cat A,B,...] [--cont C,D,...] [--valid-col NAME]] [--epochs N] [--lr X] [--bs N]
                       [--layers 200,100] [--seed N]
          --data FILE       a CSV table with a header row; default: the bundled Titanic passengers (survived, sex, age, passengerClass)
          --cat/--cont      its categorical and continuous columns; default: fastai's contCatSplit of the other columns
          --valid-col NAME  a column of True/False (or 1/0) choosing the validation rows; default: a random 20%
        """)

/// Each epoch's seconds, to compare with fastai's (`Benchmarks/compare_fastai_tabular.py`).
final class EpochTimes: Callback {
    var times: [Double] = []
    private var start = Date()
    override func beforeEpoch(_ learn: Learner) throws { start = Date() }
    override func afterEpoch(_ learn: Learner) throws { times.append(Date().timeIntervalSince(start)) }
}

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let start = Date()
    let file = args.string("data").map { URL(fileURLWithPath: $0) } ?? BundledData.titanic
    var df = try DataFrame.readCSV(file)
    print(df)
    let y = args.string("y") ?? "survived"
    let names = { (option: String) -> [String]? in args.string(option).map { $0.split(separator: ",").map(String.init) } }
    var validIdx: [Int]?
    if let name = args.string("valid-col") {
        let column = try df.column(name)
        validIdx = (0..<df.rowCount).filter { column.number($0) == 1 || column.text($0) == "True" }
        df.removeColumn(name)
    }
    let (contSplit, catSplit) = contCatSplit(df, maxCard: 20, depVar: y)
    let cat = names("cat") ?? catSplit, cont = names("cont") ?? contSplit
    print("categorical: \(cat); continuous: \(cont); target: \(y)")

    // fastai: dls = TabularDataLoaders.from_csv(path, y_names=y, cat_names=cat, cont_names=cont,
    //                                           procs=[Categorify, FillMissing, Normalize])
    let dls = try TabularDataLoaders.fromDF(
        df, yNames: [y], catNames: cat, contNames: cont, procs: [.categorify, .fillMissing, .normalize], validIdx: validIdx, seed: 42,
        batchSize: args.int("bs", default: 64), source: file.path)
    dls.showBatch(maxRows: 5)
    // fastai: learn = tabular_learner(dls, layers=[200,100], metrics=accuracy); learn.fit_one_cycle(5, 1e-2)
    let layers = (names("layers") ?? ["200", "100"]).compactMap { Int($0) }
    let isClasses = dls.processor.target == .classes
    let timer = EpochTimes()
    let learn = tabularLearner(dls, layers: layers, metrics: isClasses ? [accuracy] : [rmse], cbs: [timer])
    try learn.fitOneCycle(epochs: args.int("epochs", default: 5), lrMax: args.float("lr", default: 1e-2))

    // fastai: row, clas, probs = learn.predict(df.iloc[0])
    let first = Dictionary(uniqueKeysWithValues: (cat + cont).map { ($0, df[$0]?.text(0) ?? "NA") })
    let prediction = try learn.predict(row: first)
    print("row 0: \(prediction.row.map { "\($0.column)=\($0.value)" }.joined(separator: ", ")) -> \(prediction.label)")
    let final = learn.recorder.values.last ?? []
    let perEpoch = timer.times.dropFirst().reduce(0, +) / Double(max(timer.times.count - 1, 1))
    print(
        String(
            format: "final %@: %.4f; %.3f s per epoch (%.1fs in all)", isClasses ? "accuracy" : "rmse", final.count > 2 ? final[2] : 0, perEpoch,
            seconds(since: start)))
}
