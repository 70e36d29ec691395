import DataBlocks
import XCTest
@testable import Vision
@testable import Codecs
@testable import Autograd
@testable import Layers
@testable import Optimizers
@testable import Tensors

/// End to end on real digits: the bundled MNIST sample, an MLP, SGD with momentum.
final class TrainingOnSampleTests: XCTestCase {
    func testSmallMLPLearnsTheBundledDigits() throws {
        seed(42)
        let train = try ImageFolder.load(BundledData.mnist, split: "training")
        let valid = try ImageFolder.load(BundledData.mnist, split: "testing", classes: train.classes)
        let batches = try DataLoader(TensorDataset(train.images.reshape([-1, 784]), train.labels), batchSize: 64, shuffle: true)
        let model = Sequential(Linear(784, 64), ReLU(), Linear(64, 10))
        let opt = SGD(model.parameters, lr: 0.1, momentum: 0.9)
        for _ in 0..<8 {
            for (xb, yb) in batches {
                crossEntropy(model(xb), yb).backward()
                opt.step()
                opt.zeroGrad()
            }
        }
        let accuracy = noGrad { (model(valid.images.reshape([-1, 784])).argmax(dim: 1) .== valid.labels).mean().item() }
        XCTAssertGreaterThan(accuracy, 0.88, "8 epochs on 3,000 digits reach about 90% on the 1,000 held out")
    }
}
