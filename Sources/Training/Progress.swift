import Foundation
import Tensors

/// fastai's progress output: a table with one row per epoch
/// (`epoch  train_loss  valid_loss  accuracy  time`), and on a terminal a live bar for the
/// batches. When output is not a terminal (CI logs) only the table is printed.
public final class ProgressCallback: Callback {
    public override var order: Int { 60 }
    /// It records (or reports) training and validation, not `getPreds`.
    public override var runPredict: Bool { false }
    /// Set to false to print nothing.
    public var show = true
    /// The lines printed so far (the table), for tests and logs.
    public private(set) var lines: [String] = []
    private var epochStart = Date()
    private let isTerminal = isatty(STDOUT_FILENO) != 0
    private var widths: [Int] = []

    public override func beforeFit(_ learn: Learner) throws {
        lines = []
        let names = ["epoch", "train_loss", "valid_loss"] + learn.metrics.map(\.name) + ["time"]
        widths = names.map { max($0.count, 8) + 2 }
        emit(zip(names, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined())
    }

    public override func beforeEpoch(_ learn: Learner) throws { epochStart = Date() }

    public override func afterBatch(_ learn: Learner) throws {
        guard show, isTerminal, learn.training else { return }
        let total = max(learn.iterationsPerEpoch, 1), done = learn.iteration % total + 1
        let filled = done * 30 / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 30 - filled)
        FileHandle.standardOutput.write(Data("\r\(bar) \(done)/\(total) loss \(String(format: "%.4f", learn.loss.item()))".utf8))
    }

    public override func afterEpoch(_ learn: Learner) throws {
        if show && isTerminal { FileHandle.standardOutput.write(Data("\r\(String(repeating: " ", count: 60))\r".utf8)) }
        let seconds = Int(Date().timeIntervalSince(epochStart).rounded())
        let values = learn.recorder.values.last ?? []
        let cells = ["\(learn.epoch)"] + values.map { String(format: "%.6f", $0) } + [String(format: "%02d:%02d", seconds / 60, seconds % 60)]
        emit(zip(cells, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined())
    }

    private func emit(_ line: String) {
        lines.append(line)
        if show { print(line) }
    }
}
