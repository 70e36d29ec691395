import Foundation
import TestSupport
import XCTest
@testable import Autograd
@testable import Layers
@testable import Tensors

/// The U-Net's layers: PyTorch's `pixel_shuffle` and nearest `interpolate` (values printed by
/// PyTorch 2.x for these inputs), their gradients by finite differences, ICNR's initial
/// nearest-neighbour upsampling, and `DynamicUnet` giving its input's size for any size.
final class UnetTests: XCTestCase {
    func testPixelShuffleMatchesPyTorch() {
        let x = Tensor(shape: [2, 8, 2, 3], scalars: (0..<96).map(Float.init))
        let y = x.pixelShuffle(2)
        XCTAssertEqual(y.shape, [2, 2, 4, 6])
        // torch.nn.functional.pixel_shuffle(torch.arange(96.).reshape(2, 8, 2, 3), 2)[0, 0] and [1, 1]
        XCTAssertEqual(y[0, 0].scalars, [0, 6, 1, 7, 2, 8, 12, 18, 13, 19, 14, 20, 3, 9, 4, 10, 5, 11, 15, 21, 16, 22, 17, 23])
        XCTAssertEqual(y[1, 1].scalars, [72, 78, 73, 79, 74, 80, 84, 90, 85, 91, 86, 92, 75, 81, 76, 82, 77, 83, 87, 93, 88, 94, 89, 95])
        let result = checkGradients(of: { $0[0].pixelShuffle(2) }, at: [Tensor.randn([1, 4, 2, 2], generator: RandomGenerator(seed: 1))])
        XCTAssertTrue(result.passed, result.description)
    }

    func testNearestResizeMatchesPyTorch() {
        let x = Tensor(shape: [1, 1, 3, 5], scalars: (0..<15).map(Float.init))
        // F.interpolate(torch.arange(15.).reshape(1, 1, 3, 5), size=(7, 4), mode='nearest'), and size=(2, 3)
        XCTAssertEqual(
            x.resizedNearest(height: 7, width: 4).scalars, [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 5, 6, 7, 8, 5, 6, 7, 8, 10, 11, 12, 13, 10, 11, 12, 13])
        XCTAssertEqual(x.resizedNearest(height: 2, width: 3).scalars, [0, 1, 3, 5, 6, 8])
        let result = checkGradients(of: { $0[0].resizedNearest(height: 5, width: 3) }, at: [Tensor.randn([2, 1, 3, 2], generator: RandomGenerator(seed: 2))])
        XCTAssertTrue(result.passed, result.description)
    }

    func testICNRStartsAsNearestNeighbourUpsampling() {
        // Every r² outputs of one final channel share a kernel: after the shuffle, each 2×2 block is one value.
        let shuffle = PixelShuffleICNR(3, 2)
        let x = Tensor.randn([1, 3, 4, 5], generator: RandomGenerator(seed: 3))
        let y = noGrad { shuffle(x) }
        XCTAssertEqual(y.shape, [1, 2, 8, 10])
        for c in 0..<2 {
            for i in 0..<4 {
                for j in 0..<5 {
                    let block = [y[0, c, 2 * i, 2 * j], y[0, c, 2 * i, 2 * j + 1], y[0, c, 2 * i + 1, 2 * j], y[0, c, 2 * i + 1, 2 * j + 1]].map { $0.item() }
                    XCTAssertTrue(block.allSatisfy { $0 == block[0] }, "channel \(c), block (\(i), \(j)): \(block)")
                }
            }
        }
    }

    func testDynamicUnetGivesItsInputsSizeForAnySize() throws {
        seed(5)
        let encoder = resnet18(inChannels: 1, classes: 10).body
        let unet = try DynamicUnet(encoder: encoder, inChannels: 1, outChannels: 3, size: (32, 32))
        // Skips where the resolution changes: the stem's ReLU, layer1, layer2, layer3 (deepest first).
        XCTAssertEqual(unet.skipIndices, [6, 5, 4, 2])
        XCTAssertEqual(unet.blocks.map(\.outChannels), [512, 384, 256, 96])
        XCTAssertNotNil(unet.finalShuffle, "the first skip is half the input's size")
        unet.eval()
        for (h, w) in [(32, 32), (29, 37), (17, 20)] {
            let y = noGrad { unet(Tensor.randn([2, 1, h, w])) }
            XCTAssertEqual(y.shape, [2, 3, h, w], "\(h)x\(w)")
            XCTAssertEqual(try unet.outputShape(for: [2, 1, h, w]), [2, 3, h, w])
        }
        // Gradients reach the encoder's first layer through every skip and the decoder.
        XCTAssertEqual(unet.parameters.map(\.count).reduce(0, +), 31_099_770, "fastai's DynamicUnet(create_body(resnet18, n_in=1), 3, (32, 32)) has 31,099,770")
        unet.train()
        let out = unet(Tensor.randn([2, 1, 29, 37]))
        CrossEntropyLossFlat(axis: 1)(out, Tensor.zeros([2, 29, 37])).backward()
        XCTAssertTrue(unet.parameters.allSatisfy { ($0.grad?.scalars.contains { $0 != 0 }) ?? false }, "every parameter gets a gradient")
    }

    func testDynamicUnetMatchesFastaisOwnForwardAndBackward() throws {
        // fastai's DynamicUnet over a small encoder, with the weights and statistics of
        // Tests/Fixtures/make_unet_reference.py loaded in order.
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/unet_reference", withExtension: "safetensors"))
        let (reference, _) = try SafeTensors.read(url)
        func conv(_ i: Int, _ o: Int) -> Conv2d { Conv2d(i, o, kernelSize: 3, stride: 2, padding: 1) }
        let encoder = Sequential(conv(1, 8), BatchNorm2d(8), ReLU(), conv(8, 16), BatchNorm2d(16), ReLU(), conv(16, 32))
        let unet = try DynamicUnet(encoder: encoder, inChannels: 1, outChannels: 3, size: (16, 16))
        var state = unet.stateDict()
        let names = unet.namedParameters.map(\.name)
        XCTAssertEqual(names.count, 40, "fastai's model has 40 parameter tensors")
        for (i, name) in names.enumerated() {
            let value = try XCTUnwrap(reference[String(format: "param.%03d", i)])
            XCTAssertEqual(value.shape, state[name]?.shape, name)
            state[name] = value
        }
        let buffers = unet.namedBuffers.map(\.name)
        for (kind, key) in [("running_mean", "running_mean"), ("running_var", "running_var")] {
            for (i, name) in buffers.filter({ $0.hasSuffix(kind) }).enumerated() { state[name] = reference[String(format: "\(key).%02d", i)] }
        }
        try unet.loadStateDict(state)
        let x = try XCTUnwrap(reference["input"])
        unet.eval()
        assertClose(noGrad { unet(x) }, try XCTUnwrap(reference["eval_output"]), rtol: 1e-4, atol: 1e-4)

        unet.train()
        var input = x
        input.requiresGrad = true
        let out = unet(input)
        assertClose(out, try XCTUnwrap(reference["train_output"]), rtol: 1e-4, atol: 1e-4)
        let n = out.count
        let w = Tensor(shape: out.shape, scalars: (0..<n).map { -1 + 2 * Float($0) / Float(n - 1) })
        (out * w).sum().backward()
        assertClose(try XCTUnwrap(input.grad), try XCTUnwrap(reference["input_grad"]), rtol: 1e-3, atol: 1e-3)
        for (i, parameter) in unet.parameters.enumerated() {
            assertClose(try XCTUnwrap(parameter.grad), try XCTUnwrap(reference[String(format: "grad.%03d", i)]), rtol: 1e-3, atol: 1e-3, names[i])
        }
    }
}
