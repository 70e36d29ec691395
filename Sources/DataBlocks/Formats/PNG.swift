/// PNG images, decoded and encoded in pure Swift.
///
/// Decodes 8-bit grayscale, gray+alpha, RGB and RGBA, and palette images of 1, 2, 4 or 8 bits
/// (expanded to RGB, or RGBA where the palette has transparency), with all five scanline
/// filters. Interlaced and 16-bit images, and low-bit grayscale, are refused with a clear error.
public enum PNG {
    static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
    /// Decodes a PNG file. `source` names it in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws -> Image {
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw DataError(source, "not a PNG file (bad signature)") }
        var reader = ByteReader(bytes, source: source, offset: 8)
        var header: (width: Int, height: Int, depth: Int, colour: Int)?
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
                guard length == 13 else { throw DataError(source, "corrupt PNG: IHDR is \(length) bytes, not 13") }
                var h = ByteReader(Array(data), source: source)
                let width = Int(try h.uint32BigEndian("IHDR")), height = Int(try h.uint32BigEndian("IHDR"))
                let depth = Int(try h.byte("IHDR")), colour = Int(try h.byte("IHDR"))
                let method = try h.byte("IHDR"), filter = try h.byte("IHDR"), interlace = try h.byte("IHDR")
                guard width > 0, height > 0 else { throw DataError(source, "corrupt PNG: size \(width)x\(height)") }
                let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
                guard !overflow, pixels <= DataLimits.pixels else {
                    throw DataError(source, "PNG of \(width)x\(height) pixels is larger than the \(DataLimits.pixels) allowed (DataLimits.pixels)")
                }
                guard method == 0, filter == 0 else { throw DataError(source, "corrupt PNG: unknown compression or filter method") }
                guard interlace == 0 else { throw DataError(source, "unsupported PNG: interlaced (Adam7) images are not supported") }
                switch (colour, depth) {
                case (0, 8), (2, 8), (4, 8), (6, 8), (3, 1), (3, 2), (3, 4), (3, 8): break
                case (0, 1), (0, 2), (0, 4): throw DataError(source, "unsupported PNG: \(depth)-bit grayscale (only 8-bit)")
                case (_, 16): throw DataError(source, "unsupported PNG: 16-bit samples (only 8-bit)")
                default: throw DataError(source, "corrupt PNG: colour type \(colour) with bit depth \(depth) is not valid")
                }
                // Decoded, filtered and as pixels (palettes expand to 3 or 4 channels): each
                // within the byte limit, before any of it is allocated.
                guard let channels = [0: 1, 2: 3, 3: 4, 4: 2, 6: 4][colour] else {
                    throw DataError(source, "corrupt PNG: colour type \(colour) is not valid")
                }
                let (decoded, tooMany) = pixels.multipliedReportingOverflow(by: channels)
                guard !tooMany, decoded + height <= DataLimits.decompressedBytes else {
                    throw DataError(source, "PNG of \(width)x\(height) pixels would decode to more than the \(DataLimits.decompressedBytes) bytes allowed (DataLimits.decompressedBytes)")
                }
                header = (width, height, depth, colour)
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
        let samples = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][h.colour]!
        let rowBytes = (h.width * samples * h.depth + 7) / 8
        let expected = h.height * (rowBytes + 1)
        let raw = try zlibDecompress(compressed, source: source, expected: expected)
        guard raw.count == expected else {
            throw DataError(source, "corrupt PNG: image data holds \(raw.count) bytes, \(expected) expected for \(h.width)x\(h.height)")
        }
        let rows = try unfilter(raw, rowBytes: rowBytes, height: h.height, bytesPerPixel: max(1, samples * h.depth / 8), source: source)
        if h.colour != 3 {
            return Image(width: h.width, height: h.height, channels: samples, pixels: rows)
        }
        guard !palette.isEmpty else { throw DataError(source, "corrupt PNG: palette image without a PLTE chunk") }
        return try expandPalette(rows, width: h.width, height: h.height, depth: h.depth, rowBytes: rowBytes,
                                 palette: palette, transparency: transparency, source: source)
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

    static func expandPalette(_ rows: [UInt8], width: Int, height: Int, depth: Int, rowBytes: Int,
                              palette: [UInt8], transparency: [UInt8], source: String) throws -> Image {
        let channels = transparency.isEmpty ? 3 : 4
        let entries = palette.count / 3
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let perByte = 8 / depth, mask = (1 << depth) - 1
        for y in 0..<height {
            for x in 0..<width {
                let byte = Int(rows[y * rowBytes + x / perByte])
                let index = (byte >> (8 - depth * (x % perByte + 1))) & mask
                guard index < entries else { throw DataError(source, "corrupt PNG: palette index \(index) beyond the \(entries) entries") }
                let o = (y * width + x) * channels
                pixels[o] = palette[3 * index]; pixels[o + 1] = palette[3 * index + 1]; pixels[o + 2] = palette[3 * index + 2]
                if channels == 4 { pixels[o + 3] = index < transparency.count ? transparency[index] : 255 }
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: pixels)
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
