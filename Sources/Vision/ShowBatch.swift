import DataBlocks
import Codecs
import Foundation
import Tensors

/// A 3×5 pixel font for labels drawn into pictures (digits, letters, a little punctuation);
/// lowercase prints as uppercase and anything else as a blank.
public enum PixelFont {
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

    /// Draws `text` into an RGB image at (x, y) (its top-left corner), each font pixel `scale`
    /// pixels wide, each character 4·`scale` wide and 5·`scale` high.
    public static func drawText(_ text: String, into image: inout Image, x: Int, y: Int, scale: Int, colour: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        draw(text, into: &image, x: x, y: y, scale: scale, colour: colour)
    }

    static func draw(_ text: String, into image: inout Image, x: Int, y: Int, scale: Int, colour: (UInt8, UInt8, UInt8)) {
        var cursor = x
        for character in text.uppercased() {
            if let rows = glyphs[character] {
                for (r, row) in rows.enumerated() {
                    for (c, bit) in row.enumerated() where bit == "#" {
                        for dy in 0..<scale {
                            for dx in 0..<scale {
                                let px = cursor + c * scale + dx, py = y + r * scale + dy
                                guard px >= 0, px < image.width, py >= 0, py < image.height else { continue }
                                let o = (py * image.width + px) * 3
                                image.pixels[o] = colour.0; image.pixels[o + 1] = colour.1; image.pixels[o + 2] = colour.2
                            }
                        }
                    }
                }
            }
            cursor += 4 * scale
        }
    }
}

extension Image {
    /// A white RGB picture of images `[N, 1 or 3, H, W]` (0...1) in a grid, each with lines of
    /// caption under it in the pixel font, each line in its colour (fastai's `show_batch`
    /// layout). `scale` enlarges every pixel.
    public static func grid(_ images: Tensor, captions: [[(text: String, colour: (UInt8, UInt8, UInt8))]], columns: Int = 4, scale: Int = 2) -> Image {
        let n = images.rank == 4 ? images.shape[0] : 0
        let cols = max(1, min(columns, max(n, 1))), rows = max(1, (n + cols - 1) / cols)
        let (h, w) = n > 0 ? (images.shape[2] * scale, images.shape[3] * scale) : (0, 0)
        let lines = max(1, captions.map(\.count).max() ?? 1)
        let textWidth = (captions.flatMap { $0.map { $0.text.count } }.max() ?? 0) * 4 * scale
        let pad = 2 * scale, lineHeight = 7 * scale
        let cellW = max(w, textWidth) + pad, cellH = h + lines * lineHeight + 2 * scale
        let (width, height) = (cols * cellW + pad, rows * cellH + pad)
        var grid = Image(width: width, height: height, channels: 3, pixels: [UInt8](repeating: 255, count: width * height * 3))
        for k in 0..<n {
            let x = images[k]
            let picture = Image(tensor: x.shape[0] == 1 ? Tensor.cat([x, x, x]) : x)
            let left = pad + (k % cols) * cellW, top = pad + (k / cols) * cellH
            for py in 0..<h {
                for px in 0..<w {
                    let src = ((py / scale) * picture.width + px / scale) * 3, dst = ((top + py) * grid.width + left + px) * 3
                    for c in 0..<3 { grid.pixels[dst + c] = picture.pixels[src + c] }
                }
            }
            for (line, caption) in (k < captions.count ? captions[k] : []).enumerated() {
                PixelFont.draw(caption.text, into: &grid, x: left, y: top + h + 2 * scale + line * lineHeight, scale: scale, colour: caption.colour)
            }
        }
        return grid
    }

    /// Writes the image as a PNG through a temporary file and a rename.
    public func writePNG(to file: URL) throws {
        try writeFileReplacing(file, with: Data(PNG.encode(self)))
    }
}

extension DataLoaders where Batch == (Tensor, Tensor) {
    /// Writes a PNG grid of the first training batch's images (augmented, with normalisation
    /// undone) with their targets (the class, the labels joined by ";", the values; fastai's
    /// `show_batch`), through a temporary file and a
    /// rename. Returns the grid.
    @discardableResult
    public func showBatch(to file: URL, count: Int = 16, columns: Int = 4, scale: Int = 2) throws -> Image {
        let (batch, y) = oneBatch()
        let x = decode(batch)
        guard x.rank == 4, x.shape[1] == 1 || x.shape[1] == 3 else {
            throw DataError(file.path, "showBatch needs image batches [N, 1 or 3, H, W], got \(x.shape)")
        }
        let n = Swift.min(count, x.shape[0])
        let grid: Image
        if targetBlock is PointBlock || targetBlock is MaskBlock {
            // Points and masks are drawn on the pictures, as fastai shows them.
            let pictures = Tensor.stack((0..<n).map { annotated(x[$0], target: y[$0]) })
            grid = Image.grid(pictures, captions: [], columns: columns, scale: scale)
        } else {
            let captions = (0..<n).map { k in [(text: describeTarget(y[k]), colour: (UInt8(0), UInt8(0), UInt8(0)))] }
            grid = Image.grid(x[0..<n], captions: captions, columns: columns, scale: scale)
        }
        try grid.writePNG(to: file)
        return grid
    }

    /// One image `[C, H, W]` (0...1) as RGB `[3, H, W]` with its target drawn on: points
    /// (`[K, 2]`, scaled to -1...1) as red crosses, a mask (`[H, W]` codes) as a colour per code
    /// over the image (code 0, the background, left clear). Other targets leave it as it is.
    public func annotated(_ image: Tensor, target: Tensor) -> Tensor {
        let (h, w) = (image.shape[1], image.shape[2])
        var rgb = image.shape[0] == 3 ? image.scalars : Array(repeating: image.scalars, count: 3).flatMap { $0 }
        let plane = h * w
        if targetBlock is PointBlock {
            let v = target.scalars
            for j in stride(from: 0, to: v.count - 1, by: 2) {
                let px = Int(((v[j] + 1) / 2 * Float(w)).rounded(.down)), py = Int(((v[j + 1] + 1) / 2 * Float(h)).rounded(.down))
                for (dx, dy) in [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)] where (0..<w).contains(px + dx) && (0..<h).contains(py + dy) {
                    let i = (py + dy) * w + px + dx
                    (rgb[i], rgb[plane + i], rgb[2 * plane + i]) = (1, 0, 0)
                }
            }
        } else if targetBlock is MaskBlock, target.count == plane {
            let palette: [(Float, Float, Float)] = [(1, 0, 0), (0, 0.8, 0), (0, 0.4, 1), (1, 0.8, 0), (1, 0, 1), (0, 1, 1), (1, 0.5, 0), (0.5, 0, 1)]
            for (i, code) in target.scalars.enumerated() where code > 0 {
                let colour = palette[(Int(code) - 1) % palette.count]
                rgb[i] = (rgb[i] + colour.0) / 2
                rgb[plane + i] = (rgb[plane + i] + colour.1) / 2
                rgb[2 * plane + i] = (rgb[2 * plane + i] + colour.2) / 2
            }
        }
        return Tensor(shape: [3, h, w], scalars: rgb)
    }

    /// The vocab's name for class `index` (its number when there is no vocab or it is outside).
    public func label(_ index: Int) -> String {
        vocab.map { index >= 0 && index < $0.count ? $0[index] : "\(index)" } ?? "\(index)"
    }
}
