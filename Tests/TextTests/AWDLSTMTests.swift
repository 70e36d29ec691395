import Autograd
import Foundation
import Layers
import Tensors
import TestSupport
import Text
import XCTest

final class AWDLSTMTests: XCTestCase {
    /// fastai's own AWD-LSTM language model and classifier (Tests/Fixtures/make_awd_lstm_reference.py):
    /// their state dicts load key for key, and the outputs agree.
    func testFastaiStateDictsLoadKeyForKeyAndGiveFastaisOutputs() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/awd_lstm_reference", withExtension: "safetensors"))
        let (reference, _) = try SafeTensors.read(url)
        func state(_ prefix: String) -> [String: Tensor] {
            var out: [String: Tensor] = [:]
            for (key, value) in reference where key.hasPrefix(prefix) && !key.hasSuffix("num_batches_tracked") {
                out[String(key.dropFirst(prefix.count))] = value
            }
            return out
        }
        var config = AWDLSTMConfig.languageModel
        (config.embeddingSize, config.hiddenSize, config.layerCount) = (8, 12, 3)
        let lm = AWDLSTM.languageModel(vocabSize: 40, config: config)
        XCTAssertEqual(Set(lm.stateDict().keys), Set(state("lm.").keys), "fastai's keys, no more, no fewer")
        try lm.loadStateDict(state("lm."))
        lm.eval()
        let y1 = noGrad { lm(reference["lm_input1"]!) }
        let y2 = noGrad { lm(reference["lm_input2"]!) }
        assertClose(y1, try XCTUnwrap(reference["lm_output1"]), rtol: 1e-4, atol: 1e-5)
        assertClose(y2, try XCTUnwrap(reference["lm_output2"]), rtol: 1e-4, atol: 1e-5, "the state carried from the first batch")

        var clasConfig = AWDLSTMConfig.classifier
        (clasConfig.embeddingSize, clasConfig.hiddenSize, clasConfig.layerCount) = (8, 12, 3)
        let clas = AWDLSTM.classifier(vocabSize: 40, classes: 3, seqLen: 4, config: clasConfig, maxLen: 8)
        XCTAssertEqual(Set(clas.stateDict().keys), Set(state("clas.").keys))
        try clas.loadStateDict(state("clas."))
        clas.eval()
        assertClose(noGrad { clas(reference["clas_input"]!) }, try XCTUnwrap(reference["clas_output"]), rtol: 1e-4, atol: 1e-5)
    }

    func testLanguageModelCarriesStateUntilReset() {
        seed(2)
        var config = AWDLSTMConfig.languageModel
        (config.embeddingSize, config.hiddenSize, config.layerCount) = (6, 10, 2)
        let lm = AWDLSTM.languageModel(vocabSize: 16, config: config)
        lm.eval()
        let x = Tensor([[3, 4, 5], [6, 7, 8]] as [[Float]])
        let first = noGrad { lm(x) }
        XCTAssertNotEqual(noGrad { lm(x) }.scalars, first.scalars, "the second call starts from the first's state")
        lm.reset()
        XCTAssertEqual(noGrad { lm(x) }.scalars, first.scalars, "reset: zeros again")
        // Tied: the decoder's weight is the embedding's.
        let encoder = lm.layers[0] as! AWDLSTM, decoder = lm.layers[1] as! LinearDecoder
        XCTAssertEqual(encoder.encoder.weight.parameterIdentity, decoder.decoder.weight.parameterIdentity)
        // A smaller batch keeps the first rows' state.
        lm.reset()
        _ = noGrad { lm(x) }
        XCTAssertEqual(noGrad { lm(x.narrow(dim: 0, start: 0, length: 1)) }.shape, [1, 3, 16])
    }
}
