import Tensors

/// JPEG images, decoded in pure Swift: baseline, extended and progressive Huffman-coded JPEGs
/// of 8-bit samples, grayscale or YCbCr (RGB when the file says so), any chroma subsampling
/// (4:4:4, 4:2:2, 4:2:0, 4:4:0, ... with libjpeg's smooth "fancy" upsampling), restart markers,
/// and the EXIF orientation applied. The inverse DCT, upsampling and colour conversion follow
/// libjpeg-turbo's defaults, so pixels match `djpeg` and PIL.
///
/// Refused with a clear error: arithmetic coding, lossless and 12-bit JPEGs, CMYK/YCCK, and
/// files whose header declares more pixels than `DataLimits` allow (before anything is allocated).
public enum JPEG {
    /// Whether `bytes` start like a JPEG file (the SOI marker).
    public static func isJPEG(_ bytes: [UInt8]) -> Bool { bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF }

    /// Decodes a JPEG file into an 8-bit gray (1 channel) or RGB (3 channels) image, turned
    /// upright by its EXIF orientation. `source` names the file in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws -> Image {
        guard isJPEG(bytes) else { throw DataError(source, "not a JPEG file (no SOI marker)") }
        var decoder = JPEGDecoder(source: source)
        return try bytes.withUnsafeBufferPointer { try decoder.decode($0) }
    }

    /// The size and channel count a JPEG declares, read from its header without decoding (the
    /// size as displayed, after the EXIF orientation).
    public static func header(_ bytes: [UInt8], source: String) throws -> (width: Int, height: Int, channels: Int) {
        guard isJPEG(bytes) else { throw DataError(source, "not a JPEG file (no SOI marker)") }
        var decoder = JPEGDecoder(source: source)
        return try bytes.withUnsafeBufferPointer { try decoder.readHeader($0) }
    }
}

/// A component's samples, `width` (whole MCUs of blocks) by `height`, in a buffer owned here,
/// with a vector's worth of slack after the last row for the SIMD passes that read past it.
/// Starts at 128, the value of an all-zero block (a component no scan reaches stays flat).
final class JPEGPlane {
    let pointer: UnsafeMutablePointer<UInt8>
    let width: Int, height: Int
    static let slack = 64
    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pointer = .allocate(capacity: width * height + Self.slack)
        pointer.initialize(repeating: 128, count: width * height + Self.slack)
    }
    deinit { pointer.deallocate() }
}

/// A component's decoded coefficients, 64 per block, and each block's mask of non-zero
/// coefficients (bit `k` for zig-zag position `k`), in buffers owned here.
final class JPEGCoefficients {
    let pointer: UnsafeMutablePointer<Int16>
    let nonZero: UnsafeMutablePointer<UInt64>
    let count: Int
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        nonZero = .allocate(capacity: max(count / 64, 1))
        nonZero.initialize(repeating: 0, count: max(count / 64, 1))
    }
    deinit {
        pointer.deallocate()
        nonZero.deallocate()
    }
}

/// The state of one JPEG decode: tables, frame, coefficients.
struct JPEGDecoder {
    struct Component {
        var id: Int
        var horizontal: Int, vertical: Int
        var quantTable: Int
        /// The component's own size in samples, and in blocks holding samples.
        var width = 0, height = 0, blocksWide = 0, blocksHigh = 0
        /// Blocks per row of the coefficient buffer (whole MCUs).
        var stride = 0
        /// The quantisation table, natural order, latched at the component's first scan (as libjpeg).
        var quant: [Int32]?
    }

    let source: String
    var width = 0, height = 0
    var progressive = false
    var components: [Component] = []
    var maxHorizontal = 1, maxVertical = 1
    var mcusWide = 0, mcusHigh = 0
    var quantTables = [[Int32]?](repeating: nil, count: 4)
    var dcTables = [JPEGHuffmanTable?](repeating: nil, count: 4)
    var acTables = [JPEGHuffmanTable?](repeating: nil, count: 4)
    var restartInterval = 0
    /// A progressive JPEG's coefficients, refined scan by scan (a sequential one needs none).
    var coefficients: [JPEGCoefficients] = []
    /// Every component's samples (a sequential JPEG's filled as its blocks are decoded).
    var planes: [JPEGPlane] = []
    /// From an Adobe APP14 segment: 0 = RGB/CMYK, 1 = YCbCr, 2 = YCCK.
    var adobeTransform: Int?
    var sawJFIF = false
    /// The EXIF orientation (1 = upright), from an APP1 segment.
    var orientation = 1

    init(source: String) { self.source = source }

    /// Reads segments up to the frame header (SOF) and returns the displayed size and channels.
    mutating func readHeader(_ bytes: UnsafeBufferPointer<UInt8>) throws -> (width: Int, height: Int, channels: Int) {
        var position = 2
        while true {
            let (marker, body, next) = try segment(bytes, at: &position)
            switch marker {
            case 0xC0, 0xC1, 0xC2:
                try readFrame(body, progressive: marker == 0xC2, fileSize: bytes.count)
                // APP segments may follow SOF in odd files; the orientation is only known when it came before.
                let channels = try outputChannels()
                return orientation >= 5 ? (height, width, channels) : (width, height, channels)
            case 0xE1: readEXIF(body)
            case 0xEE: readAdobe(body)
            default: try checkSupported(marker)
            }
            position = next
        }
    }

    mutating func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws -> Image {
        var position = 2
        var frameRead = false, scans = 0
        decoding: while true {
            let (marker, body, next) = try segment(bytes, at: &position)
            position = next
            switch marker {
            case 0xC0, 0xC1, 0xC2:
                guard !frameRead else { throw DataError(source, "corrupt JPEG: more than one frame header") }
                try readFrame(body, progressive: marker == 0xC2, fileSize: bytes.count)
                if progressive { coefficients = components.map { JPEGCoefficients(count: $0.stride * mcusHigh * $0.vertical * 64) } }
                planes = components.map { JPEGPlane(width: $0.stride * 8, height: mcusHigh * $0.vertical * 8) }
                frameRead = true
            case 0xC4: try readHuffmanTables(body)
            case 0xDB: try readQuantTables(body)
            case 0xDD:
                guard body.count >= 2 else { throw DataError(source, "corrupt JPEG: short DRI segment") }
                restartInterval = Int(body[body.startIndex]) << 8 | Int(body[body.startIndex + 1])
            case 0xDA:
                guard frameRead else { throw DataError(source, "corrupt JPEG: image data before the frame header") }
                let scan = try readScanHeader(body)
                position = try decodeScan(scan, bytes: bytes, start: position)
                scans += 1
            case 0xD9: break decoding
            case 0xE0: sawJFIF = body.starts(with: Array("JFIF".utf8))
            case 0xE1: readEXIF(body)
            case 0xEE: readAdobe(body)
            default: try checkSupported(marker)
            }
        }
        guard frameRead else { throw DataError(source, "corrupt JPEG: no frame header (SOF)") }
        guard scans > 0 else { throw DataError(source, "corrupt JPEG: no image data (SOS)") }
        return try pixels()
    }

    /// Refuses the frame types and markers this decoder does not handle, by name.
    private func checkSupported(_ marker: Int) throws {
        switch marker {
        case 0xC3, 0xC7, 0xCB, 0xCF: throw DataError(source, "unsupported JPEG: lossless JPEG")
        case 0xC5, 0xC6: throw DataError(source, "unsupported JPEG: hierarchical JPEG")
        case 0xC9, 0xCA, 0xCD, 0xCE: throw DataError(source, "unsupported JPEG: arithmetic coding")
        case 0xD8: throw DataError(source, "corrupt JPEG: a second start-of-image marker")
        default: break
        }
    }

    /// Finds the next marker at or after `position` (skipping fill bytes) and its segment's body;
    /// returns the marker, the body and the position after the segment.
    private func segment(_ bytes: UnsafeBufferPointer<UInt8>, at position: inout Int) throws -> (Int, ArraySlice<UInt8>, Int) {
        // Tolerate stray bytes before a marker (libjpeg warns and skips them), including the
        // tail of a scan's data after its last decoded bits (stuffed FF 00 and restart markers).
        var marker = 0
        repeat {
            while position < bytes.count && bytes[position] != 0xFF { position += 1 }
            while position < bytes.count && bytes[position] == 0xFF { position += 1 }
            guard position < bytes.count else { throw DataError(source, "truncated JPEG: the file ends before its end-of-image marker") }
            marker = Int(bytes[position])
            position += 1
        } while marker == 0x00 || (0xD0...0xD7).contains(marker)
        if marker == 0xD9 || marker == 0x01 { return (marker, [], position) }
        guard position + 2 <= bytes.count else { throw DataError(source, "truncated JPEG: a segment's length is missing") }
        let length = Int(bytes[position]) << 8 | Int(bytes[position + 1])
        guard length >= 2, position + length <= bytes.count else {
            throw DataError(source, "truncated JPEG: a segment of \(length) bytes at offset \(position) runs past the end of the file")
        }
        let body = ArraySlice(UnsafeBufferPointer(rebasing: bytes[(position + 2)..<(position + length)]))
        return (marker, body, position + length)
    }

    private mutating func readFrame(_ body: ArraySlice<UInt8>, progressive: Bool, fileSize: Int) throws {
        let b = Array(body)
        guard b.count >= 6 else { throw DataError(source, "corrupt JPEG: short frame header") }
        guard b[0] == 8 else { throw DataError(source, "unsupported JPEG: \(b[0])-bit samples (only 8-bit)") }
        height = Int(b[1]) << 8 | Int(b[2])
        width = Int(b[3]) << 8 | Int(b[4])
        let count = Int(b[5])
        guard width > 0, height > 0 else {
            throw DataError(source, height == 0 ? "unsupported JPEG: the height is given after the image data (DNL)" : "corrupt JPEG: size \(width)x\(height)")
        }
        guard [1, 3, 4].contains(count), b.count >= 6 + 3 * count else {
            throw DataError(source, "corrupt JPEG: a frame of \(count) components in a \(b.count)-byte header")
        }
        guard width * height <= DataLimits.pixels else {
            throw DataError(source, "JPEG of \(width)x\(height) pixels is larger than the \(DataLimits.pixels) allowed (DataLimits.pixels)")
        }
        self.progressive = progressive
        components = []
        for i in 0..<count {
            let id = Int(b[6 + 3 * i]), sampling = Int(b[7 + 3 * i]), table = Int(b[8 + 3 * i])
            let (h, v) = (sampling >> 4, sampling & 15)
            guard (1...4).contains(h), (1...4).contains(v), table < 4 else {
                throw DataError(source, "corrupt JPEG: component \(id) has sampling \(h)x\(v) and quantisation table \(table)")
            }
            components.append(Component(id: id, horizontal: h, vertical: v, quantTable: table))
        }
        if count == 1 {
            // One component: its MCU is one block whatever sampling it declares.
            components[0].horizontal = 1
            components[0].vertical = 1
        }
        maxHorizontal = components.map(\.horizontal).max() ?? 1
        maxVertical = components.map(\.vertical).max() ?? 1
        mcusWide = (width + 8 * maxHorizontal - 1) / (8 * maxHorizontal)
        mcusHigh = (height + 8 * maxVertical - 1) / (8 * maxVertical)
        var blocks = 0
        for i in components.indices {
            components[i].width = (width * components[i].horizontal + maxHorizontal - 1) / maxHorizontal
            components[i].height = (height * components[i].vertical + maxVertical - 1) / maxVertical
            components[i].blocksWide = (components[i].width + 7) / 8
            components[i].blocksHigh = (components[i].height + 7) / 8
            components[i].stride = mcusWide * components[i].horizontal
            blocks += components[i].stride * mcusHigh * components[i].vertical
        }
        // Every block takes at least one bit of the file: a header declaring far more blocks than
        // the file has bits is refused before its coefficients are allocated.
        guard blocks / 8 <= fileSize, blocks * 64 * 2 <= 2 * DataLimits.decompressedBytes else {
            throw DataError(source, "corrupt JPEG: a \(width)x\(height) header in a file of \(fileSize) bytes, too few for its \(blocks) blocks")
        }
        _ = try outputChannels()
    }

    /// 1 for grayscale, 3 for colour; CMYK and YCCK are refused.
    func outputChannels() throws -> Int {
        switch components.count {
        case 1: return 1
        case 3: return 3
        default:
            throw DataError(source, "unsupported JPEG: CMYK/YCCK colour (4 components); convert the image to RGB")
        }
    }

    private mutating func readQuantTables(_ body: ArraySlice<UInt8>) throws {
        var r = ByteReader(Array(body), source: source)
        while r.remaining > 0 {
            let spec = Int(try r.byte("DQT"))
            let precision = spec >> 4, id = spec & 15
            guard id < 4, precision <= 1 else { throw DataError(source, "corrupt JPEG: quantisation table \(id) of precision \(precision)") }
            var table = [Int32](repeating: 0, count: 64)
            for k in 0..<64 {
                let value = precision == 0 ? Int32(try r.byte("DQT")) : Int32(try r.byte("DQT")) << 8 | Int32(try r.byte("DQT"))
                table[jpegZigzag[k]] = value
            }
            quantTables[id] = table
        }
    }

    private mutating func readHuffmanTables(_ body: ArraySlice<UInt8>) throws {
        var r = ByteReader(Array(body), source: source)
        while r.remaining > 0 {
            let spec = Int(try r.byte("DHT"))
            let kind = spec >> 4, id = spec & 15
            guard kind <= 1, id < 4 else { throw DataError(source, "corrupt JPEG: Huffman table class \(kind), id \(id)") }
            let counts = try r.take(16, "DHT").map(Int.init)
            let total = counts.reduce(0, +)
            guard total <= 256 else { throw DataError(source, "corrupt JPEG: a Huffman table of \(total) codes") }
            let symbols = Array(try r.take(total, "DHT"))
            let table = try JPEGHuffmanTable(counts: counts, symbols: symbols, source: source)
            if kind == 0 { dcTables[id] = table } else { acTables[id] = table }
        }
    }

    private mutating func readScanHeader(_ body: ArraySlice<UInt8>) throws -> JPEGScan {
        let b = Array(body)
        guard let n = b.first, (1...4).contains(Int(n)), b.count >= 1 + 2 * Int(n) + 3 else { throw DataError(source, "corrupt JPEG: short scan header") }
        var members: [JPEGScan.Member] = []
        for i in 0..<Int(n) {
            let id = Int(b[1 + 2 * i]), tables = Int(b[2 + 2 * i])
            guard let c = components.firstIndex(where: { $0.id == id }) else {
                throw DataError(source, "corrupt JPEG: a scan names component \(id), which the frame lacks")
            }
            guard tables >> 4 < 4, tables & 15 < 4 else { throw DataError(source, "corrupt JPEG: Huffman table numbers \(tables >> 4), \(tables & 15)") }
            guard !members.contains(where: { $0.component == c }) else { throw DataError(source, "corrupt JPEG: a scan names component \(id) twice") }
            members.append(.init(component: c, dcTable: tables >> 4, acTable: tables & 15))
        }
        let p = 1 + 2 * Int(n)
        let scan = JPEGScan(
            members: members, spectralStart: Int(b[p]), spectralEnd: Int(b[p + 1]),
            approximationHigh: Int(b[p + 2]) >> 4, approximationLow: Int(b[p + 2]) & 15)
        if progressive {
            let valid =
                scan.spectralStart <= scan.spectralEnd && scan.spectralEnd <= 63 && (scan.spectralStart > 0 || scan.spectralEnd == 0)
                && (scan.spectralStart == 0 || members.count == 1) && scan.approximationLow <= 13 && scan.approximationHigh <= 13
            guard valid else { throw DataError(source, "corrupt JPEG: a progressive scan of band \(scan.spectralStart)...\(scan.spectralEnd)") }
        }
        let blocksPerMCU = members.reduce(0) { $0 + components[$1.component].horizontal * components[$1.component].vertical }
        guard blocksPerMCU <= 10 || members.count == 1 else { throw DataError(source, "corrupt JPEG: \(blocksPerMCU) blocks in an MCU (at most 10)") }
        for m in members where components[m.component].quant == nil {
            guard let table = quantTables[components[m.component].quantTable] else {
                throw DataError(source, "corrupt JPEG: quantisation table \(components[m.component].quantTable) is used before it is defined")
            }
            components[m.component].quant = table
        }
        return scan
    }

    /// The EXIF orientation tag (0x0112) of IFD0, when the APP1 segment is EXIF.
    private mutating func readEXIF(_ body: ArraySlice<UInt8>) {
        let b = Array(body)
        guard b.count >= 14, b.starts(with: Array("Exif".utf8)), b[4] == 0, b[5] == 0 else { return }
        let tiff = 6
        let little = b[tiff] == 0x49 && b[tiff + 1] == 0x49
        guard little || (b[tiff] == 0x4D && b[tiff + 1] == 0x4D) else { return }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= b.count else { return nil }
            return little ? Int(b[at]) | Int(b[at + 1]) << 8 : Int(b[at]) << 8 | Int(b[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let lo = u16(little ? at : at + 2), let hi = u16(little ? at + 2 : at) else { return nil }
            return hi << 16 | lo
        }
        guard let ifd = u32(tiff + 4), let entries = u16(tiff + ifd) else { return }
        for e in 0..<min(entries, 512) {
            let entry = tiff + ifd + 2 + 12 * e
            guard let tag = u16(entry) else { return }
            if tag == 0x0112, let value = u16(entry + 8), (1...8).contains(value) {
                orientation = value
                return
            }
        }
    }

    private mutating func readAdobe(_ body: ArraySlice<UInt8>) {
        let b = Array(body)
        if b.count >= 12, b.starts(with: Array("Adobe".utf8)) { adobeTransform = Int(b[11]) }
    }
}
