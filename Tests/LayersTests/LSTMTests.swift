import Autograd
import Foundation
import Layers
import Tensors
import TestSupport
import XCTest

final class LSTMTests: XCTestCase {
    /// PyTorch's nn.LSTM (Tests/Fixtures/make_lstm_reference.py): outputs, final states, a second
    /// chunk carried on from them, and the gradients of the input and of every gate's weights.
    func testLSTMMatchesPyTorchOutputsStatesAndGradients() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/lstm_reference", withExtension: "safetensors"))
        let (reference, _) = try SafeTensors.read(url)
        func ref(_ key: String) throws -> Tensor { try XCTUnwrap(reference[key], key) }
        for (name, inputSize, hidden, layers) in [("a", 5, 7, 2), ("b", 3, 20, 1)] {
            let lstm = LSTM(inputSize, hidden, layerCount: layers)
            var state = lstm.stateDict()
            for key in state.keys { state[key] = try ref("\(name).\(key)") }
            try lstm.loadStateDict(state)
            let h0 = try ref("\(name).h0"), c0 = try ref("\(name).c0")
            let start = (0..<layers).map { LSTMState(h: h0[$0], c: c0[$0]) }
            var x = try ref("\(name).input")
            x.requiresGrad = true
            let (y, end) = lstm(x, state: start)
            assertClose(y, try ref("\(name).output"), rtol: 1e-5, atol: 1e-5, name)
            assertClose(Tensor.stack(end.map(\.h)), try ref("\(name).hn"), rtol: 1e-5, atol: 1e-5, name)
            assertClose(Tensor.stack(end.map(\.c)), try ref("\(name).cn"), rtol: 1e-5, atol: 1e-5, name)
            let n = y.count
            (y * Tensor(shape: y.shape, scalars: (0..<n).map { -1 + 2 * Float($0) / Float(n - 1) })).sum().backward()
            assertClose(try XCTUnwrap(x.grad), try ref("\(name).input_grad"), rtol: 1e-4, atol: 1e-5, name)
            for (key, parameter) in lstm.namedParameters {
                assertClose(try XCTUnwrap(parameter.grad, key), try ref("\(name).\(key).grad"), rtol: 1e-4, atol: 1e-5, "\(name).\(key)")
            }
            let (y2, _) = noGrad { lstm(try! ref("\(name).input2"), state: end) }
            assertClose(y2, try ref("\(name).output2"), rtol: 1e-5, atol: 1e-5, "\(name): carried state")
        }
    }

    func testLSTMGradientsMatchFiniteDifferences() throws {
        seed(3)
        let lstm = LSTM(4, 5)
        let x = Tensor.randn([2, 3, 4]) * 0.7
        let start = LSTMState(h: Tensor.randn([2, 5]) * 0.3, c: Tensor.randn([2, 5]) * 0.3)
        let result = checkGradients(
            of: { xs in lstmLayer(xs[0], state: start, weightIH: xs[1], weightHH: xs[2], biasIH: xs[3], biasHH: xs[4]).output },
            at: [x, lstm.weightsIH[0], lstm.weightsHH[0], lstm.biasesIH[0], lstm.biasesHH[0]])
        XCTAssertTrue(result.passed, "\(result)")
    }

    func testWeightDropoutKeepsFastaisNamesAndDropsOnlyInTraining() {
        seed(1)
        let wrapped = WeightDropout(LSTM(3, 4), p: 0.5)
        XCTAssertEqual(
            wrapped.namedParameters.map(\.name).sorted(),
            ["module.bias_hh_l0", "module.bias_ih_l0", "module.weight_ih_l0", "weight_hh_l0_raw"])
        let x = Tensor.randn([2, 5, 3])
        wrapped.eval()
        let plain = noGrad { wrapped.module(x, state: nil).output }
        assertClose(noGrad { wrapped(x, state: nil).output }, plain, rtol: 0, atol: 0)
        wrapped.train()
        XCTAssertNotEqual(noGrad { wrapped(x, state: nil).output }.scalars, plain.scalars)
    }

    func testRNNDropoutUsesOneMaskPerSequence() {
        seed(2)
        let drop = RNNDropout(0.5)
        let y = drop(Tensor.ones([3, 6, 8]))
        for b in 0..<3 {
            let rows = y[b].toArray2D()
            for t in 1..<6 { XCTAssertEqual(rows[t], rows[0]) }
            XCTAssertTrue(rows[0].allSatisfy { $0 == 0 || $0 == 2 })
        }
        drop.eval()
        XCTAssertEqual(drop(Tensor.ones([2, 3, 4])).scalars, Array(repeating: 1, count: 24))
    }

    func testEmbeddingDropoutDropsWholeWords() {
        seed(4)
        let emb = Embedding(10, 6)
        let drop = EmbeddingDropout(emb, p: 0.5)
        let words = Tensor([[1, 2, 1, 3], [3, 2, 1, 1]] as [[Float]])
        let y = drop(words)
        XCTAssertEqual(y.shape, [2, 4, 6])
        let weights = emb.weight.toArray2D()
        for (b, row) in [[1, 2, 1, 3], [3, 2, 1, 1]].enumerated() {
            for (t, word) in row.enumerated() {
                let v = y[b][t].scalars
                let kept = v == weights[word].map { $0 * 2 }
                XCTAssertTrue(kept || v.allSatisfy { $0 == 0 }, "word \(word) is kept scaled or dropped whole")
                // The same word gets the same fate everywhere in the batch.
                let first = y[0][row.firstIndex(of: word).map { $0 } ?? 0].scalars
                if b == 0 { XCTAssertEqual(v, first) }
            }
        }
        drop.eval()
        XCTAssertEqual(drop(words).scalars, emb(words).scalars)
    }
}
