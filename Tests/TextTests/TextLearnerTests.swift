import DataBlocks
import Foundation
import Layers
import Tensors
import TestSupport
import Text
import Training
import XCTest

/// Chapter 10's steps on the bundled Austen paragraphs, at a small AWD-LSTM's sizes so that CI's
/// debug build runs them in seconds: a language model reaches a set perplexity and writes text;
/// its encoder carries over to a classifier trained with gradual unfreezing to a set accuracy.
final class TextLearnerTests: XCTestCase {
    static func small(_ base: AWDLSTMConfig) -> AWDLSTMConfig {
        var c = base
        (c.embeddingSize, c.hiddenSize, c.layerCount) = (64, 128, 2)
        return c
    }

    func testLanguageModelThenClassifierFromItsEncoder() throws {
        seed(1)
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-text-tests-cache")
        let dlsLM = try TextDataLoaders.fromCSV(
            BundledData.austen, csvName: "texts.csv", validCol: "is_valid", isLM: true, seqLen: 36, batchSize: 32, cache: cache)
        XCTAssertEqual(dlsLM.textVocab.count % 8, 0)
        XCTAssertEqual(Array(dlsLM.textVocab.tokens.prefix(9)), SpecialToken.all)
        let shown = dlsLM.showBatch(maxN: 2, truncateAt: 10)
        XCTAssertTrue(shown.contains("xxbos") || shown.contains("xxmaj"), shown)

        let lm = try languageModelLearner(dlsLM, config: Self.small(.languageModel), metrics: [accuracy, perplexity])
        XCTAssertEqual(lm.parameterGroups.count, 3, "each LSTM layer, then the embedding with the decoder")
        lm.path = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-text-tests-\(UUID())")
        defer { try? FileManager.default.removeItem(at: lm.path) }
        try lm.fitOneCycle(epochs: 2, lrMax: 1e-2)
        let lmValues = try XCTUnwrap(lm.recorder.values.last)
        // From 2,336 equally likely tokens, perplexity would be 2,336; two epochs reach 172.
        XCTAssertLessThan(lmValues[3], 200, "perplexity \(lmValues[3])")
        XCTAssertEqual(lmValues[3], exp(lmValues[1]), accuracy: 1e-2 * lmValues[3], "perplexity is exp(valid loss)")
        XCTAssertGreaterThan(lmValues[2], 0.12, "next-word accuracy")
        let written = try lm.predict("Elizabeth was", nWords: 12, temperature: 0.75)
        XCTAssertTrue(written.hasPrefix("Elizabeth was "), written)
        XCTAssertGreaterThanOrEqual(written.split(separator: " ").count, 8, written)
        try lm.saveEncoder("finetuned")

        let dls = try TextDataLoaders.fromCSV(
            BundledData.austen, csvName: "texts.csv", validCol: "is_valid", textVocab: dlsLM.textVocab, seqLen: 36, batchSize: 32,
            cache: cache)
        XCTAssertEqual(dls.vocab, ["Pride & Prejudice", "Sense & Sensibility"])
        let learn = try textClassifierLearner(dls, config: Self.small(.classifier), metrics: [accuracy])
        learn.path = lm.path
        XCTAssertEqual(learn.parameterGroups.count, 4, "embedding, each LSTM layer, head")
        try learn.loadEncoder("finetuned")
        let lmEncoder = try XCTUnwrap(lm.textEncoder), encoder = try XCTUnwrap(learn.textEncoder)
        XCTAssertEqual(encoder.stateDict()["rnns.1.weight_hh_l0_raw"], lmEncoder.stateDict()["rnns.1.weight_hh_l0_raw"])
        func weights(_ key: String) -> Tensor? { encoder.stateDict()[key] }
        try learn.fitOneCycle(epochs: 1, lrMax: 2e-2)
        XCTAssertEqual(weights("rnns.1.weight_hh_l0_raw"), lmEncoder.stateDict()["rnns.1.weight_hh_l0_raw"], "frozen: only the head trained")
        // Chapter 10's gradual unfreezing: the last LSTM layer joins, then everything, with
        // discriminative learning rates.
        learn.freezeTo(-2)
        try learn.fitOneCycle(epochs: 1, lrMax: (1e-2 / pow(2.6, 4))...1e-2)
        XCTAssertNotEqual(weights("rnns.1.weight_hh_l0_raw"), lmEncoder.stateDict()["rnns.1.weight_hh_l0_raw"], "the last layer trains")
        XCTAssertEqual(weights("rnns.0.weight_hh_l0_raw"), lmEncoder.stateDict()["rnns.0.weight_hh_l0_raw"], "the first is still frozen")
        XCTAssertEqual(weights("encoder.weight"), lmEncoder.stateDict()["encoder.weight"])
        learn.unfreeze()
        try learn.fitOneCycle(epochs: 1, lrMax: (1e-3 / pow(2.6, 4))...1e-3)
        XCTAssertNotEqual(weights("encoder.weight"), lmEncoder.stateDict()["encoder.weight"], "unfrozen: the embedding trains")
        let (_, _, probabilities) = try learn.predict("Mr. Darcy and Elizabeth walked to Netherfield with Mr. Bingley.")
        XCTAssertEqual(probabilities.sum().item(), 1, accuracy: 1e-4)

        // A classifier's vocabulary must be the language model's for its encoder.
        let other = try TextDataLoaders.fromCSV(
            BundledData.austen, csvName: "texts.csv", validCol: "is_valid", seqLen: 36, batchSize: 32, minFreq: 2, cache: cache)
        let mismatched = try textClassifierLearner(other, config: Self.small(.classifier))
        mismatched.path = lm.path
        XCTAssertThrowsError(try mismatched.loadEncoder("finetuned")) { XCTAssertTrue("\($0)".contains("vocabulary"), "\($0)") }
    }

    func testClassifierFromScratchReachesASetAccuracy() throws {
        seed(7)
        let dls = try TextDataLoaders.fromCSV(
            BundledData.austen, csvName: "texts.csv", validCol: "is_valid", seqLen: 36, batchSize: 32,
            cache: FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-text-tests-cache"))
        let learn = try textClassifierLearner(dls, config: Self.small(.classifier), metrics: [accuracy])
        try learn.fitOneCycle(epochs: 3, lrMax: 1e-2)
        let values = try XCTUnwrap(learn.recorder.values.last)
        // Which of two novels, from scratch: 92-94% in three epochs (57% is the larger class).
        XCTAssertGreaterThan(values[2], 0.8, "accuracy \(values[2])")
        let (label, _, _) = try learn.predict("Mr. Darcy and Elizabeth walked to Netherfield with Mr. Bingley and Mrs. Bennet.")
        XCTAssertEqual(label, "Pride & Prejudice")
        XCTAssertThrowsError(try learn.predict("text", nWords: 3)) { XCTAssertTrue("\($0)".contains("not a language-model"), "\($0)") }
    }
}
