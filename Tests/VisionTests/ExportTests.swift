import FastSwift
import Foundation
import TestSupport
import XCTest

/// `export` and `loadLearner` of vision learners: the model is rebuilt from the export's metadata.
final class ExportTests: TemporaryFolderTestCase {

    func testLoadLearnerChecksAnExportsMetadataAgainstItsTensors() throws {
        seed(4)
        let x = Tensor.rand([8, 1, 16, 16]), y = Tensor((0..<8).map { Float($0 % 2) })
        let dl = try DataLoader(TensorDataset(x, y), batchSize: 4)
        let learn = visionLearner(DataLoaders(dl, dl, vocab: ["no", "yes"]), arch: .resnet18, loss: crossEntropy)
        learn.path = folder
        let file = try learn.export()
        let (tensors, metadata) = try SafeTensors.read(file)
        for (key, value, reason) in [
            ("in_channels", "0", "the export's in_channels is '0'"),
            ("in_channels", "-3", "the export's in_channels is '-3'"),
            ("in_channels", "1000000000000", "holds no stem weight of shape [64, 1000000000000, 7, 7]"),
            ("vocab", "[]", "an empty vocab"), ("vocab", "{", "no readable vocab"),
            ("vocab", #"["a","b","c"]"#, "the export's vocab has 3 classes, but it holds no head weight of shape [3, 512]"),
            ("arch", "resnet9000", "unknown architecture 'resnet9000'"),
        ] {
            var changed = metadata
            changed[key] = value
            let broken = folder.appendingPathComponent("broken.safetensors")
            try SafeTensors.write(tensors, metadata: changed, to: broken)
            XCTAssertThrowsError(try loadLearner(broken)) { error in
                XCTAssertTrue(error is LearnerError, "\(error)")
                XCTAssertTrue("\(error)".contains(reason), "\(key)=\(value): \(error)")
            }
        }
    }
    func testVisionLearnerExportRebuildsItsModel() throws {
        seed(4)
        let x = Tensor.rand([8, 1, 16, 16]), y = Tensor((0..<8).map { Float($0 % 2) })
        let dl = try DataLoader(TensorDataset(x, y), batchSize: 4)
        let learn = visionLearner(DataLoaders(dl, dl, vocab: ["no", "yes"]), arch: .resnet18, loss: crossEntropy)
        learn.progress.show = false
        learn.path = folder
        let file = try learn.export()
        let loaded = try loadLearner(file)
        XCTAssertEqual(loaded.predict(x[0]).probabilities, learn.predict(x[0]).probabilities)
        XCTAssertEqual(loaded.vocab, ["no", "yes"])
    }
    func testAnExportWithoutAnArchitectureNeedsItsModel() throws {
        seed(3)
        let x = Tensor.randn([8, 4]), y = Tensor((0..<8).map { Float($0 % 3) })
        let dl = try DataLoader(TensorDataset(x, y), batchSize: 4)
        let learn = Learner(
            dls: DataLoaders(dl, dl, vocab: ["a", "b", "c"]), model: Sequential(Linear(4, 8), ReLU(), Linear(8, 3)), loss: crossEntropy)
        learn.path = folder
        let file = try learn.export()
        XCTAssertThrowsError(try loadLearner(file)) { error in
            XCTAssertTrue("\(error)".contains("is not a visionLearner, tabularLearner or collabLearner export"), "\(error)")
        }
    }

    func testLoadLearnerSaysWhatAFileIsWhenItIsNotAnExport() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cases: [(String, [UInt8], String)] = [
            ("model.pth", [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 7, count: 60), "it is a zip archive, as PyTorch's .pth/.pt files are"),
            ("export.pkl", [0x80, 0x04, 0x95] + [UInt8](repeating: 1, count: 60), "it is a Python pickle"),
            ("notes.txt", Array("These are my notes on the model, not the model.".utf8), "it is text"),
        ]
        for (name, bytes, kind) in cases {
            let file = folder.appendingPathComponent(name)
            try Data(bytes).write(to: file)
            XCTAssertThrowsError(try loadLearner(file)) { error in
                XCTAssertTrue("\(error)".contains("not a safetensors file (\(kind)"), "\(name): \(error)")
                XCTAssertEqual(error.localizedDescription, "\(error)", "DataError's localized description is its own")
            }
        }
        XCTAssertThrowsError(try loadLearner(folder.appendingPathComponent("missing.safetensors"))) { error in
            XCTAssertTrue("\(error)".contains("missing.safetensors: cannot read the file"), "\(error)")
        }
    }
}
