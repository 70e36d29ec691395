import Foundation
import Tensors

/// Images stored as CSV rows of pixel values 0–255 followed by a label (as `mnist_5k.csv.gz`),
/// gzip-compressed or not.
public enum PixelCSV {
    /// `[n, 1, side, side]` images in 0...1 and `[n]` labels, from rows of `side²` pixels and a
    /// label (or a label first, with `labelFirst`). Throws naming the line of a malformed row.
    public static func read(_ bytes: [UInt8], source: String, side: Int = 28, labelFirst: Bool = false) throws -> (images: Tensor, labels: Tensor) {
        let raw = bytes.starts(with: [0x1F, 0x8B]) ? try GZip.decompress(bytes, source: source) : bytes
        var pixels: [UInt8] = [], labels: [Float] = []
        var lineNumber = 0
        for line in raw.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            lineNumber += 1
            let fields = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            guard fields.count == side * side + 1 else {
                throw DataError(source, "line \(lineNumber) has \(fields.count) fields, expected \(side * side) pixels and a label")
            }
            var values: [Int] = []
            values.reserveCapacity(fields.count)
            for field in fields {
                var v = 0
                let digits = field.filter { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: " ") }
                guard !digits.isEmpty, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }), digits.count <= 6 else {
                    throw DataError(source, "line \(lineNumber): '\(String(decoding: field, as: UTF8.self))' is not a whole number")
                }
                for d in digits { v = v * 10 + Int(d - 48) }
                values.append(v)
            }
            let label = labelFirst ? values[0] : values[values.count - 1]
            let image = labelFirst ? values.dropFirst() : values.dropLast()
            guard image.allSatisfy({ $0 <= 255 }) else { throw DataError(source, "line \(lineNumber): a pixel value is above 255") }
            pixels += image.map { UInt8($0) }
            labels.append(Float(label))
        }
        return (Tensor(pixels: pixels, shape: [labels.count, 1, side, side]), Tensor(labels))
    }
}

/// Comma-separated values as text: rows of fields, with quoted fields (`"a, b"`, `""` for a
/// quote) and `\n` or `\r\n` line ends (RFC 4180).
public enum CSVTable {
    /// The rows of a CSV file; throws naming the file when it cannot be read or is not UTF-8.
    public static func read(_ file: URL) throws -> [[String]] {
        let bytes = try readFileBytes(file)
        guard let text = String(bytes: bytes, encoding: .utf8) else { throw DataError(file.path, "the CSV file is not UTF-8 text") }
        return try parse(text, source: file.path)
    }

    /// The rows of CSV `text`; empty lines are skipped. Throws on an unterminated quote.
    public static func parse(_ text: String, source: String) throws -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false, fieldStarted = false
        var characters = text.unicodeScalars.makeIterator()
        var pending = characters.next()
        func endRow() {
            if fieldStarted || !row.isEmpty || !field.isEmpty { row.append(field); rows.append(row) }
            row = []; field = ""; fieldStarted = false
        }
        while let c = pending {
            pending = characters.next()
            if quoted {
                if c == "\"" {
                    if pending == "\"" { field.unicodeScalars.append("\""); pending = characters.next() } else { quoted = false }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"": quoted = true; fieldStarted = true
            case ",": row.append(field); field = ""; fieldStarted = true
            case "\r": break
            case "\n": endRow()
            default: field.unicodeScalars.append(c); fieldStarted = true
            }
        }
        guard !quoted else { throw DataError(source, "a quoted field is not closed before the end of the file") }
        endRow()
        return rows
    }
}
