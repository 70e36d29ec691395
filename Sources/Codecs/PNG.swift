import Tensors

/// PNG images, decoded and encoded in pure Swift.
///
/// Decodes every standard PNG: grayscale of 1, 2, 4, 8 or 16 bits, gray+alpha, RGB and RGBA of
/// 8 or 16 bits, palette images of 1, 2, 4 or 8 bits (expanded to RGB, or RGBA where the palette
/// has transparency), all five scanline filters, plain or Adam7-interlaced. Images come out with
/// 8-bit samples: 16-bit samples keep their high byte (libpng's `strip_16`, what PIL gives for
/// RGB), low-bit gray is scaled to 0...255.
public enum PNG {
    static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
    /// Decodes a PNG file. `source` names it in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws -> Image {
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw DataError(source, "not a PNG file (bad signature)") }
        var reader = ByteReader(bytes, source: source, offset: 8)
        var header: Header?
        var palette: [UInt8] = [], transparency: [UInt8] = []
        var compressed: [UInt8] = []
        var ended = false
        while !ended {
            let length = Int(try reader.uint32BigEndian("a chunk length"))
            guard length <= 0x7FFF_FFFF else { throw DataError(source, "corrupt PNG: chunk length \(length) is too large") }
            let typeBytes = try reader.take(4, "a chunk type")
            let type = String(decoding: typeBytes, as: UTF8.self)
            let data = try reader.take(length, "the \(type) chunk")
            let crc = try reader.uint32BigEndian("the \(type) chunk's CRC")
            guard Checksum.crc32(data, continuing: Checksum.crc32(typeBytes)) == crc else {
                throw DataError(source, "corrupt PNG: CRC mismatch in the \(type) chunk")
            }
            if header == nil && type != "IHDR" { throw DataError(source, "corrupt PNG: the first chunk is \(type), not IHDR") }
            switch type {
            case "IHDR":
                header = try parseHeader(Array(data), source: source)
            case "PLTE":
                guard length % 3 == 0, length > 0, length <= 768 else { throw DataError(source, "corrupt PNG: palette of \(length) bytes") }
                palette = Array(data)
            case "tRNS":
                transparency = Array(data)
            case "IDAT":
                compressed += data
            case "IEND":
                ended = true
            default:
                // Ancillary chunks (lower-case first letter) may be skipped; critical ones may not.
                guard let first = typeBytes.first, first & 0x20 != 0 else {
                    throw DataError(source, "unsupported PNG: unknown critical chunk \(type)")
                }
            }
        }
        guard let h = header else { throw DataError(source, "corrupt PNG: no IHDR chunk") }
        guard !compressed.isEmpty else { throw DataError(source, "corrupt PNG: no image data (IDAT)") }
        let samples = h.samples
        let passes = h.interlaced ? Self.adam7 : [(x: 0, y: 0, dx: 1, dy: 1)]
        func passSize(_ p: (x: Int, y: Int, dx: Int, dy: Int)) -> (width: Int, height: Int) {
            (h.width > p.x ? (h.width - p.x + p.dx - 1) / p.dx : 0, h.height > p.y ? (h.height - p.y + p.dy - 1) / p.dy : 0)
        }
        let expected = passes.reduce(0) { total, p in
            let (w, rows) = passSize(p)
            return w == 0 ? total : total + rows * ((w * samples * h.depth + 7) / 8 + 1)
        }
        let raw = try zlibDecompress(compressed, source: source, expected: expected)
        guard raw.count == expected else {
            throw DataError(source, "corrupt PNG: image data holds \(raw.count) bytes, \(expected) expected for \(h.width)x\(h.height)")
        }
        if h.colour == 3 && palette.isEmpty { throw DataError(source, "corrupt PNG: palette image without a PLTE chunk") }
        let channels = h.colour == 3 ? (transparency.isEmpty ? 3 : 4) : samples
        var pixels = [UInt8](repeating: 0, count: h.width * h.height * channels)
        var offset = 0
        for p in passes {
            let (w, rows) = passSize(p)
            guard w > 0, rows > 0 else { continue }
            let rowBytes = (w * samples * h.depth + 7) / 8
            let length = rows * (rowBytes + 1)
            let unfiltered = try unfilter(
                Array(raw[offset..<(offset + length)]), rowBytes: rowBytes, height: rows,
                bytesPerPixel: max(1, samples * h.depth / 8), source: source)
            offset += length
            try place(
                unfiltered, rowBytes: rowBytes, width: w, height: rows, pass: p, header: h, channels: channels,
                palette: palette, transparency: transparency, into: &pixels, source: source)
        }
        return Image(width: h.width, height: h.height, channels: channels, pixels: pixels)
    }

    /// What IHDR declares.
    struct Header {
        var width: Int, height: Int, depth: Int, colour: Int, interlaced: Bool
        /// Samples per pixel as stored (a palette index is one).
        var samples: Int { [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colour] ?? 1 }
    }

    /// Adam7's seven passes: the first pixel and the spacing of each.
    static let adam7 = [
        (x: 0, y: 0, dx: 8, dy: 8), (x: 4, y: 0, dx: 8, dy: 8), (x: 0, y: 4, dx: 4, dy: 8), (x: 2, y: 0, dx: 4, dy: 4),
        (x: 0, y: 2, dx: 2, dy: 4), (x: 1, y: 0, dx: 2, dy: 2), (x: 0, y: 1, dx: 1, dy: 2),
    ]

    /// Checks IHDR: the size within `DataLimits` (before anything is allocated), a valid colour
    /// type and depth.
    static func parseHeader(_ data: [UInt8], source: String) throws -> Header {
        guard data.count == 13 else { throw DataError(source, "corrupt PNG: IHDR is \(data.count) bytes, not 13") }
        var h = ByteReader(data, source: source)
        let width = Int(try h.uint32BigEndian("IHDR")), height = Int(try h.uint32BigEndian("IHDR"))
        let depth = Int(try h.byte("IHDR")), colour = Int(try h.byte("IHDR"))
        let method = try h.byte("IHDR"), filter = try h.byte("IHDR"), interlace = try h.byte("IHDR")
        guard width > 0, height > 0 else { throw DataError(source, "corrupt PNG: size \(width)x\(height)") }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= DataLimits.pixels else {
            throw DataError(source, "PNG of \(width)x\(height) pixels is larger than the \(DataLimits.pixels) allowed (DataLimits.pixels)")
        }
        guard method == 0, filter == 0 else { throw DataError(source, "corrupt PNG: unknown compression or filter method") }
        guard interlace <= 1 else { throw DataError(source, "corrupt PNG: interlace method \(interlace)") }
        switch (colour, depth) {
        case (0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (4, 8), (4, 16), (6, 8), (6, 16), (3, 1), (3, 2), (3, 4), (3, 8): break
        default: throw DataError(source, "corrupt PNG: colour type \(colour) with bit depth \(depth) is not valid")
        }
        let header = Header(width: width, height: height, depth: depth, colour: colour, interlaced: interlace == 1)
        // Decoded (at the stored depth, with a filter byte per row) and as 8-bit pixels (palettes
        // expand to up to 4 channels): each within the byte limit.
        let stored = (width * header.samples * depth + 7) / 8 + 1
        let (raw, tooMany) = stored.multipliedReportingOverflow(by: height)
        guard !tooMany, raw <= DataLimits.decompressedBytes, pixels <= DataLimits.decompressedBytes / 4 else {
            throw DataError(
                source,
                "PNG of \(width)x\(height) pixels would decode to more than the \(DataLimits.decompressedBytes) bytes allowed (DataLimits.decompressedBytes)")
        }
        return header
    }

    /// The size and channel count (1 gray, 3 colour; alpha left out) from the header alone.
    public static func header(_ bytes: [UInt8], source: String) throws -> (width: Int, height: Int, channels: Int) {
        guard bytes.count >= 33, bytes.starts(with: signature), Array(bytes[12..<16]) == Array("IHDR".utf8) else {
            throw DataError(source, "not a PNG file, or its first chunk is not IHDR")
        }
        let h = try parseHeader(Array(bytes[16..<29]), source: source)
        return (h.width, h.height, h.colour == 0 || h.colour == 4 ? 1 : 3)
    }

    /// Writes one pass's unfiltered rows into the image as 8-bit samples (palettes expanded).
    private static func place(
        _ rows: [UInt8], rowBytes: Int, width: Int, height: Int, pass p: (x: Int, y: Int, dx: Int, dy: Int),
        header h: Header, channels: Int, palette: [UInt8], transparency: [UInt8],
        into pixels: inout [UInt8], source: String
    ) throws {
        let samples = h.samples, depth = h.depth
        let entries = palette.count / 3
        let perByte = depth < 8 ? 8 / depth : 1, mask = (1 << min(depth, 8)) - 1
        let scale = depth < 8 ? 255 / mask : 1
        for y in 0..<height {
            let row = y * rowBytes, outRow = (p.y + y * p.dy) * h.width
            for x in 0..<width {
                let o = (outRow + p.x + x * p.dx) * channels
                if depth < 8 || h.colour == 3 {
                    let value = depth < 8 ? (Int(rows[row + x / perByte]) >> (8 - depth * (x % perByte + 1))) & mask : Int(rows[row + x])
                    if h.colour == 3 {
                        guard value < entries else { throw DataError(source, "corrupt PNG: palette index \(value) beyond the \(entries) entries") }
                        pixels[o] = palette[3 * value]; pixels[o + 1] = palette[3 * value + 1]; pixels[o + 2] = palette[3 * value + 2]
                        if channels == 4 { pixels[o + 3] = value < transparency.count ? transparency[value] : 255 }
                    } else {
                        pixels[o] = UInt8(value * scale)
                    }
                } else {
                    let bytesPerSample = depth / 8
                    for k in 0..<samples { pixels[o + k] = rows[row + (x * samples + k) * bytesPerSample] }
                }
            }
        }
    }

    static func zlibDecompress(_ bytes: [UInt8], source: String, expected: Int) throws -> [UInt8] {
        guard bytes.count >= 2 else { throw DataError(source, "truncated: zlib stream") }
        let cmf = Int(bytes[0]), flg = Int(bytes[1])
        guard cmf & 0x0F == 8, cmf >> 4 <= 7, (cmf * 256 + flg) % 31 == 0 else { throw DataError(source, "corrupt zlib header") }
        guard flg & 0x20 == 0 else { throw DataError(source, "unsupported zlib stream with a preset dictionary") }
        let (output, end) = try Inflate.decompress(bytes, from: 2, source: source, sizeHint: expected, limit: expected)
        guard end + 4 <= bytes.count else { throw DataError(source, "truncated: zlib checksum missing") }
        let adler = bytes[end..<(end + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard Checksum.adler32(output) == adler else { throw DataError(source, "corrupt PNG: zlib Adler-32 mismatch") }
        return output
    }

    /// Undoes the per-scanline filters (None, Sub, Up, Average, Paeth).
    static func unfilter(_ raw: [UInt8], rowBytes: Int, height: Int, bytesPerPixel bpp: Int, source: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rowBytes * height)
        try raw.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let filter = src[y * (rowBytes + 1)]
                    let line = src.baseAddress! + y * (rowBytes + 1) + 1
                    let row = dst.baseAddress! + y * rowBytes
                    let above: UnsafeMutablePointer<UInt8>? = y > 0 ? row - rowBytes : nil
                    for x in 0..<rowBytes {
                        let a = x >= bpp ? Int(row[x - bpp]) : 0
                        let b = above.map { Int($0[x]) } ?? 0
                        let c = (x >= bpp ? above.map { Int($0[x - bpp]) } : nil) ?? 0
                        let predictor: Int
                        switch filter {
                        case 0: predictor = 0
                        case 1: predictor = a
                        case 2: predictor = b
                        case 3: predictor = (a + b) / 2
                        case 4:
                            let p = a + b - c
                            let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                            predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                        default:
                            throw DataError(source, "corrupt PNG: unknown filter type \(filter) on row \(y)")
                        }
                        row[x] = UInt8(truncatingIfNeeded: Int(line[x]) + predictor)
                    }
                }
            }
        }
        return out
    }

    /// Encodes an image as a PNG (filter None, DEFLATE stored blocks: simple and lossless;
    /// for pictures FastSwift writes, size matters little).
    public static func encode(_ image: Image) -> [UInt8] {
        let colour = [1: 0, 2: 4, 3: 2, 4: 6][image.channels]!
        var out = signature
        func chunk(_ type: String, _ data: [UInt8]) {
            let typeBytes = Array(type.utf8)
            out += bigEndian(UInt32(data.count)) + typeBytes + data
            out += bigEndian(Checksum.crc32(data, continuing: Checksum.crc32(typeBytes)))
        }
        chunk("IHDR", bigEndian(UInt32(image.width)) + bigEndian(UInt32(image.height)) + [8, UInt8(colour), 0, 0, 0])
        let rowBytes = image.width * image.channels
        var raw: [UInt8] = []
        raw.reserveCapacity(image.height * (rowBytes + 1))
        for y in 0..<image.height { raw.append(0); raw += image.pixels[(y * rowBytes)..<((y + 1) * rowBytes)] }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, raw.count - offset)
            let final: UInt8 = offset + n == raw.count ? 1 : 0
            zlib += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset..<(offset + n)]
            offset += n
        } while offset < raw.count
        zlib += bigEndian(Checksum.adler32(raw))
        chunk("IDAT", zlib)
        chunk("IEND", [])
        return out
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
}
