// mnist-mlp: the full-digit MLP 784-128-64-10 with LogSoftmax and NLL loss, trained by SGD
// with momentum, as in the PyTorch write-up this recipe follows (which reached 97.4%).
//
//     swift run -c release mnist-mlp                                  # the bundled sample
//     swift run -c release mnist-mlp --data ../shared/datasets/mnist  # full MNIST (IDX files)
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(
    valued: ["data", "epochs", "lr", "bs", "momentum", "seed"],
    usage: """
        usage: mnist-mlp [--data DIR] [--epochs N] [--lr X] [--momentum X] [--bs N] [--seed N]
          --data DIR   a folder with the MNIST IDX files (train-images-idx3-ubyte.gz, ...); default: the bundled sample
        """)

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let data = try MNISTData.load(idxFolder: args.string("data"))
    let epochs = args.int("epochs", default: 15), batchSize = args.int("bs", default: 128)
    let lr = args.float("lr", default: 0.05), momentum = args.float("momentum", default: 0.9)
    print("Training on \(data.description): \(epochs) epochs, batch \(batchSize), SGD lr \(lr) momentum \(momentum)")

    // Normalise with the training set's statistics, as torchvision's Normalize((0.1307,), (0.3081,)).
    let mean = data.trainImages.mean().item(), std = data.trainImages.std().item()
    let trainX = (data.trainImages - mean) / std, testX = (data.testImages - mean) / std

    let model = Sequential(Linear(784, 128), ReLU(), Linear(128, 64), ReLU(), Linear(64, 10), LogSoftmax(dim: 1))
    print(model)
    let opt = SGD(model.parameters, lr: lr, momentum: momentum)
    let train = try DataLoader(TensorDataset(trainX, data.trainLabels), batchSize: batchSize, shuffle: true)

    func testAccuracy() -> Float {
        model.eval()
        defer { model.train() }
        return noGrad { (model(testX).argmax(dim: 1) .== data.testLabels).mean().item() }
    }

    print("epoch  train_loss  test_accuracy  time")
    let start = Date()
    for epoch in 0..<epochs {
        let epochStart = Date()
        var totalLoss: Float = 0, batches = 0
        for (xb, yb) in train {
            let loss = nllLoss(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zeroGrad()
            totalLoss += loss.item()
            batches += 1
        }
        let accuracy = testAccuracy()
        print(String(format: "%5d  %10.4f  %12.2f%%  %.2fs", epoch, totalLoss / Float(batches), accuracy * 100, seconds(since: epochStart)))
    }
    print(String(format: "final test accuracy: %.2f%% after %d epochs in %.1fs", testAccuracy() * 100, epochs, seconds(since: start)))
}
