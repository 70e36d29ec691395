import Foundation

// Printing that looks like PyTorch's: `tensor([[ 0.7893, -1.0000], ...])`, with its choice of
// integer ("1."), fixed ("0.7893") or scientific ("1.0000e-05") notation, right-aligned columns,
// and summarisation with `...` past 1,000 elements (3 items kept at each edge).

/// How tensors print; the defaults are PyTorch's.
public struct PrintOptions: Sendable {
    /// Digits after the decimal point.
    public var precision = 4
    /// Element count above which a tensor prints summarised.
    public var threshold = 1000
    /// Items kept at each end of a summarised axis.
    public var edgeItems = 3
    /// Characters per line before a vector wraps.
    public var lineWidth = 80

    /// The options in use (`PrintOptions.current.precision = 2`).
    public static var current: PrintOptions {
        get { storage.value }
        set { storage.value = newValue }
    }
    private static let storage = LockedValue(PrintOptions())
}

extension Tensor: CustomStringConvertible {
    /// The tensor as PyTorch prints it: `tensor([[1., 2.], [3., 4.]])`.
    public var description: String {
        var suffix = ")"
        if let record, record.requiresGrad {
            suffix = record.node.map { ", grad_fn=<\($0.operation.name)>)" } ?? ", requires_grad=True)"
        }
        return formatted(prefix: "tensor(", suffix: suffix)
    }

    /// The tensor's values with a chosen prefix and suffix (later layers add `requires_grad=True`).
    public func formatted(prefix: String, suffix: String, options: PrintOptions = .current) -> String {
        if count == 0 {
            return prefix + "[]" + (rank > 1 ? ", size=\(shape)" : "") + suffix
        }
        let summarize = count > options.threshold
        let formatter = ElementFormatter(values: summarize ? summarizedValues(options) : scalars, options: options)
        let body = format(indent: prefix.count, summarize: summarize, formatter: formatter, options: options)
        return prefix + body + suffix
    }

    /// The values PyTorch looks at when choosing a format for a summarised tensor: those that print.
    private func summarizedValues(_ options: PrintOptions) -> [Float] {
        if rank == 0 { return scalars }
        let e = options.edgeItems
        let n = shape[0]
        let rows = n > 2 * e ? Array(0..<e) + Array((n - e)..<n) : Array(0..<n)
        if rank == 1 { return rows.map { pointer[$0] } }
        return rows.flatMap { self[$0].summarizedValues(options) }
    }

    private func format(indent: Int, summarize: Bool, formatter: ElementFormatter, options: PrintOptions) -> String {
        if rank == 0 { return formatter.format(pointer[0]) }
        let n = shape[0]
        let e = options.edgeItems
        let elided = summarize && n > 2 * e
        if rank == 1 {
            let width = formatter.width + 2
            let perLine = Swift.max(1, (options.lineWidth - indent) / width)
            var items: [String]
            if elided {
                items = (0..<e).map { formatter.format(pointer[$0]) } + [" ..."] + ((n - e)..<n).map { formatter.format(pointer[$0]) }
            } else {
                items = (0..<n).map { formatter.format(pointer[$0]) }
            }
            var lines: [String] = []
            var i = 0
            while i < items.count {
                lines.append(items[i..<Swift.min(items.count, i + perLine)].joined(separator: ", "))
                i += perLine
            }
            return "[" + lines.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
        }
        let rows = elided ? Array(0..<e) + [-1] + Array((n - e)..<n) : Array(0..<n)
        let parts = rows.map { $0 < 0 ? "..." : self[$0].format(indent: indent + 1, summarize: summarize, formatter: formatter, options: options) }
        let separator = "," + String(repeating: "\n", count: rank - 1) + String(repeating: " ", count: indent + 1)
        return "[" + parts.joined(separator: separator) + "]"
    }
}

/// Chooses one notation and width for all the values of a tensor, as PyTorch's `_Formatter`.
struct ElementFormatter {
    private(set) var width = 1
    private var integerMode = true
    private var scientific = false
    private let precision: Int

    init(values: [Float], options: PrintOptions) {
        precision = options.precision
        let finite = values.filter { $0.isFinite && $0 != 0 }
        if finite.isEmpty {
            // Only zeros and non-finite values: integer notation ("0.", "inf", "nan").
            for v in values { width = Swift.max(width, format(v, pad: false).count) }
            return
        }
        let magnitudes = finite.map { Double(Swift.abs($0)) }
        let largest = magnitudes.max()!, smallest = magnitudes.min()!
        integerMode = finite.allSatisfy { $0 == $0.rounded(.up) }
        if integerMode {
            scientific = largest / smallest > 1000 || largest > 1e8
        } else {
            scientific = largest / smallest > 1000 || largest > 1e8 || smallest < 1e-4
        }
        for v in finite { width = Swift.max(width, format(v, pad: false).count) }
        for v in values where !v.isFinite { width = Swift.max(width, format(v, pad: false).count) }
    }

    /// One value, right-aligned to the common width.
    func format(_ value: Float) -> String { format(value, pad: true) }

    private func format(_ value: Float, pad: Bool) -> String {
        var text: String
        if value.isNaN {
            text = "nan"
        } else if value.isInfinite {
            text = value < 0 ? "-inf" : "inf"
        } else if scientific {
            text = String(format: "%.\(precision)e", Double(value))
        } else if integerMode {
            text = String(format: "%.0f", Double(value)) + "."
        } else {
            text = String(format: "%.\(precision)f", Double(value))
        }
        if pad && text.count < width { text = String(repeating: " ", count: width - text.count) + text }
        return text
    }
}
