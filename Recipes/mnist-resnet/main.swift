// mnist-resnet: ResNet-18 (torchvision's layout, one input channel, ten classes) trained on
// MNIST by a plain training loop: shuffled mini-batches, cross-entropy, SGD with momentum,
// then loss and accuracy on the held-out digits after each epoch.
//
//     swift run -c release mnist-resnet                                  # the bundled sample
//     swift run -c release mnist-resnet --data ../shared/datasets/mnist  # full MNIST (IDX files)
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(
    valued: ["data", "epochs", "lr", "bs", "seed"],
    usage: """
        usage: mnist-resnet [--data DIR] [--epochs N] [--lr X] [--bs N] [--seed N]
          --data DIR   a folder with the MNIST IDX files; default: the bundled sample
        """)

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let data = try MNISTData.load(idxFolder: args.string("data"))
    let epochs = args.int("epochs", default: 3), batchSize = args.int("bs", default: 64)
    let lr = args.float("lr", default: 0.05)
    let trainX = data.trainImages.reshape([-1, 1, 28, 28]), testX = data.testImages.reshape([-1, 1, 28, 28])
    let model = resnet18(inChannels: 1, classes: 10)
    let opt = SGD(model.parameters, lr: lr, momentum: 0.9, weightDecay: 5e-4)
    print("ResNet-18 (\(model.parameterCount) parameters) on \(data.description): \(epochs) epochs, batch \(batchSize), SGD lr \(lr)")

    func evaluate() -> (loss: Float, accuracy: Float) {
        model.eval()
        defer { model.train() }
        return noGrad {
            var loss: Float = 0, correct: Float = 0
            for first in stride(from: 0, to: testX.shape[0], by: 500) {
                let xb = testX[first..<min(first + 500, testX.shape[0])], yb = data.testLabels[first..<min(first + 500, testX.shape[0])]
                let out = model(xb)
                loss += crossEntropySum(out, yb).item()
                correct += (out.argmax(dim: 1) .== yb).sum().item()
            }
            return (loss / Float(testX.shape[0]), correct / Float(testX.shape[0]))
        }
    }

    print("epoch  train_loss  valid_loss  accuracy  time")
    let train = try DataLoader(TensorDataset(trainX, data.trainLabels), batchSize: batchSize, shuffle: true, dropLast: true)
    for epoch in 0..<epochs {
        let start = Date()
        var total: Float = 0, batches = 0
        for (xb, yb) in train {
            let loss = crossEntropy(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zeroGrad()
            total += loss.item()
            batches += 1
        }
        let (validLoss, accuracy) = evaluate()
        print(String(format: "%5d  %10.4f  %10.4f  %7.2f%%  %.1fs", epoch, total / Float(batches), validLoss, accuracy * 100, seconds(since: start)))
    }
}
