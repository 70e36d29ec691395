// mnist: fastai's three-line MNIST example, all ten digits, on the bundled sample (or on the
// full set with --data, a folder in fastai's mnist_png layout such as untarData(.mnist) gives).
// One epoch on the full 60,000 digits (the default with --data); three on the 3,000-digit
// sample, where one epoch is only 46 batches.
//
//     swift run -c release mnist
//     swift run -c release mnist --data ~/.fastswift/data/mnist_png --epochs 1 --lr 0.1 --bs 64
//
// A long run can keep a checkpoint after every epoch and, killed, continue from the last one to
// the weights it would have reached (same seed and threads):
//
//     swift run -c release mnist --epochs 3 --checkpoint run      # writes models/run_<epoch>.safetensors here
//     swift run -c release mnist --epochs 3 --resume models/run_1.safetensors
//
// Data-parallel over MPI processes (Open MPI or MPICH, loaded at run time), here 2 ranks of one
// thread each on a 2-core machine; one table, printed by rank 0:
//
//     swift build -c release && mpirun -np 2 .build/release/mnist --distributed --threads 1
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(
    valued: ["data", "epochs", "lr", "bs", "seed", "export", "checkpoint", "resume", "threads"], flags: ["distributed"],
    usage: """
        usage: mnist [--data DIR] [--epochs N] [--lr X] [--bs N] [--seed N] [--export FILE] [--checkpoint NAME] [--resume FILE]
                     [--threads N] [--distributed]
          --data DIR         a folder with training/<digit>/*.png and testing/<digit>/*.png; default: the bundled sample
          --export FILE      save the trained model (safetensors) for loadLearner, or for PyTorch
          --checkpoint NAME  save models/NAME_<epoch>.safetensors (in the current folder) after every epoch
          --resume FILE      continue the same run from one of those checkpoints
          --threads N        threads for the kernels (default: every core)
          --distributed      train data-parallel over the processes of an MPI job (mpirun -np N ...); each takes --bs / N of a batch
        """)

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    if let threads = args.string("threads") { Threads.count = args.int("threads", default: Int(threads) ?? 1) }
    let path = args.string("data").map { URL(fileURLWithPath: $0) } ?? BundledData.mnist
    let start = Date()

    // The three lines.
    // Distributed, each of the N processes takes a 1/N share of every batch: the same steps as one process.
    let processes = args.flag("distributed") ? try MPI.shared().size : 1
    let dls = try ImageDataLoaders.fromFolder(path, train: "training", valid: "testing", batchSize: max(1, args.int("bs", default: 64) / processes))
    let learn = visionLearner(dls, arch: .resnet18, loss: crossEntropy, metrics: [accuracy])
    if args.flag("distributed") { try learn.distributed() }
    let checkpoints = args.string("checkpoint").map { [SaveModel(fileName: $0, everyEpoch: true)] } ?? []
    try learn.fitOneCycle(
        epochs: args.int("epochs", default: args.string("data") == nil ? 3 : 1), lrMax: args.float("lr", default: 0.1),
        cbs: checkpoints, resume: args.string("resume").map { URL(fileURLWithPath: $0) })

    if let file = args.string("export") {
        try learn.export(URL(fileURLWithPath: file))
        // A fixed probe, so that the exported weights can be checked from PyTorch
        // (Tests/Fixtures/check_safetensors.py prints the same numbers).
        let probe = learn.predict(Tensor.full([1, 28, 28], 0.5)).probabilities
        print("exported to \(file); probe probabilities for a uniform 0.5 image: \(probe)")
    }

    guard learn.processRank == 0 else { return }
    let final = learn.recorder.values.last ?? []
    print(
        String(
            format: "final accuracy: %.2f%% (%d training and %d validation images, %.1fs in all)",
            (final.last ?? 0) * 100, dls.train.itemCount, dls.valid.itemCount, seconds(since: start)))
}
