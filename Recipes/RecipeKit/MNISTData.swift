import Codecs
import DataBlocks
import Vision
import Foundation
import Tensors

/// MNIST for the recipes: the full set from a folder of IDX files when one is given, else
/// FastSwift's bundled sample. Images come as `[n, 784]` rows in 0...1, labels as class indices.
public struct MNISTData {
    public let trainImages: Tensor, trainLabels: Tensor
    public let testImages: Tensor, testLabels: Tensor
    public let description: String

    /// Loads `train-images-idx3-ubyte(.gz)` and its three siblings from `folder`, or the
    /// bundled sample when `folder` is nil.
    public static func load(idxFolder folder: String?) throws -> MNISTData {
        guard let folder else {
            let train = try ImageFolder.load(BundledData.mnist, split: "training")
            let test = try ImageFolder.load(BundledData.mnist, split: "testing", classes: train.classes)
            return MNISTData(
                trainImages: train.images.reshape([-1, 784]), trainLabels: train.labels,
                testImages: test.images.reshape([-1, 784]), testLabels: test.labels,
                description: "the bundled MNIST sample (\(train.labels.count) training, \(test.labels.count) test digits)")
        }
        func read(_ name: String) throws -> (bytes: [UInt8], path: String) {
            for candidate in [name + ".gz", name] {
                let path = URL(fileURLWithPath: folder).appendingPathComponent(candidate).path
                if FileManager.default.fileExists(atPath: path) { return ([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), path) }
            }
            throw DataError(folder, "no \(name) or \(name).gz here; expected the four MNIST IDX files")
        }
        let (trainX, trainY) = (try read("train-images-idx3-ubyte"), try read("train-labels-idx1-ubyte"))
        let (testX, testY) = (try read("t10k-images-idx3-ubyte"), try read("t10k-labels-idx1-ubyte"))
        let data = MNISTData(
            trainImages: try IDX.images(trainX.bytes, source: trainX.path).reshape([-1, 784]),
            trainLabels: try IDX.labels(trainY.bytes, source: trainY.path),
            testImages: try IDX.images(testX.bytes, source: testX.path).reshape([-1, 784]),
            testLabels: try IDX.labels(testY.bytes, source: testY.path),
            description: "MNIST from \(folder)")
        guard data.trainImages.shape[0] == data.trainLabels.count, data.testImages.shape[0] == data.testLabels.count else {
            throw DataError(
                folder,
                "image and label counts differ: \(data.trainImages.shape[0]) vs \(data.trainLabels.count) (train), "
                    + "\(data.testImages.shape[0]) vs \(data.testLabels.count) (test)"
            )
        }
        return data
    }
}
