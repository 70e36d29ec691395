import Foundation
import Tensors

/// A 3×5 pixel font for labels drawn into pictures (digits, letters, a little punctuation);
/// lowercase prints as uppercase and anything else as a blank.
enum PixelFont {
    private static let glyphs: [Character: [String]] = [
        "0": ["###", "#.#", "#.#", "#.#", "###"], "1": [".#.", "##.", ".#.", ".#.", "###"],
        "2": ["###", "..#", "###", "#..", "###"], "3": ["###", "..#", "###", "..#", "###"],
        "4": ["#.#", "#.#", "###", "..#", "..#"], "5": ["###", "#..", "###", "..#", "###"],
        "6": ["###", "#..", "###", "#.#", "###"], "7": ["###", "..#", "..#", "..#", "..#"],
        "8": ["###", "#.#", "###", "#.#", "###"], "9": ["###", "#.#", "###", "..#", "###"],
        "A": [".#.", "#.#", "###", "#.#", "#.#"], "B": ["##.", "#.#", "##.", "#.#", "##."],
        "C": [".##", "#..", "#..", "#..", ".##"], "D": ["##.", "#.#", "#.#", "#.#", "##."],
        "E": ["###", "#..", "##.", "#..", "###"], "F": ["###", "#..", "##.", "#..", "#.."],
        "G": [".##", "#..", "#.#", "#.#", ".##"], "H": ["#.#", "#.#", "###", "#.#", "#.#"],
        "I": ["###", ".#.", ".#.", ".#.", "###"], "J": ["..#", "..#", "..#", "#.#", ".#."],
        "K": ["#.#", "#.#", "##.", "#.#", "#.#"], "L": ["#..", "#..", "#..", "#..", "###"],
        "M": ["#.#", "###", "###", "#.#", "#.#"], "N": ["##.", "#.#", "#.#", "#.#", "#.#"],
        "O": [".#.", "#.#", "#.#", "#.#", ".#."], "P": ["##.", "#.#", "##.", "#..", "#.."],
        "Q": [".#.", "#.#", "#.#", "##.", ".##"], "R": ["##.", "#.#", "##.", "#.#", "#.#"],
        "S": [".##", "#..", ".#.", "..#", "##."], "T": ["###", ".#.", ".#.", ".#.", ".#."],
        "U": ["#.#", "#.#", "#.#", "#.#", "###"], "V": ["#.#", "#.#", "#.#", "#.#", ".#."],
        "W": ["#.#", "#.#", "###", "###", "#.#"], "X": ["#.#", "#.#", ".#.", "#.#", "#.#"],
        "Y": ["#.#", "#.#", ".#.", ".#.", ".#."], "Z": ["###", "..#", ".#.", "#..", "###"],
        "-": ["...", "...", "###", "...", "..."], "_": ["...", "...", "...", "...", "###"],
        ".": ["...", "...", "...", "...", ".#."], "/": ["..#", "..#", ".#.", "#..", "#.."],
    ]

    /// Draws `text` into an RGB image at (x, y), each font pixel `scale` pixels wide.
    static func draw(_ text: String, into image: inout Image, x: Int, y: Int, scale: Int, colour: (UInt8, UInt8, UInt8)) {
        var cursor = x
        for character in text.uppercased() {
            if let rows = glyphs[character] {
                for (r, row) in rows.enumerated() {
                    for (c, bit) in row.enumerated() where bit == "#" {
                        for dy in 0..<scale { for dx in 0..<scale {
                            let px = cursor + c * scale + dx, py = y + r * scale + dy
                            guard px >= 0, px < image.width, py >= 0, py < image.height else { continue }
                            let o = (py * image.width + px) * 3
                            image.pixels[o] = colour.0; image.pixels[o + 1] = colour.1; image.pixels[o + 2] = colour.2
                        } }
                    }
                }
            }
            cursor += 4 * scale
        }
    }
}

extension DataLoaders where Batch == (Tensor, Tensor) {
    /// Writes a PNG grid of the first training batch's images (augmented, with normalisation
    /// undone) with their labels (fastai's `show_batch`), through a temporary file and a
    /// rename. Returns the grid.
    @discardableResult
    public func showBatch(to file: URL, count: Int = 16, columns: Int = 4, scale: Int = 2) throws -> Image {
        let (batch, y) = oneBatch()
        let x = decode(batch)
        guard x.rank == 4, x.shape[1] == 1 || x.shape[1] == 3 else {
            throw DataError(file.path, "showBatch needs image batches [N, 1 or 3, H, W], got \(x.shape)")
        }
        let n = Swift.min(count, x.shape[0]), rows = (n + columns - 1) / columns
        let (h, w) = (x.shape[2] * scale, x.shape[3] * scale)
        let labelHeight = 5 * scale + 4 * scale, pad = 2 * scale
        let cellW = w + pad, cellH = h + labelHeight
        var grid = Image(width: columns * cellW + pad, height: rows * cellH + pad, channels: 3,
                         pixels: [UInt8](repeating: 255, count: (columns * cellW + pad) * (rows * cellH + pad) * 3))
        let labels = y.indices()
        for k in 0..<n {
            let picture = Image(tensor: x[k].shape[0] == 1 ? Tensor.cat([x[k], x[k], x[k]]) : x[k])
            let left = pad + (k % columns) * cellW, top = pad + (k / columns) * cellH
            for py in 0..<h { for px in 0..<w {
                let src = ((py / scale) * picture.width + px / scale) * 3, dst = ((top + py) * grid.width + left + px) * 3
                for c in 0..<3 { grid.pixels[dst + c] = picture.pixels[src + c] }
            } }
            let label = vocab.map { labels[k] < $0.count ? $0[labels[k]] : "\(labels[k])" } ?? "\(labels[k])"
            PixelFont.draw(label, into: &grid, x: left, y: top + h + 2 * scale, scale: scale, colour: (0, 0, 0))
        }
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString).tmp")
        try Data(PNG.encode(grid)).write(to: temporary)
        if FileManager.default.fileExists(atPath: file.path) { try FileManager.default.removeItem(at: file) }
        try FileManager.default.moveItem(at: temporary, to: file)
        return grid
    }
}
