import Foundation
import XCTest
@testable import Vision
@testable import Codecs
@testable import Autograd
@testable import DataBlocks
@testable import Layers
@testable import Tensors
import TestSupport
@testable import Training

/// torchvision's ResNets loaded from safetensors state dicts give PyTorch's outputs.
final class PretrainedTests: XCTestCase {
    var reference: [String: Any] {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/torchvision_resnets.json")
        return (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
    }

    /// torchvision's state dict for `arch` (its own keys, from the fixture), filled with the
    /// fixture's deterministic weights and written as safetensors; the counters left out.
    func stateDictFile(_ arch: String, leaving skipped: Set<String> = [], changing changed: [String: Tensor] = [:]) throws -> URL {
        let models = try XCTUnwrap(reference["models"] as? [String: Any])
        let model = try XCTUnwrap(models[arch] as? [String: Any])
        let keys = try XCTUnwrap(model["keys"] as? [[Any]])
        var tensors: [String: Tensor] = [:]
        for key in keys {
            let name = try XCTUnwrap(key[0] as? String), shape = try XCTUnwrap(key[1] as? [Int]), dtype = try XCTUnwrap(key[2] as? String)
            guard dtype == "float32", !skipped.contains(name) else { continue }
            tensors[name] = changed[name] ?? DeterministicWeights.tensor(name, shape: shape)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fastswift-\(arch)-\(UUID().uuidString).safetensors")
        try SafeTensors.write(tensors, to: file)
        return file
    }

    func input() -> Tensor { Tensor(shape: [2, 3, 64, 64], scalars: DeterministicWeights.uniform("input", count: 2 * 3 * 64 * 64).map { Float($0) }) }

    func assertClose(_ mine: [Float], _ theirs: [Double], _ what: String) {
        XCTAssertEqual(mine.count, theirs.count, what)
        let scale = max(1, theirs.map(abs).max() ?? 1)
        let worst = zip(mine, theirs).map { abs(Double($0) - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "\(what): largest difference from PyTorch \(worst)")
    }

    func testTorchvisionResNetsGivePyTorchsOutputs() throws {
        let models = try XCTUnwrap(reference["models"] as? [String: Any])
        for arch in [Architecture.resnet18, .resnet34, .resnet50] {
            let model = try XCTUnwrap(models[arch.name] as? [String: Any])
            let file = try stateDictFile(arch.name)
            defer { try? FileManager.default.removeItem(at: file) }
            let net = try arch.pretrainedNetwork(from: file)
            net.eval()
            let x = input()
            let (logits, features) = noGrad { (net(x), net.body(x)) }
            assertClose(logits.scalars, try XCTUnwrap(model["logits"] as? [Double]), "\(arch.name) logits")
            XCTAssertEqual(features.shape, try XCTUnwrap(model["features_shape"] as? [Int]))
            let every4th = stride(from: 0, to: features.count, by: 4).map { features.scalars[$0] }
            assertClose(every4th, try XCTUnwrap(model["features_every_4th"] as? [Double]), "\(arch.name) body")
        }
    }

    func testAWrongOrMissingTensorIsNamed() throws {
        let missing = try stateDictFile("resnet18", leaving: ["layer2.0.bn1.running_var"])
        defer { try? FileManager.default.removeItem(at: missing) }
        XCTAssertThrowsError(try Architecture.resnet18.pretrainedNetwork(from: missing)) { error in
            XCTAssertTrue("\(error)".contains("not torchvision's resnet18 weights"), "\(error)")
            XCTAssertTrue("\(error)".contains("layer2.0.bn1.running_var: missing from the checkpoint"), "\(error)")
        }
        let wrong = try stateDictFile("resnet18", changing: ["layer1.1.conv2.weight": Tensor.zeros([64, 64, 1, 1])])
        defer { try? FileManager.default.removeItem(at: wrong) }
        XCTAssertThrowsError(try Architecture.resnet18.pretrainedNetwork(from: wrong)) { error in
            XCTAssertTrue("\(error)".contains("layer1.1.conv2.weight: checkpoint has [64, 64, 1, 1], model has [64, 64, 3, 3]"), "\(error)")
        }
        // ResNet-18's weights are not ResNet-34's.
        let eighteen = try stateDictFile("resnet18")
        defer { try? FileManager.default.removeItem(at: eighteen) }
        XCTAssertThrowsError(try Architecture.resnet34.pretrainedNetwork(from: eighteen)) { error in
            XCTAssertTrue("\(error)".contains("layer1.2.conv1.weight: missing from the checkpoint"), "\(error)")
        }
    }

    func testTheStemAdaptsToOtherChannelCountsAsFastaiDoes() throws {
        let w = Tensor.randn([2, 3, 1, 1])
        let one = Architecture.adaptStem(w, to: 1), two = Architecture.adaptStem(w, to: 2), four = Architecture.adaptStem(w, to: 4)
        XCTAssertEqual(one.shape, [2, 1, 1, 1])
        XCTAssertEqual(one.scalars[0], w.scalars[0] + w.scalars[1] + w.scalars[2], accuracy: 1e-6)
        XCTAssertEqual(two.scalars, [w.scalars[0] * 1.5, w.scalars[1] * 1.5, w.scalars[3] * 1.5, w.scalars[4] * 1.5])
        XCTAssertEqual(four.scalars, [w.scalars[0], w.scalars[1], w.scalars[2], 0, w.scalars[3], w.scalars[4], w.scalars[5], 0])
    }

    func testPretrainedVisionLearnerIsFrozenNormalisesAndLoadsTheBody() throws {
        let file = try stateDictFile("resnet18")
        defer { try? FileManager.default.removeItem(at: file) }
        let path = BundledData.photos
        let dls = try ImageDataLoaders.fromNameRe(
            path, files: try getImageFiles(path), pattern: #"^(.+?)_"#, seed: 1, batchSize: 4,
            itemTransforms: [Resize(32)])
        let learn = try visionLearner(dls, arch: .resnet18, pretrained: file, loss: crossEntropy)
        XCTAssertTrue(learn.dls.batchTransforms.contains { $0 is Normalize }, "ImageNet statistics added")
        let (x, _) = learn.dls.valid.oneBatch()
        XCTAssertLessThan(x.min().item(), -1, "normalised: black is about -2")
        XCTAssertEqual(learn.parameterGroups.count, 3)
        // Frozen: the body's convolutions do not train, its batch norms and the head do.
        XCTAssertFalse(learn.parameterGroups[0][0].requiresGrad)
        XCTAssertTrue(learn.parameterGroups[2].allSatisfy(\.requiresGrad))
        let body = try XCTUnwrap((learn.model as? Sequential)?.layers[0])
        XCTAssertEqual(body.stateDict()["4.0.conv1.weight"], DeterministicWeights.tensor("layer1.0.conv1.weight", shape: [64, 64, 3, 3]))
        // Gray images: the stem sums the RGB weights, and ImageNet statistics do not apply.
        let digits = try ImageDataLoaders.fromFolder(BundledData.mnist, train: "training", valid: "testing", batchSize: 8)
        let gray = try visionLearner(digits, arch: .resnet18, pretrained: file, loss: crossEntropy)
        XCTAssertFalse(gray.dls.batchTransforms.contains { $0 is Normalize })
        let stem = try XCTUnwrap(gray.model.stateDict()["0.0.weight"])
        XCTAssertEqual(stem.shape, [64, 1, 7, 7])
    }

    func testCreateHeadIsFastaisHead() {
        let head = createHead(512, 10)
        XCTAssertEqual(
            head.layers.map { String(describing: type(of: $0)) },
            ["AdaptiveConcatPool2d", "Flatten", "BatchNorm1d", "Dropout", "Linear", "ReLU", "BatchNorm1d", "Dropout", "Linear"])
        XCTAssertEqual(head(Tensor.randn([4, 512, 1, 1])).shape, [4, 10])
    }

    func testUnetLearnerStartsFromPretrainedWeightsFrozen() throws {
        seed(6)
        let file = try stateDictFile("resnet18")
        defer { try? FileManager.default.removeItem(at: file) }
        let path = BundledData.digitScenes
        let dls = try SegmentationDataLoaders.fromLabelFunc(
            path, files: Array(try getImageFiles(path.appendingPathComponent("images")).prefix(24)),
            labelFunc: { path.appendingPathComponent("masks").appendingPathComponent($0.lastPathComponent) },
            codes: ["background"] + (0...9).map(String.init), seed: 1, batchSize: 4)
        let learn = try unetLearner(dls, arch: .resnet18, pretrained: file)
        learn.progress.show = false
        let unet = try XCTUnwrap(learn.model as? DynamicUnet)
        let (tensors, _) = try SafeTensors.read(file)
        // The body is torchvision's, its stem summed over RGB for the one-channel scenes.
        let layer1 = try XCTUnwrap(unet.encoder.namedParameters.first { $0.name == "4.0.conv1.weight" }).tensor
        XCTAssertTrue(layer1.scalars == tensors["layer1.0.conv1.weight"]?.scalars)
        let stem = try XCTUnwrap(unet.encoder.namedParameters.first { $0.name == "0.weight" }).tensor
        XCTAssertTrue(stem.scalars == Architecture.adaptStem(try XCTUnwrap(tensors["conv1.weight"]), to: 1).scalars)
        // Frozen as fastai's: one epoch moves the decoder, not the body's convolutions.
        let head = try XCTUnwrap(unet.head.layers.first as? Conv2d).weight.scalars
        try learn.fit(epochs: 1, lr: 1e-3)
        XCTAssertTrue(unet.encoder.namedParameters.first { $0.name == "4.0.conv1.weight" }?.tensor.scalars == layer1.scalars)
        XCTAssertFalse(try XCTUnwrap(unet.head.layers.first as? Conv2d).weight.scalars == head)
    }
}
