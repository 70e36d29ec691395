// text-classifier: chapter 1's text classifier (fastai's four lines over IMDB's reviews), on the
// bundled Jane Austen paragraphs: which novel is this paragraph from? An AWD-LSTM trained from
// scratch (no WT103 download here), fastai's tokenizer, loaders sorted by length and padded by
// chunks, and the same one-cycle training.
//
//     swift run -c release text-classifier
//     swift run -c release text-classifier --data /tmp/austen --epochs 4 --emb 200 --hidden 400 --layers 2
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(
    valued: ["data", "epochs", "lr", "bs", "seq-len", "emb", "hidden", "layers", "drop-mult", "seed", "export"],
    usage: """
        usage: text-classifier [--data DIR] [--epochs N] [--lr X] [--bs N] [--seq-len N] [--emb N] [--hidden N] [--layers N] [--drop-mult X] [--seed N] [--export FILE]
          --data DIR       a folder with texts.csv (text,label,is_valid), as Benchmarks/make_text_sample.py writes
          --emb, --hidden, --layers  the AWD-LSTM's sizes (fastai's 400, 1152, 3; smaller by default here: 200, 400, 2)
          --drop-mult X    every dropout times X (fastai's drop_mult, 0.5 for classifiers)
        """)

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let start = Date()
    let path = args.string("data").map { URL(fileURLWithPath: $0) } ?? BundledData.austen
    let seqLen = args.int("seq-len", default: 72)

    // fastai: dls = TextDataLoaders.from_df(df, text_col='text', label_col='label', valid_col='is_valid')
    let dls = try TextDataLoaders.fromCSV(
        path, csvName: "texts.csv", textCol: "text", labelCol: "label", validCol: "is_valid", seqLen: seqLen,
        batchSize: args.int("bs", default: 64))
    print(
        "\(dls.trainDocuments.count) texts for training, \(dls.validDocuments.count) for validation; vocabulary \(dls.textVocab.count); classes \(dls.vocab ?? [])"
    )
    dls.showBatch(maxN: 3, truncateAt: 30)

    // fastai: learn = text_classifier_learner(dls, AWD_LSTM, drop_mult=0.5, metrics=accuracy, pretrained=False)
    var config = AWDLSTMConfig.classifier
    config.embeddingSize = args.int("emb", default: 200)
    config.hiddenSize = args.int("hidden", default: 400)
    config.layerCount = args.int("layers", default: 2)
    let learn = try textClassifierLearner(
        dls, arch: .awdLSTM, seqLen: seqLen, config: config, dropMult: args.float("drop-mult", default: 0.5), metrics: [accuracy])
    // fastai: learn.fit_one_cycle(4, 2e-2)
    try learn.fitOneCycle(epochs: args.int("epochs", default: 4), lrMax: args.float("lr", default: 2e-2))

    // fastai: learn.predict("...")
    for text in [
        "Mr. Darcy looked at Elizabeth with a smile, and Mrs. Bennet was delighted.",
        "Elinor could not help feeling that Marianne's sensibility went too far.",
    ] {
        let (label, _, probabilities) = try learn.predict(text)
        print("\(text.debugDescription) → \(label) (\(String(format: "%.1f", 100 * probabilities.max().item()))%)")
    }
    if let export = args.string("export") {
        try learn.saveEncoder(URL(fileURLWithPath: export).deletingPathExtension().lastPathComponent)
    }
    let valid = learn.recorder.values.last ?? []
    print(String(format: "accuracy %.2f%%; %.1f s", 100 * (valid.count > 2 ? valid[2] : .nan), seconds(since: start)))
}
