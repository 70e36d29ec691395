import Tensors
import Foundation

/// A small line and scatter chart written as SVG, for loss curves, schedules and the recipes'
/// pictures; no packages. Series may be animated: each frame replaces the points, and the
/// browser plays the frames in a loop (SVG's own `<animate>`).
///
///     var chart = SVGChart(title: "Loss", xLabel: "batch", yLabel: "loss")
///     chart.line(xs, losses, label: "train")
///     try chart.write(to: URL(fileURLWithPath: "loss.svg"))
public struct SVGChart {
    public var title: String, xLabel: String, yLabel: String
    public var width = 640.0, height = 420.0
    /// A logarithmic x axis (learning-rate plots).
    public var logX = false

    private enum Kind { case line, points }
    private struct Series { var kind: Kind; var frames: [[(Double, Double)]]; var label: String; var colour: String; var seconds: Double }
    private var series: [Series] = []
    private static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]

    public init(title: String, xLabel: String = "", yLabel: String = "") {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    private mutating func add(_ kind: Kind, _ frames: [[(Double, Double)]], _ label: String, _ colour: String?, _ seconds: Double) {
        series.append(
            Series(
                kind: kind, frames: frames, label: label,
                colour: colour ?? SVGChart.palette[series.count % SVGChart.palette.count], seconds: seconds))
    }

    /// A line through the points.
    public mutating func line<X: BinaryFloatingPoint, Y: BinaryFloatingPoint>(_ xs: [X], _ ys: [Y], label: String = "", colour: String? = nil) {
        add(.line, [zip(xs, ys).map { (Double($0), Double($1)) }], label, colour, 0)
    }

    /// Unconnected points.
    public mutating func scatter<X: BinaryFloatingPoint, Y: BinaryFloatingPoint>(_ xs: [X], _ ys: [Y], label: String = "", colour: String? = nil) {
        add(.points, [zip(xs, ys).map { (Double($0), Double($1)) }], label, colour, 0)
    }

    /// A line that moves through `frames` (each a list of points) over `seconds`, then repeats.
    public mutating func animatedLine(frames: [[(Double, Double)]], seconds: Double, label: String = "", colour: String? = nil) {
        add(.line, frames, label, colour, seconds)
    }

    /// The chart as an SVG document.
    public func render() -> String {
        let margin = (left: 70.0, right: 20.0, top: 40.0, bottom: 50.0)
        let plotW = width - margin.left - margin.right, plotH = height - margin.top - margin.bottom
        let all = series.flatMap { $0.frames.flatMap { $0 } }.filter { $0.0.isFinite && $0.1.isFinite && (!logX || $0.0 > 0) }
        func tx(_ x: Double) -> Double { logX ? Foundation.log10(x) : x }
        var (x0, x1) = (all.map { tx($0.0) }.min() ?? 0, all.map { tx($0.0) }.max() ?? 1)
        var (y0, y1) = (all.map(\.1).min() ?? 0, all.map(\.1).max() ?? 1)
        if x0 == x1 { x0 -= 1; x1 += 1 }
        if y0 == y1 { y0 -= 1; y1 += 1 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad; y1 += pad
        func px(_ x: Double) -> Double { margin.left + (tx(x) - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { margin.top + (1 - (y - y0) / (y1 - y0)) * plotH }
        func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
        func label(_ v: Double) -> String {
            if v == 0 { return "0" }
            return abs(v) >= 1e4 || abs(v) < 1e-3 ? String(format: "%.0e", v) : String(format: "%g", (v * 1000).rounded() / 1000)
        }

        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(fmt(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>",
        ]
        // Axes with five ticks each.
        svg.append("<rect x=\"\(fmt(margin.left))\" y=\"\(fmt(margin.top))\" width=\"\(fmt(plotW))\" height=\"\(fmt(plotH))\" fill=\"none\" stroke=\"#888\"/>")
        for i in 0...4 {
            let fx = x0 + (x1 - x0) * Double(i) / 4, fy = y0 + (y1 - y0) * Double(i) / 4
            let xv = logX ? Foundation.pow(10, fx) : fx
            let sx = margin.left + plotW * Double(i) / 4, sy = py(fy)
            svg.append("<line x1=\"\(fmt(sx))\" y1=\"\(fmt(margin.top + plotH))\" x2=\"\(fmt(sx))\" y2=\"\(fmt(margin.top + plotH + 5))\" stroke=\"#888\"/>")
            svg.append("<text x=\"\(fmt(sx))\" y=\"\(fmt(margin.top + plotH + 18))\" text-anchor=\"middle\">\(label(xv))</text>")
            svg.append("<line x1=\"\(fmt(margin.left - 5))\" y1=\"\(fmt(sy))\" x2=\"\(fmt(margin.left))\" y2=\"\(fmt(sy))\" stroke=\"#888\"/>")
            svg.append("<text x=\"\(fmt(margin.left - 8))\" y=\"\(fmt(sy + 4))\" text-anchor=\"end\">\(label(fy))</text>")
        }
        svg.append("<text x=\"\(fmt(margin.left + plotW / 2))\" y=\"\(fmt(height - 10))\" text-anchor=\"middle\">\(escape(xLabel))</text>")
        svg.append(
            "<text x=\"16\" y=\"\(fmt(margin.top + plotH / 2))\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 16 \(fmt(margin.top + plotH / 2)))\">\(escape(yLabel))</text>"
        )

        for s in series {
            let framePoints = s.frames.map { frame in
                frame.filter { $0.0.isFinite && $0.1.isFinite && (!logX || $0.0 > 0) }.map { "\(fmt(px($0.0))),\(fmt(py($0.1)))" }
            }
            switch s.kind {
            case .points:
                for p in framePoints.first ?? [] {
                    let xy = p.split(separator: ",")
                    svg.append("<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(s.colour)\" fill-opacity=\"0.7\"/>")
                }
            case .line:
                let first = (framePoints.first ?? []).joined(separator: " ")
                if framePoints.count > 1 {
                    let values = framePoints.map { $0.joined(separator: " ") }.joined(separator: ";")
                    svg.append(
                        "<polyline points=\"\(first)\" fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"2\">"
                            + "<animate attributeName=\"points\" values=\"\(values)\" dur=\"\(s.seconds)s\" "
                            + "repeatCount=\"indefinite\" calcMode=\"discrete\"/></polyline>"
                    )
                } else {
                    svg.append("<polyline points=\"\(first)\" fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"1.5\"/>")
                }
            }
        }
        // Legend.
        for (i, s) in series.enumerated() where !s.label.isEmpty {
            let y = margin.top + 14 + Double(i) * 16
            svg.append("<rect x=\"\(fmt(margin.left + plotW - 130))\" y=\"\(fmt(y - 9))\" width=\"10\" height=\"10\" fill=\"\(s.colour)\"/>")
            svg.append("<text x=\"\(fmt(margin.left + plotW - 115))\" y=\"\(fmt(y))\">\(escape(s.label))</text>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// Writes the SVG to `url` through a temporary file and a rename, so that a reader never
    /// sees half a file.
    public func write(to url: URL) throws {
        try writeFileReplacing(url, with: Data(render().utf8))
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
