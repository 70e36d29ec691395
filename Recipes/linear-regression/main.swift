// linear-regression: fastai's "SGD from scratch" (lesson 2). Fit y = x•a + noise, with
// a = (3, 10), n = 100 and noise σ = 0.6, first by full-batch gradient descent, then by
// mini-batch SGD, then over a sweep of learning rates and batch sizes; and draw the line
// fitting the points as training goes (an animated SVG).
//
//     swift run -c release linear-regression [--out linear-regression.svg] [--seed 42]
import FastSwift
import Foundation
import RecipeKit
import Training

let args = Arguments(valued: ["out", "seed"], usage: "usage: linear-regression [--out FILE.svg] [--seed N]")

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let n = 100
    var x = Tensor.ones([n, 2])
    x[..., 0].uniformInPlace(-1, 1)  // PyTorch: x[:,0].uniform_(-1.,1)
    print("x[0..<5] =", x[0..<5])
    let trueA = Tensor([3, 10])
    let y = x • trueA + Tensor.randn([n]) * 0.6

    func mse(_ yHat: Tensor, _ y: Tensor) -> Tensor { (yHat - y).pow(2).mean() }

    /// Trains from a = (-1, 1); `batchSize: nil` is full-batch gradient descent. Returns the
    /// final a and loss, and the line after every step (for the animation).
    func fit(lr: Float, steps: Int, batchSize: Int?) -> (a: Tensor, loss: Float, history: [Tensor]) {
        var a = Tensor([-1, 1])
        a.requiresGrad = true
        var history: [Tensor] = []
        for _ in 0..<steps {
            let index = batchSize.map { Array(Tensor.randperm(n)[0..<$0]) }
            let (xb, yb) = index.map { (x[$0], y[$0]) } ?? (x, y)
            let loss = mse(xb • a, yb)
            loss.backward()
            noGrad { a -= a.grad! * lr }  // PyTorch: a.sub_(lr * a.grad)
            a.zeroGrad()
            history.append(a.detach())
        }
        return (a.detach(), mse(x • a, y).item(), history)
    }

    print("\nGradient descent, lr 0.1, 100 steps:")
    let gd = fit(lr: 0.1, steps: 100, batchSize: nil)
    let error = (gd.a - trueA).abs().max().item()
    print("a = \(gd.a), loss \(gd.loss): within \(String(format: "%.3f", error)) of (3, 10)")

    print("\nMini-batch SGD, lr 0.1, batch 16, 100 steps:")
    let sgd = fit(lr: 0.1, steps: 100, batchSize: 16)
    print("a = \(sgd.a), loss \(sgd.loss)")

    print("\nSweep: final a and loss after 100 steps")
    print("    lr    bs           a[0]          a[1]           loss")
    for lr: Float in [0.01, 0.1, 1.0] {
        for bs in [1, 2, 4, 8, 16, 32, 64] {
            let run = fit(lr: lr, steps: 100, batchSize: bs)
            print(String(format: "%6.2f  %4d  %13.4g %13.4g  %13.4g", lr, bs, run.a[0].item(), run.a[1].item(), run.loss))
        }
    }

    // The picture: the points, and the line after each step of both runs.
    var chart = SVGChart(title: "y = x•a + noise: gradient descent (blue) and SGD, batch 16 (orange)", xLabel: "x", yLabel: "y")
    let xs = x[..., 0].scalars
    chart.scatter(xs, y.scalars, label: "data", colour: "#555")
    for (run, label) in [(gd, "gradient descent"), (sgd, "SGD, batch 16")] {
        let frames = run.history.map { a -> [(Double, Double)] in
            [-1.0, 1.0].map { ($0, Double(a[0].item()) * $0 + Double(a[1].item())) }
        }
        chart.animatedLine(frames: frames, seconds: 5, label: label)
    }
    let out = URL(fileURLWithPath: args.string("out") ?? "linear-regression.svg")
    try chart.write(to: out)
    print("\nwrote \(out.path): open it in a browser to watch the line fit the points")
}
