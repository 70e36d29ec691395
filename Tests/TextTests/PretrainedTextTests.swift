import DataBlocks
import Foundation
import Layers
import Tensors
import TestSupport
import Text
import Training
import XCTest

final class PretrainedTextTests: XCTestCase {
    /// fastai's own language-model state dict (the AWD-LSTM fixture's, as
    /// Benchmarks/convert_fastai_text.py writes WT103's) with its vocabulary loads into a learner
    /// with another vocabulary as fastai's `load_pretrained` does: known tokens keep their rows,
    /// new ones get the mean row, the LSTM weights load as they are, and all but the last group
    /// is frozen.
    func testLoadPretrainedMatchesEmbeddingsToTheNewVocabulary() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/awd_lstm_reference", withExtension: "safetensors"))
        let (reference, _) = try SafeTensors.read(url)
        var weights: [String: Tensor] = [:]
        for (key, value) in reference where key.hasPrefix("lm.") { weights[String(key.dropFirst(3))] = value }
        let oldVocab = SpecialToken.all + ["the", "elizabeth", "darcy", "zeppelin"] + (0..<27).map { "old\($0)" }
        XCTAssertEqual(oldVocab.count, 40)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-pretrained-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try SafeTensors.write(weights, to: dir.appendingPathComponent("weights.safetensors"))
        try (oldVocab.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)

        let dls = try TextDataLoaders.fromCSV(BundledData.austen, csvName: "texts.csv", validCol: "is_valid", isLM: true, batchSize: 16)
        var config = AWDLSTMConfig.languageModel
        (config.embeddingSize, config.hiddenSize, config.layerCount) = (8, 12, 3)
        let learn = try languageModelLearner(dls, config: config)
        try learn.loadPretrained(weights: dir.appendingPathComponent("weights.safetensors"), vocab: dir.appendingPathComponent("vocab.txt"))

        let old = try XCTUnwrap(weights["0.encoder.weight"]).toArray2D()
        let mean = try XCTUnwrap(weights["0.encoder.weight"]).mean(dim: 0).scalars
        let embedding = try XCTUnwrap(learn.textEncoder).encoder.weight.toArray2D()
        for token in ["xxunk", "xxbos", "the", "elizabeth", "darcy"] {
            let row = dls.textVocab.index(of: token)
            XCTAssertEqual(dls.textVocab.tokens[row], token)
            assertClose(embedding[row], old[try XCTUnwrap(oldVocab.firstIndex(of: token))], rtol: 0, atol: 0, token)
        }
        let fresh = dls.textVocab.index(of: "marianne")
        XCTAssertNotEqual(fresh, 0)
        assertClose(embedding[fresh], mean, rtol: 1e-6, atol: 1e-6, "a token the old vocabulary lacks: the mean row")
        let decoder = try XCTUnwrap((learn.model as? SequentialRNN)?.layers[1] as? LinearDecoder)
        XCTAssertEqual(decoder.decoder.weight.toArray2D()[fresh], embedding[fresh], "the decoder stays tied")
        XCTAssertEqual(
            try XCTUnwrap(learn.textEncoder).stateDict()["rnns.2.weight_hh_l0_raw"], weights["0.rnns.2.weight_hh_l0_raw"])
        XCTAssertFalse(try XCTUnwrap(learn.textEncoder).rnns[0].rawWeights[0].requiresGrad, "frozen but the last group")

        // A vocabulary file that does not fit the weights is an error naming the file.
        try "a\nb\n".write(to: dir.appendingPathComponent("short.txt"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(
            try learn.loadPretrained(weights: dir.appendingPathComponent("weights.safetensors"), vocab: dir.appendingPathComponent("short.txt"))
        ) { XCTAssertTrue("\($0)".contains("2 tokens"), "\($0)") }
    }
}
