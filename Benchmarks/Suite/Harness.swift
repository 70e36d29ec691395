import Foundation
import Tensors

/// Command-line options shared by every suite.
struct BenchmarkOptions {
    /// Thread counts to measure; by default each suite's own list (usually 1 and all cores).
    var threads: [Int]?
    /// One JSON object per line instead of a table.
    var json = false
    /// Minimum seconds of repeated runs per case.
    var minSeconds = 0.5
    /// `serve` only: load the server at this URL instead of starting ours.
    var url: String?

    static func parse(_ arguments: ArraySlice<String>) throws -> BenchmarkOptions {
        var options = BenchmarkOptions()
        var rest = arguments
        while let argument = rest.popFirst() {
            switch argument {
            case "--json": options.json = true
            case "--threads":
                guard let value = rest.popFirst(), let n = Int(value), n > 0 else {
                    throw BenchmarkError.usage("--threads needs a positive whole number")
                }
                options.threads = [n]
            case "--min-seconds":
                guard let value = rest.popFirst(), let s = Double(value), s > 0 else {
                    throw BenchmarkError.usage("--min-seconds needs a positive number")
                }
                options.minSeconds = s
            case "--url":
                guard let value = rest.popFirst() else { throw BenchmarkError.usage("--url needs http://HOST:PORT/PATH") }
                options.url = value
            default:
                throw BenchmarkError.usage("unknown option '\(argument)'")
            }
        }
        return options
    }
}

enum BenchmarkError: Error, CustomStringConvertible {
    case usage(String)
    var description: String {
        switch self {
        case .usage(let message): return message
        }
    }
}

/// One measured case. `fields` holds the suite-specific numbers (`gflops`, `images_per_s`, ...).
struct BenchmarkResult {
    var suite: String
    var name: String
    var threads: Int
    var seconds: Double
    var fields: [(String, Double)] = []
    var batch: Int?

    /// The JSON line outside checks read: suite, case, threads, batch, seconds, then the fields.
    var jsonLine: String {
        var parts = ["\"suite\": \"\(suite)\"", "\"case\": \"\(name)\"", "\"threads\": \(threads)"]
        if let batch { parts.append("\"batch\": \(batch)") }
        parts.append("\"seconds\": \(format(seconds, digits: 6))")
        for (key, value) in fields { parts.append("\"\(key)\": \(format(value, digits: 3))") }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    private func format(_ value: Double, digits: Int) -> String { String(format: "%.\(digits)f", value) }
}

/// Prints results as they come: a table for people, or JSON lines for tools.
struct Reporter {
    let json: Bool
    let columns: [String]
    private var headerPrinted = false

    init(json: Bool, columns: [String]) {
        self.json = json
        self.columns = columns
    }

    mutating func report(_ result: BenchmarkResult) {
        if json {
            print(result.jsonLine)
        } else {
            if !headerPrinted {
                print(
                    pad("suite", 8) + pad("case", 24) + pad("threads", 8) + pad("batch", 6) + pad("seconds", 12)
                        + columns.map { pad($0, 14) }.joined())
                headerPrinted = true
            }
            let values = columns.map { key in result.fields.first { $0.0 == key }.map { String(format: "%.2f", $0.1) } ?? "" }
            print(
                pad(result.suite, 8) + pad(result.name, 24) + pad("\(result.threads)", 8) + pad(result.batch.map(String.init) ?? "", 6)
                    + pad(String(format: "%.6f", result.seconds), 12) + values.map { pad($0, 14) }.joined())
        }
        fflush(nil)  // every stream: results show up at once when piped
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

/// Runs `body` once to warm up, then repeatedly for at least `minSeconds` (and at least 3
/// times); returns the fastest run's seconds, the least disturbed by a noisy machine.
func measure(minSeconds: Double, _ body: () -> Void) -> Double {
    body()
    var best = Double.infinity
    var total = 0.0
    var runs = 0
    while runs < 3 || total < minSeconds {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        best = min(best, seconds)
        total += seconds
        runs += 1
    }
    return best
}

/// Runs `body` with `Threads.count` set to `threads`, restoring it afterwards.
func withThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
    let saved = Threads.count
    Threads.count = threads
    defer { Threads.count = saved }
    return try body()
}

/// The default thread counts: one, and every core (if more than one).
var defaultThreadCounts: [Int] {
    let all = ProcessInfo.processInfo.activeProcessorCount
    return all > 1 ? [1, all] : [1]
}
