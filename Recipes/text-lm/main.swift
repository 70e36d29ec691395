// text-lm: chapter 10's ULMFiT on the bundled Jane Austen paragraphs. A language model learns to
// predict the next word of the whole corpus (its validation texts included, as chapter 10 uses
// IMDB's unlabelled reviews); it writes a few sentences; its encoder is saved; a classifier
// starts from that encoder and is unfrozen a group at a time with discriminative learning rates.
// fastai's WT103 weights cannot be downloaded here, so the language model starts from scratch
// (`Learner.loadPretrained(weights:vocab:)` takes them when you have them).
//
//     swift run -c release text-lm
//     swift run -c release text-lm --data /tmp/austen --lm-epochs 4
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(
    valued: ["data", "lm-epochs", "lm-lr", "bs", "seq-len", "emb", "hidden", "layers", "seed", "words"], flags: ["chapter10"],
    usage: """
        usage: text-lm [--data DIR] [--lm-epochs N] [--lm-lr X] [--bs N] [--seq-len N] [--emb N] [--hidden N] [--layers N] [--seed N] [--words N] [--chapter10]
          --data DIR     a folder with texts.csv (text,label,is_valid), as Benchmarks/make_text_sample.py writes
          --chapter10    the classifier stages at chapter 10's rates (2e-2, then slice(lr/2.6**4, lr) with lr 1e-2, 5e-3, 1e-3),
                         made for an encoder pretrained on WikiText-103; by default every stage trains every unfrozen
                         group at 1e-2, which an encoder learnt from these few paragraphs needs (see the README)
          --emb, --hidden, --layers  the AWD-LSTM's sizes (fastai's 400, 1152, 3; smaller by default here: 200, 400, 2)
        """)

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let start = Date()
    let path = args.string("data").map { URL(fileURLWithPath: $0) } ?? BundledData.austen
    let bs = args.int("bs", default: 64), seqLen = args.int("seq-len", default: 72)
    let sizes = (args.int("emb", default: 200), args.int("hidden", default: 400), args.int("layers", default: 2))
    func sized(_ config: AWDLSTMConfig) -> AWDLSTMConfig {
        var c = config
        (c.embeddingSize, c.hiddenSize, c.layerCount) = sizes
        return c
    }

    // fastai: dls_lm = TextDataLoaders.from_df(df, text_col='text', is_lm=True, valid_pct=0.1)
    let df = try DataFrame.readCSV(path.appendingPathComponent("texts.csv"))
    let dlsLM = try TextDataLoaders.fromDF(df, textCol: "text", validPct: 0.1, seed: 42, isLM: true, seqLen: seqLen, batchSize: bs)
    dlsLM.showBatch(maxN: 2, truncateAt: 20)

    // fastai: learn = language_model_learner(dls_lm, AWD_LSTM, drop_mult=0.3, metrics=[accuracy, Perplexity()])
    let lm = try languageModelLearner(dlsLM, arch: .awdLSTM, config: sized(.languageModel), dropMult: 0.3, metrics: [accuracy, perplexity])
    lm.path = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-text-lm", isDirectory: true)
    // fastai: learn.fit_one_cycle(1, 2e-2); learn.unfreeze(); learn.fit_one_cycle(10, 2e-3)
    try lm.fitOneCycle(epochs: args.int("lm-epochs", default: 8), lrMax: args.float("lm-lr", default: 1e-2))
    // fastai: learn.predict(TEXT, N_WORDS, temperature=0.75)
    for _ in 0..<2 {
        print(try lm.predict("Elizabeth was", nWords: args.int("words", default: 30), temperature: 0.75))
    }
    // fastai: learn.save_encoder('finetuned')
    let encoder = try lm.saveEncoder("finetuned")
    print("encoder saved to \(encoder.path)")

    // fastai: dls_clas = TextDataLoaders.from_df(df, text_col='text', label_col='label', valid_col='is_valid', text_vocab=dls_lm.vocab)
    let dlsClas = try TextDataLoaders.fromDF(
        df, textCol: "text", labelCol: "label", validCol: "is_valid", textVocab: dlsLM.textVocab, seqLen: seqLen, batchSize: bs)
    // fastai: learn = text_classifier_learner(dls_clas, AWD_LSTM, drop_mult=0.5, metrics=accuracy).load_encoder('finetuned')
    let learn = try textClassifierLearner(dlsClas, arch: .awdLSTM, seqLen: seqLen, config: sized(.classifier), dropMult: 0.5, metrics: [accuracy])
    learn.path = lm.path
    try learn.loadEncoder("finetuned")
    // Chapter 10's rates, or one rate for every group (see --chapter10).
    let chapter10 = args.flag("chapter10")
    func rates(_ lr: Float) -> ClosedRange<Float> { chapter10 ? (lr / pow(2.6, 4))...lr : 1e-2...1e-2 }
    // fastai: learn.fit_one_cycle(1, 2e-2)
    try learn.fitOneCycle(epochs: 1, lrMax: chapter10 ? 2e-2 : 1e-2)
    // fastai: learn.freeze_to(-2); learn.fit_one_cycle(1, slice(1e-2/(2.6**4), 1e-2))
    learn.freezeTo(-2)
    try learn.fitOneCycle(epochs: 1, lrMax: rates(1e-2))
    // fastai: learn.freeze_to(-3); learn.fit_one_cycle(1, slice(5e-3/(2.6**4), 5e-3))
    learn.freezeTo(-3)
    try learn.fitOneCycle(epochs: 1, lrMax: rates(5e-3))
    // fastai: learn.unfreeze(); learn.fit_one_cycle(2, slice(1e-3/(2.6**4), 1e-3))
    learn.unfreeze()
    try learn.fitOneCycle(epochs: 2, lrMax: rates(1e-3))
    let valid = learn.recorder.values.last ?? []
    print(String(format: "classifier accuracy %.2f%%; %.1f s", 100 * (valid.count > 2 ? valid[2] : .nan), seconds(since: start)))
}
