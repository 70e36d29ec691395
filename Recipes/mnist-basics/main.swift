// mnist-basics: fastai's chapter 4 on real digits, 3s against 7s, from the bundled sample.
//   1. the pixel-similarity baseline: distance to the mean 3 and the mean 7 (L1 and L2);
//   2. a linear model from scratch: initParams, linear1, mnistLoss (sigmoid + where),
//      batchAccuracy, and the update written out by hand;
//   3. the same with the chapter's BasicOptim;
//   4. a small neural net, Sequential(Linear(784, 30), ReLU(), Linear(30, 1));
//   5. the same net trained by a Learner, the chapter's last form.
//
//     swift run -c release mnist-basics
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(valued: ["seed"], usage: "usage: mnist-basics [--seed N]")

/// The chapter's optimizer: FastSwift's `Optimizer` holds the parameters and the learning rate
/// (and `zeroGrad`); the step is the chapter's `p.data -= p.grad.data * self.lr`.
final class BasicOptim: Optimizer {
    override func step() { noGrad { for var p in parameters { p -= p.grad! * lr } } }
}

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let train = try ImageFolder.load(BundledData.mnist, split: "training")
    let valid = try ImageFolder.load(BundledData.mnist, split: "testing", classes: train.classes)
    func digits(_ split: ImageFolder.Split, _ d: Float) -> Tensor { split.images[mask: split.labels .== d].squeeze(1) }
    let threes = digits(train, 3), sevens = digits(train, 7)
    let valid3 = digits(valid, 3), valid7 = digits(valid, 7)
    print("threes \(threes.shape), sevens \(sevens.shape); validation 3s \(valid3.shape), 7s \(valid7.shape)")

    // 1. Pixel similarity.
    let mean3 = threes.mean(dim: 0), mean7 = sevens.mean(dim: 0)
    func mnistDistance(_ a: Tensor, _ b: Tensor, l2: Bool) -> Tensor {
        l2 ? (a - b).square().mean(dim: -1).mean(dim: -1).sqrt() : (a - b).abs().mean(dim: -1).mean(dim: -1)
    }
    for l2 in [false, true] {
        func isThree(_ x: Tensor) -> Tensor { mnistDistance(x, mean3, l2: l2) .< mnistDistance(x, mean7, l2: l2) }
        let accuracy = (isThree(valid3).mean().item() + (1 - isThree(valid7)).mean().item()) / 2
        print(String(format: "pixel similarity (%@ distance): %.2f%%", l2 ? "L2" : "L1", accuracy * 100))
    }

    // 2. A linear model from scratch.
    let trainX = Tensor.cat([threes, sevens]).reshape([-1, 28 * 28])
    let trainY = Tensor.cat([Tensor.ones([threes.shape[0]]), Tensor.zeros([sevens.shape[0]])]).unsqueeze(1)
    let validX = Tensor.cat([valid3, valid7]).reshape([-1, 28 * 28])
    let validY = Tensor.cat([Tensor.ones([valid3.shape[0]]), Tensor.zeros([valid7.shape[0]])]).unsqueeze(1)

    func mnistLoss(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
        let p = predictions.sigmoid()
        return Tensor.where(targets .== 1, 1 - p, p).mean()
    }
    func batchAccuracy(_ predictions: Tensor, _ targets: Tensor) -> Float {
        ((predictions.sigmoid() .> 0.5) .== targets).mean().item()
    }
    // The chapter's `dl = DataLoader(dset, batch_size=256, shuffle=True)`.
    let dl = try DataLoader(TensorDataset(trainX, trainY), batchSize: 256, shuffle: true)
    func validate(_ model: (Tensor) -> Tensor) -> Float { noGrad { batchAccuracy(model(validX), validY) } }

    var weights = initParams([28 * 28, 1]), bias = initParams([1])
    func linear1(_ x: Tensor) -> Tensor { x • weights + bias }
    for _ in 0..<20 {
        for (xb, yb) in dl {
            mnistLoss(linear1(xb), yb).backward()
            noGrad {
                weights -= weights.grad! * 1.0
                bias -= bias.grad! * 1.0
            }
            weights.zeroGrad(); bias.zeroGrad()
        }
    }
    print(String(format: "linear1 from scratch, 20 epochs, lr 1: %.2f%%", validate(linear1) * 100))

    // The chapter's train_epoch, with an optimizer doing the update.
    func trainEpochs(_ model: Module, _ opt: Optimizer, _ epochs: Int) {
        for _ in 0..<epochs {
            for (xb, yb) in dl {
                mnistLoss(model(xb), yb).backward()
                opt.step()
                opt.zeroGrad()
            }
        }
    }

    // 3. The same model with BasicOptim, now as a Linear layer.
    let linearModel = Linear(28 * 28, 1)
    trainEpochs(linearModel, BasicOptim(linearModel.parameters, lr: 1.0), 20)
    print(String(format: "Linear(784, 1) with BasicOptim, 20 epochs: %.2f%%", validate { linearModel($0) } * 100))

    // 4. A small neural net.
    let simpleNet = Sequential(Linear(28 * 28, 30), ReLU(), Linear(30, 1))
    trainEpochs(simpleNet, BasicOptim(simpleNet.parameters, lr: 0.1), 40)
    print(String(format: "Sequential(Linear(784, 30), ReLU(), Linear(30, 1)), 40 epochs: %.2f%%", validate { simpleNet($0) } * 100))

    // 5. The chapter's Learner form:
    //    Learner(dls, simple_net, opt_func=SGD, loss_func=mnist_loss, metrics=batch_accuracy).fit(20, lr=...)
    let validDL = try DataLoader(TensorDataset(validX, validY), batchSize: 256)
    let dls = DataLoaders(dl, validDL)
    let batchAccuracyMetric = Metric("batch_accuracy", batchAccuracy)
    let learn = Learner(
        dls: dls, model: Sequential(Linear(28 * 28, 30), ReLU(), Linear(30, 1)), loss: mnistLoss,
        opt: .sgd, metrics: [batchAccuracyMetric])
    // The chapter uses lr 0.01 on its 12,000 images; the bundled 600 take fewer steps per epoch.
    try learn.fit(epochs: 20, lr: 0.1)
}
