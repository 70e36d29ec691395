import Tensors

// The entropy-coded part of a JPEG: a bit reader over a scan's bytes (byte stuffing, markers,
// restarts) and Huffman tables, decoding DCT coefficients of sequential and progressive scans
// (ITU T.81 F.2 and G.1.2). Coefficients are stored in natural (row-major) order.

/// One Huffman table (T.81 C.2): codes of up to 16 bits, the short ones by one table lookup.
/// The tables live in buffers owned here, read through `lookup` without reference counting.
final class JPEGHuffmanTable {
    static let fastBits = 9
    /// Indexed by the next `fastBits` bits: `length << 8 | symbol`, or 0 when the code is longer.
    private let fast = UnsafeMutablePointer<UInt16>.allocate(capacity: 1 << JPEGHuffmanTable.fastBits)
    /// The largest code of each length (-1 when none), and the offset from a code to its symbol.
    private let maxCode = UnsafeMutablePointer<Int32>.allocate(capacity: 18)
    private let valueOffset = UnsafeMutablePointer<Int32>.allocate(capacity: 17)
    private let symbols = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    private var symbolCount = 0

    /// A table with no codes (decoding with it throws).
    init() {
        fast.initialize(repeating: 0, count: 1 << Self.fastBits)
        maxCode.initialize(repeating: -1, count: 18)
        maxCode[17] = Int32.max
        valueOffset.initialize(repeating: 0, count: 17)
        symbols.initialize(repeating: 0, count: 256)
    }

    /// Builds the canonical code from the counts of codes of each length 1...16 and the symbols
    /// in code order; throws when the counts over-subscribe the code space.
    convenience init(counts: [Int], symbols list: [UInt8], source: String) throws {
        self.init()
        for (i, symbol) in list.prefix(256).enumerated() { symbols[i] = symbol }
        symbolCount = min(list.count, 256)
        var code: Int32 = 0, k = 0
        for length in 1...16 {
            let n = counts[length - 1]
            valueOffset[length] = Int32(k) - code
            if n > 0 {
                code += Int32(n)
                guard code <= (1 << length) else { throw DataError(source, "corrupt JPEG: a Huffman table has more codes than fit in \(length) bits") }
                maxCode[length] = code - 1
                let first = code - Int32(n)
                for c in first..<code where length <= Self.fastBits {
                    let shift = Self.fastBits - length
                    let start = Int(c) << shift
                    for entry in start..<(start + (1 << shift)) { fast[entry] = UInt16(length << 8) | UInt16(list[k + Int(c - first)]) }
                }
                k += n
            }
            code <<= 1
        }
    }

    deinit {
        fast.deallocate(); maxCode.deallocate(); valueOffset.deallocate(); symbols.deallocate()
    }

    /// The table's buffers, valid while the table lives.
    var lookup: JPEGHuffmanLookup {
        JPEGHuffmanLookup(fast: fast, maxCode: maxCode, valueOffset: valueOffset, symbols: symbols, symbolCount: symbolCount)
    }
}

/// A Huffman table's buffers as plain pointers, for the decoding loop.
struct JPEGHuffmanLookup {
    let fast: UnsafePointer<UInt16>
    let maxCode: UnsafePointer<Int32>, valueOffset: UnsafePointer<Int32>
    let symbols: UnsafePointer<UInt8>
    let symbolCount: Int

    init(
        fast: UnsafeMutablePointer<UInt16>, maxCode: UnsafeMutablePointer<Int32>, valueOffset: UnsafeMutablePointer<Int32>,
        symbols: UnsafeMutablePointer<UInt8>, symbolCount: Int
    ) {
        self.fast = UnsafePointer(fast)
        self.maxCode = UnsafePointer(maxCode)
        self.valueOffset = UnsafePointer(valueOffset)
        self.symbols = UnsafePointer(symbols)
        self.symbolCount = symbolCount
    }
}

/// Reads bits, most significant first, from the entropy-coded bytes of a scan: `FF 00` is a
/// data byte `FF`; any other marker ends the data, and zeros are supplied after it (as libjpeg
/// does), while reading past the end of the file is an error.
struct JPEGBitReader {
    let bytes: UnsafeBufferPointer<UInt8>
    let source: String
    var position: Int
    private var buffer: UInt64 = 0
    private var count = 0
    /// Whether a marker ended the data (zeros are fed after it).
    private(set) var atMarker = false
    /// Bytes of zeros fed after the end of the file.
    private var pastEnd = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int, source: String) {
        self.bytes = bytes
        self.position = position
        self.source = source
    }

    @inline(__always) private mutating func refill() {
        while count <= 56 {
            var byte: UInt64 = 0
            if !atMarker && position < bytes.count {
                let b = bytes[position]
                if b == 0xFF {
                    let next = position + 1 < bytes.count ? bytes[position + 1] : 0
                    if next == 0x00 {
                        position += 2
                        byte = 0xFF
                    } else if next == 0xFF {
                        position += 1  // a fill byte before a marker
                        continue
                    } else {
                        atMarker = true
                    }
                } else {
                    position += 1
                    byte = UInt64(b)
                }
            } else if !atMarker {
                pastEnd += 1
            }
            buffer |= byte << UInt64(56 - count)
            count += 8
        }
    }

    /// Throws when the bits read so far go past the end of the file (a truncated file).
    func checkNotTruncated() throws {
        if pastEnd * 8 > count { throw DataError(source, "truncated JPEG: the image data ends early") }
    }

    @inline(__always) mutating func bits(_ n: Int) -> Int {
        if n == 0 { return 0 }
        if count < n { refill() }
        let value = Int(buffer >> UInt64(64 - n))
        buffer <<= UInt64(n)
        count -= n
        return value
    }

    @inline(__always) mutating func bit() -> Int { bits(1) }

    /// `n` bits as a signed value (T.81 F.2.2.1's RECEIVE then EXTEND).
    @inline(__always) mutating func signed(_ n: Int) -> Int {
        if n == 0 { return 0 }
        let v = bits(n)
        return v < (1 << (n - 1)) ? v - (1 << n) + 1 : v
    }

    /// The next Huffman-coded symbol.
    @inline(__always) mutating func decode(_ table: JPEGHuffmanLookup) throws -> Int {
        if count < 16 { refill() }
        let entry = table.fast[Int(buffer >> UInt64(64 - JPEGHuffmanTable.fastBits))]
        if entry != 0 {
            let length = Int(entry >> 8)
            buffer <<= UInt64(length)
            count -= length
            return Int(entry & 0xFF)
        }
        for length in (JPEGHuffmanTable.fastBits + 1)...16 {
            let code = Int32(truncatingIfNeeded: buffer >> UInt64(64 - length))
            if code <= table.maxCode[length] {
                buffer <<= UInt64(length)
                count -= length
                let index = Int(code &+ table.valueOffset[length])
                guard index >= 0, index < table.symbolCount else { break }
                return Int(table.symbols[index])
            }
        }
        throw DataError(source, "corrupt JPEG: a bit pattern that is no Huffman code")
    }

    /// At a restart interval's end: drops the partial byte and steps over the `RSTn` marker.
    mutating func restart() throws {
        try checkNotTruncated()
        buffer = 0
        count = 0
        atMarker = false
        // Skip to the next marker (corrupt data before it is ignored, as libjpeg resynchronises).
        while position + 1 < bytes.count {
            if bytes[position] == 0xFF, (0xD0...0xD7).contains(bytes[position + 1]) {
                position += 2
                return
            }
            if bytes[position] == 0xFF, bytes[position + 1] != 0, bytes[position + 1] != 0xFF { break }
            position += 1
        }
        throw DataError(source, "corrupt JPEG: a restart marker is missing")
    }
}

/// The zig-zag order: position `k` of the coded sequence is coefficient `zigzag[k]` of the block.
/// Sixteen extra entries map to 63 so a corrupt run past the end stays in the block.
let jpegZigzag: [Int] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
]

/// What one scan codes: its components (with their tables) and its spectral selection and
/// successive approximation (all of it for a sequential scan).
struct JPEGScan {
    struct Member {
        var component: Int
        var dcTable: Int
        var acTable: Int
    }
    var members: [Member]
    var spectralStart: Int, spectralEnd: Int
    var approximationHigh: Int, approximationLow: Int
}

extension JPEGDecoder {
    /// Decodes one scan's entropy-coded data starting at `start`; returns where the data ends.
    mutating func decodeScan(_ scan: JPEGScan, bytes: UnsafeBufferPointer<UInt8>, start: Int) throws -> Int {
        var reader = JPEGBitReader(bytes, at: start, source: source)
        let progressive = self.progressive
        let (ss, se, ah, al) = (scan.spectralStart, scan.spectralEnd, scan.approximationHigh, scan.approximationLow)
        var predictors = [Int](repeating: 0, count: scan.members.count)
        var endOfBandRun = 0
        let single = scan.members.count == 1
        let first = components[scan.members[0].component]
        // A scan of one component codes its blocks one by one, only those that hold image
        // samples; an interleaved scan codes whole MCUs.
        let unitsWide = single ? first.blocksWide : mcusWide
        let unitsHigh = single ? first.blocksHigh : mcusHigh
        let total = unitsWide * unitsHigh

        var dc: [JPEGHuffmanTable] = [], ac: [JPEGHuffmanTable] = []
        let needsDC = !progressive || (ss == 0 && ah == 0), needsAC = !progressive || ss > 0
        for m in scan.members {
            if needsDC && dcTables[m.dcTable] == nil { throw DataError(source, "corrupt JPEG: a scan uses DC table \(m.dcTable), which is not defined") }
            if needsAC && acTables[m.acTable] == nil { throw DataError(source, "corrupt JPEG: a scan uses AC table \(m.acTable), which is not defined") }
            dc.append(dcTables[m.dcTable] ?? JPEGHuffmanTable())
            ac.append(acTables[m.acTable] ?? JPEGHuffmanTable())
        }
        let planes = scan.members.map { coefficients[$0.component].pointer }
        let dcLookup = dc.map(\.lookup), acLookup = ac.map(\.lookup)
        let shapes = scan.members.map { m in
            (h: single ? 1 : components[m.component].horizontal, v: single ? 1 : components[m.component].vertical, stride: components[m.component].stride)
        }

        try withExtendedLifetime((dc, ac, coefficients)) {
            for unit in 0..<total {
                if restartInterval > 0, unit > 0, unit % restartInterval == 0 {
                    try reader.restart()
                    for i in predictors.indices { predictors[i] = 0 }
                    endOfBandRun = 0
                }
                let unitX = unit % unitsWide, unitY = unit / unitsWide
                for i in 0..<shapes.count {
                    let (h, v, stride) = shapes[i]
                    for by in 0..<v {
                        for bx in 0..<h {
                            let blockX = unitX * h + bx, blockY = unitY * v + by
                            let offset = (blockY * stride + blockX) * 64
                            let block = planes[i] + offset
                            if !progressive {
                                try decodeSequentialBlock(
                                    block, reader: &reader, dc: dcLookup[i], ac: acLookup[i],
                                    predictor: &predictors[i])
                            } else if ss == 0 {
                                if ah == 0 {
                                    let t = try reader.decode(dcLookup[i])
                                    guard t <= 16 else { throw DataError(source, "corrupt JPEG: a DC difference of \(t) bits") }
                                    predictors[i] &+= reader.signed(t)
                                    block[0] = Int16(truncatingIfNeeded: predictors[i] << al)
                                } else if reader.bit() == 1 {
                                    block[0] |= Int16(truncatingIfNeeded: 1 << al)
                                }
                            } else if ah == 0 {
                                try decodeACFirst(block, reader: &reader, ac: acLookup[i], start: ss, end: se, low: al, run: &endOfBandRun)
                            } else {
                                try decodeACRefine(block, reader: &reader, ac: acLookup[i], start: ss, end: se, low: al, run: &endOfBandRun)
                            }
                        }
                    }
                }
            }
        }
        try reader.checkNotTruncated()
        return reader.position
    }

    /// A sequential (baseline or extended) block: the DC difference, then the run-length coded ACs.
    @inline(__always)
    private func decodeSequentialBlock(
        _ block: UnsafeMutablePointer<Int16>, reader: inout JPEGBitReader,
        dc: JPEGHuffmanLookup, ac: JPEGHuffmanLookup, predictor: inout Int
    ) throws {
        let t = try reader.decode(dc)
        guard t <= 16 else { throw DataError(source, "corrupt JPEG: a DC difference of \(t) bits") }
        predictor &+= reader.signed(t)
        block[0] = Int16(truncatingIfNeeded: predictor)
        var k = 1
        try jpegZigzag.withUnsafeBufferPointer { zigzag in
            while k < 64 {
                let rs = try reader.decode(ac)
                let r = rs >> 4, s = rs & 15
                if s == 0 {
                    if r != 15 { break }
                    k += 16
                    continue
                }
                k += r
                block[zigzag[min(k, 79)]] = Int16(truncatingIfNeeded: reader.signed(s))
                k += 1
            }
        }
    }

    /// The first pass over a band of AC coefficients (T.81 G.1.2.2), with end-of-band runs.
    private func decodeACFirst(
        _ block: UnsafeMutablePointer<Int16>, reader: inout JPEGBitReader, ac: JPEGHuffmanLookup,
        start: Int, end: Int, low: Int, run: inout Int
    ) throws {
        if run > 0 {
            run -= 1
            return
        }
        var k = start
        while k <= end {
            let rs = try reader.decode(ac)
            let r = rs >> 4, s = rs & 15
            if s == 0 {
                if r < 15 {
                    run = (1 << r) - 1 + reader.bits(r)
                    break
                }
                k += 16
                continue
            }
            k += r
            guard k <= 63 else { break }
            block[jpegZigzag[k]] = Int16(truncatingIfNeeded: reader.signed(s) * (1 << low))
            k += 1
        }
    }

    /// A refining pass over a band of AC coefficients (T.81 G.1.2.3): one more bit of every
    /// coefficient already non-zero, and new coefficients of magnitude `1 << low`.
    private func decodeACRefine(
        _ block: UnsafeMutablePointer<Int16>, reader: inout JPEGBitReader, ac: JPEGHuffmanLookup,
        start: Int, end: Int, low: Int, run: inout Int
    ) throws {
        let plus = Int16(truncatingIfNeeded: 1 << low), minus = Int16(truncatingIfNeeded: -1 << low)
        @inline(__always) func refine(_ z: Int) {
            if reader.bit() == 1, block[z] & plus == 0 { block[z] &+= block[z] >= 0 ? plus : minus }
        }
        var k = start
        if run == 0 {
            while k <= end {
                let rs = try reader.decode(ac)
                var r = rs >> 4
                let s = rs & 15
                var value: Int16 = 0
                if s != 0 {
                    guard s == 1 else { throw DataError(source, "corrupt JPEG: a refining scan codes a \(s)-bit coefficient") }
                    value = reader.bit() == 1 ? plus : minus
                } else if r != 15 {
                    run = (1 << r) + reader.bits(r)
                    break
                }
                // Skip `r` zero coefficients (refining the non-zero ones passed), then place the new one.
                while k <= end {
                    let z = jpegZigzag[k]
                    if block[z] != 0 {
                        refine(z)
                    } else {
                        if r == 0 { break }
                        r -= 1
                    }
                    k += 1
                }
                if value != 0, k <= end { block[jpegZigzag[k]] = value }
                k += 1
            }
        }
        if run > 0 {
            while k <= end {
                let z = jpegZigzag[k]
                if block[z] != 0 { refine(z) }
                k += 1
            }
            run -= 1
        }
    }
}
