import DataBlocks
import Foundation
import Tensors
import TestSupport
import Text
import Training
import XCTest

final class TextLearnerTests: XCTestCase {
    func testSmoke() throws {
        seed(1)
        let t0 = Date()
        let dls = try TextDataLoaders.fromCSV(BundledData.austen, csvName: "texts.csv", validCol: "is_valid", isLM: true, seqLen: 36, batchSize: 32)
        print("loaders", Date().timeIntervalSince(t0), dls.textVocab.count, dls.train.count, dls.valid.count)
        dls.showBatch(maxN: 2, truncateAt: 20)
        let config = AWDLSTMConfig(embeddingSize: 64, hiddenSize: 128, layerCount: 2, hiddenP: 0.15, inputP: 0.25, embedP: 0.02, weightP: 0.2, outputP: 0.1)
        let learn = try languageModelLearner(dls, config: config, metrics: [accuracy, perplexity])
        try learn.fitOneCycle(epochs: 2, lrMax: 1e-2)
        print("lm", Date().timeIntervalSince(t0))
        print(try learn.predict("I liked this movie because", nWords: 10, temperature: 0.75))
        let cls = try TextDataLoaders.fromCSV(
            BundledData.austen, csvName: "texts.csv", validCol: "is_valid", textVocab: dls.textVocab, seqLen: 36, batchSize: 32)
        cls.showBatch(maxN: 2, truncateAt: 20)
        let c = try textClassifierLearner(
            cls, config: AWDLSTMConfig(embeddingSize: 64, hiddenSize: 128, layerCount: 2, hiddenP: 0.3, inputP: 0.4, embedP: 0.05, weightP: 0.5, outputP: 0.4),
            metrics: [accuracy])
        try c.fitOneCycle(epochs: 2, lrMax: 1e-2)
        print("cls", Date().timeIntervalSince(t0))
        print(try c.predict("Mr. Darcy and Elizabeth walked to Netherfield."))
    }
}
