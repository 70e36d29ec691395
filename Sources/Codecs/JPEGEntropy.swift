import Tensors

// The entropy-coded part of a JPEG: a bit reader over a scan's bytes (byte stuffing, markers,
// restarts) and Huffman tables, decoding DCT coefficients of sequential and progressive scans
// (ITU T.81 F.2 and G.1.2). Coefficients are stored in natural (row-major) order.

/// One Huffman table (T.81 C.2): codes of up to 16 bits, the short ones by one table lookup.
/// The tables live in buffers owned here, read through `lookup` without reference counting.
final class JPEGHuffmanTable {
    static let fastBits = 10
    /// Indexed by the next `fastBits` bits: `length << 8 | symbol`, or 0 when the code is longer.
    private let fast = UnsafeMutablePointer<UInt16>.allocate(capacity: 1 << JPEGHuffmanTable.fastBits)
    /// For AC tables, indexed the same way: when a code and the magnitude bits after it both fit
    /// in `fastBits`, `value << 8 | run << 4 | (code length + magnitude bits)`; else 0. One lookup
    /// then decodes a whole run/value pair, as stb_image's `fast_ac` does.
    private let fastAC = UnsafeMutablePointer<Int32>.allocate(capacity: 1 << JPEGHuffmanTable.fastBits)
    /// The largest code of each length (-1 when none), and the offset from a code to its symbol.
    private let maxCode = UnsafeMutablePointer<Int32>.allocate(capacity: 18)
    private let valueOffset = UnsafeMutablePointer<Int32>.allocate(capacity: 17)
    private let symbols = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    private var symbolCount = 0

    /// A table with no codes (decoding with it throws).
    init() {
        fast.initialize(repeating: 0, count: 1 << Self.fastBits)
        fastAC.initialize(repeating: 0, count: 1 << Self.fastBits)
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
        for index in 0..<(1 << Self.fastBits) where fast[index] != 0 {
            let length = Int(fast[index] >> 8), run = Int(fast[index] >> 4) & 15, size = Int(fast[index]) & 15
            guard size > 0, length + size <= Self.fastBits else { continue }
            let magnitude = (index >> (Self.fastBits - length - size)) & ((1 << size) - 1)
            let value = magnitude < (1 << (size - 1)) ? magnitude - (1 << size) + 1 : magnitude
            fastAC[index] = Int32(value) << 8 | Int32(run << 4 | (length + size))
        }
    }

    deinit {
        fast.deallocate(); fastAC.deallocate(); maxCode.deallocate(); valueOffset.deallocate(); symbols.deallocate()
    }

    /// The table's buffers, valid while the table lives.
    var lookup: JPEGHuffmanLookup {
        JPEGHuffmanLookup(
            fast: UnsafePointer(fast), fastAC: UnsafePointer(fastAC), maxCode: UnsafePointer(maxCode), valueOffset: UnsafePointer(valueOffset),
            symbols: UnsafePointer(symbols), symbolCount: symbolCount)
    }
}

/// A Huffman table's buffers as plain pointers, for the decoding loop.
struct JPEGHuffmanLookup {
    let fast: UnsafePointer<UInt16>, fastAC: UnsafePointer<Int32>
    let maxCode: UnsafePointer<Int32>, valueOffset: UnsafePointer<Int32>
    let symbols: UnsafePointer<UInt8>
    let symbolCount: Int
}

/// Reads bits, most significant first, from the entropy-coded bytes of a scan: `FF 00` is a
/// data byte `FF`; any other marker ends the data, and zeros are supplied after it (as libjpeg
/// does), while reading past the end of the file is an error.
///
/// A plain value (no references): the decoding loops copy it into a local, where its fields
/// stay in registers, and the slow paths take and return it by value.
struct JPEGBitReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int
    /// The next bits, most significant first; `count` of them are valid.
    private(set) var buffer: UInt64 = 0
    private(set) var count = 0
    /// Whether a marker ended the data (zeros are fed after it).
    private(set) var atMarker = false
    /// Bytes of zeros fed after the end of the file.
    private var pastEnd = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int) {
        self.bytes = bytes
        self.position = position
    }

    /// Tops the buffer up to at least 57 bits: eight bytes at once when none of them is `FF`
    /// (nearly always), else byte by byte through the stuffing and markers.
    @inline(__always) mutating func refill() {
        if !atMarker, position + 8 <= bytes.count {
            let word = UInt64(bigEndian: UnsafeRawPointer(bytes.baseAddress! + position).loadUnaligned(as: UInt64.self))
            let inverted = ~word  // a zero byte here is an FF there
            if (inverted &- 0x0101_0101_0101_0101) & ~inverted & 0x8080_8080_8080_8080 == 0 {
                let taken = (64 &- count) &>> 3
                buffer |= (word &>> UInt64(64 &- 8 &* taken)) &<< UInt64(64 &- count &- 8 &* taken)
                position &+= taken
                count &+= 8 &* taken
                return
            }
        }
        self = Self.refilledByBytes(self)
    }

    @inline(never) private static func refilledByBytes(_ reader: JPEGBitReader) -> JPEGBitReader {
        var reader = reader
        reader.refillByBytes()
        return reader
    }

    private mutating func refillByBytes() {
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
    func checkNotTruncated(source: String) throws {
        if pastEnd * 8 > count { throw DataError(source, "truncated JPEG: the image data ends early") }
    }

    /// Drops `n` bits already looked at (`n` ≤ `count`).
    @inline(__always) mutating func skip(_ n: Int) {
        buffer &<<= UInt64(truncatingIfNeeded: n)
        count &-= n
    }

    @inline(__always) mutating func bits(_ n: Int) -> Int {
        if n == 0 { return 0 }
        if count < n { refill() }
        let value = Int(truncatingIfNeeded: buffer &>> UInt64(truncatingIfNeeded: 64 &- n))
        skip(n)
        return value
    }

    @inline(__always) mutating func bit() -> Int { bits(1) }

    /// `n` bits as a signed value (T.81 F.2.2.1's RECEIVE then EXTEND).
    @inline(__always) mutating func signed(_ n: Int) -> Int {
        if n == 0 { return 0 }
        let v = bits(n)
        return v < (1 << (n - 1)) ? v - (1 << n) + 1 : v
    }

    /// The next Huffman-coded symbol; throws on a bit pattern that is no code of the table.
    @inline(__always) mutating func decode(_ table: JPEGHuffmanLookup, source: String) throws -> Int {
        if count < 16 { refill() }
        let entry = table.fast[Int(truncatingIfNeeded: buffer &>> UInt64(64 - JPEGHuffmanTable.fastBits))]
        if entry != 0 {
            skip(Int(entry >> 8))
            return Int(entry & 0xFF)
        }
        let symbol: Int
        (symbol, self) = Self.decodedLong(self, table)
        guard symbol >= 0 else { throw DataError(source, "corrupt JPEG: a bit pattern that is no Huffman code") }
        return symbol
    }

    /// A code longer than `fastBits`, by the canonical code's limits (T.81 F.2.2.3): the symbol
    /// (-1 for no code) and the reader after it.
    @inline(never) private static func decodedLong(_ reader: JPEGBitReader, _ table: JPEGHuffmanLookup) -> (Int, JPEGBitReader) {
        var reader = reader
        for length in (JPEGHuffmanTable.fastBits + 1)...16 {
            let code = Int32(truncatingIfNeeded: reader.buffer &>> UInt64(64 - length))
            if code <= table.maxCode[length] {
                reader.skip(length)
                let index = Int(code &+ table.valueOffset[length])
                guard index >= 0, index < table.symbolCount else { break }
                return (Int(table.symbols[index]), reader)
            }
        }
        return (-1, reader)
    }

    /// At a restart interval's end: drops the partial byte and steps over the `RSTn` marker.
    mutating func restart(source: String) throws {
        try checkNotTruncated(source: source)
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

/// One component of a scan as the decoding loop sees it: plain values and pointers, no
/// reference counting per block.
private struct JPEGScanMember {
    /// Blocks per MCU across and down (1 and 1 in a scan of one component).
    var h: Int, v: Int
    /// Blocks per row of the component's coefficient buffer or sample plane.
    var blocksPerRow: Int
    var dc: JPEGHuffmanLookup, ac: JPEGHuffmanLookup
    /// Progressive: where the component's coefficients are kept until the last scan.
    var coefficients: UnsafeMutablePointer<Int16>
    /// Progressive: per block, bit `k` set when coefficient `k` (zig-zag order) is non-zero.
    var nonZero: UnsafeMutablePointer<UInt64>
    /// Sequential: the plane each block's samples go to at once, `planeWidth` samples a row.
    var plane: UnsafeMutablePointer<UInt8>, planeWidth: Int
    var quant: UnsafePointer<Int32>
    var predictor = 0
}

extension JPEGDecoder {
    /// Decodes one scan's entropy-coded data starting at `start`; returns where the data ends.
    /// A sequential scan's blocks go through the inverse DCT into their planes as they are
    /// decoded (each block is complete in its one scan); a progressive scan refines the kept
    /// coefficients.
    mutating func decodeScan(_ scan: JPEGScan, bytes: UnsafeBufferPointer<UInt8>, start: Int) throws -> Int {
        var reader = JPEGBitReader(bytes, at: start)
        let progressive = self.progressive
        let (ss, se, ah, al) = (scan.spectralStart, scan.spectralEnd, scan.approximationHigh, scan.approximationLow)
        let single = scan.members.count == 1
        let first = components[scan.members[0].component]
        // A scan of one component codes its blocks one by one, only those that hold image
        // samples; an interleaved scan codes whole MCUs.
        let unitsWide = single ? first.blocksWide : mcusWide
        let unitsHigh = single ? first.blocksHigh : mcusHigh

        var dc: [JPEGHuffmanTable] = [], ac: [JPEGHuffmanTable] = []
        let needsDC = !progressive || (ss == 0 && ah == 0), needsAC = !progressive || ss > 0
        for m in scan.members {
            if needsDC && dcTables[m.dcTable] == nil { throw DataError(source, "corrupt JPEG: a scan uses DC table \(m.dcTable), which is not defined") }
            if needsAC && acTables[m.acTable] == nil { throw DataError(source, "corrupt JPEG: a scan uses AC table \(m.acTable), which is not defined") }
            dc.append(dcTables[m.dcTable] ?? JPEGHuffmanTable())
            ac.append(acTables[m.acTable] ?? JPEGHuffmanTable())
        }
        let quant = scan.members.flatMap { components[$0.component].quant ?? [Int32](repeating: 0, count: 64) }
        let block = UnsafeMutablePointer<Int16>.allocate(capacity: 64)
        let nonZeroScratch = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        defer {
            block.deallocate()
            nonZeroScratch.deallocate()
        }
        try withExtendedLifetime((dc, ac, coefficients, planes)) {
            try quant.withUnsafeBufferPointer { quant in
                var members = scan.members.indices.map { i in
                    let m = scan.members[i], component = components[m.component]
                    return JPEGScanMember(
                        h: single ? 1 : component.horizontal, v: single ? 1 : component.vertical, blocksPerRow: component.stride,
                        dc: dc[i].lookup, ac: ac[i].lookup,
                        coefficients: progressive ? coefficients[m.component].pointer : block,
                        nonZero: progressive ? coefficients[m.component].nonZero : nonZeroScratch,
                        plane: planes[m.component].pointer,
                        planeWidth: component.stride * 8, quant: quant.baseAddress! + 64 * i)
                }
                try members.withUnsafeMutableBufferPointer { members in
                    let units = (wide: unitsWide, high: unitsHigh)
                    if progressive {
                        try decodeProgressiveUnits(members, units: units, reader: &reader, band: (ss, se, ah, al))
                    } else {
                        try decodeSequentialUnits(members, units: units, reader: &reader, block: block)
                    }
                }
            }
        }
        try reader.checkNotTruncated(source: source)
        return reader.position
    }

    /// Calls `visit(member, blockX, blockY, restart)` for every block of a scan in coding
    /// order (`units`: MCUs, or blocks in a scan of one component), `restart` true for the
    /// first block after the end of a restart interval. Counters, not divisions, per unit.
    @inline(__always)
    private func forEachBlock(
        _ members: UnsafeMutableBufferPointer<JPEGScanMember>, units: (wide: Int, high: Int), visit: (Int, Int, Int, Bool) throws -> Void
    ) throws {
        var untilRestart = restartInterval
        for unitY in 0..<units.high {
            for unitX in 0..<units.wide {
                var restart = false
                if restartInterval > 0 {
                    if untilRestart == 0 {
                        restart = true
                        untilRestart = restartInterval
                    }
                    untilRestart -= 1
                }
                for i in members.indices {
                    let (h, v) = (members[i].h, members[i].v)
                    for by in 0..<v {
                        for bx in 0..<h {
                            try visit(i, unitX * h + bx, unitY * v + by, restart)
                            restart = false
                        }
                    }
                }
            }
        }
    }

    /// A sequential scan: each block decoded into `block`, then through the inverse DCT into
    /// its plane.
    @inline(never)
    private func decodeSequentialUnits(
        _ members: UnsafeMutableBufferPointer<JPEGScanMember>, units: (wide: Int, high: Int), reader: inout JPEGBitReader,
        block: UnsafeMutablePointer<Int16>
    ) throws {
        var bits = reader
        defer { reader = bits }
        try jpegZigzag.withUnsafeBufferPointer { zigzag in
            try forEachBlock(members, units: units) { i, blockX, blockY, restart in
                if restart {
                    try bits.restart(source: source)
                    for i in members.indices { members[i].predictor = 0 }
                }
                let member = members[i]
                let last = try decodeSequentialBlock(
                    block, reader: &bits, dc: member.dc, ac: member.ac, predictor: &members[i].predictor, zigzag: zigzag.baseAddress!)
                JPEGInverseDCT.block(
                    block, quant: member.quant, out: member.plane + blockY * 8 * member.planeWidth + blockX * 8, stride: member.planeWidth,
                    last: last)
            }
        }
    }

    /// A progressive scan: one band, or one more bit of it, into every block's kept coefficients.
    @inline(never)
    private func decodeProgressiveUnits(
        _ members: UnsafeMutableBufferPointer<JPEGScanMember>, units: (wide: Int, high: Int), reader: inout JPEGBitReader,
        band: (start: Int, end: Int, high: Int, low: Int)
    ) throws {
        let (ss, se, ah, al) = band
        // The reader and the end-of-band run through a pointer: captured as variables, every
        // block's access to them was checked for exclusivity at run time.
        var state = (bits: reader, endOfBandRun: 0)
        defer { reader = state.bits }
        try withUnsafeMutablePointer(to: &state) { state in
            try forEachBlock(members, units: units) { i, blockX, blockY, restart in
                if restart {
                    try state.pointee.bits.restart(source: source)
                    for i in members.indices { members[i].predictor = 0 }
                    state.pointee.endOfBandRun = 0
                }
                let index = blockY * members[i].blocksPerRow + blockX
                let block = members[i].coefficients + index * 64, nonZero = members[i].nonZero + index
                if ss == 0 {
                    if ah == 0 {
                        let t = try state.pointee.bits.decode(members[i].dc, source: source)
                        guard t <= 16 else { throw DataError(source, "corrupt JPEG: a DC difference of \(t) bits") }
                        members[i].predictor &+= state.pointee.bits.signed(t)
                        block[0] = Int16(truncatingIfNeeded: members[i].predictor << al)
                    } else if state.pointee.bits.bit() == 1 {
                        block[0] |= Int16(truncatingIfNeeded: 1 << al)
                    }
                } else if ah == 0 {
                    try decodeACFirst(
                        block, nonZero: nonZero, reader: &state.pointee.bits, ac: members[i].ac, start: ss, end: se, low: al,
                        run: &state.pointee.endOfBandRun)
                } else {
                    try decodeACRefine(
                        block, nonZero: nonZero, reader: &state.pointee.bits, ac: members[i].ac, start: ss, end: se, low: al,
                        run: &state.pointee.endOfBandRun)
                }
            }
        }
    }

    /// A sequential (baseline or extended) block: the DC difference, then the run-length coded
    /// ACs, into `block` (cleared first). Returns the highest zig-zag position written (0: none).
    @inline(__always)
    private func decodeSequentialBlock(
        _ block: UnsafeMutablePointer<Int16>, reader: inout JPEGBitReader,
        dc: JPEGHuffmanLookup, ac: JPEGHuffmanLookup, predictor: inout Int, zigzag: UnsafePointer<Int>
    ) throws -> Int {
        let raw = UnsafeMutableRawPointer(block)
        for offset in stride(from: 0, to: 128, by: 32) { raw.storeBytes(of: SIMD16<Int16>(), toByteOffset: offset, as: SIMD16<Int16>.self) }
        // A local copy, kept in registers through the loop (the caller's lives in memory).
        var bits = reader
        defer { reader = bits }
        let t = try bits.decode(dc, source: source)
        guard t <= 16 else { throw DataError(source, "corrupt JPEG: a DC difference of \(t) bits") }
        predictor &+= bits.signed(t)
        block[0] = Int16(truncatingIfNeeded: predictor)
        var k = 1
        var last = 0
        while k < 64 {
            if bits.count < 16 { bits.refill() }
            // A run and a small value whose code and bits fit the lookup: one step.
            let fast = ac.fastAC[Int(truncatingIfNeeded: bits.buffer &>> UInt64(64 - JPEGHuffmanTable.fastBits))]
            if fast != 0 {
                bits.skip(Int(fast & 15))
                k &+= Int(fast >> 4) & 15
                last = min(k, 63)
                block[zigzag[min(k, 79)]] = Int16(truncatingIfNeeded: fast >> 8)
                k &+= 1
                continue
            }
            let rs = try bits.decode(ac, source: source)
            let r = rs >> 4, s = rs & 15
            if s == 0 {
                if r != 15 { break }
                k &+= 16
                continue
            }
            k &+= r
            last = min(k, 63)
            block[zigzag[min(k, 79)]] = Int16(truncatingIfNeeded: bits.signed(s))
            k &+= 1
        }
        return last
    }

    /// The first pass over a band of AC coefficients (T.81 G.1.2.2), with end-of-band runs.
    private func decodeACFirst(
        _ block: UnsafeMutablePointer<Int16>, nonZero: UnsafeMutablePointer<UInt64>, reader: inout JPEGBitReader, ac: JPEGHuffmanLookup,
        start: Int, end: Int, low: Int, run: inout Int
    ) throws {
        if run > 0 {
            run -= 1
            return
        }
        var bits = reader
        defer { reader = bits }
        var k = start
        while k <= end {
            let rs = try bits.decode(ac, source: source)
            let r = rs >> 4, s = rs & 15
            if s == 0 {
                if r < 15 {
                    run = (1 << r) - 1 + bits.bits(r)
                    break
                }
                k += 16
                continue
            }
            k += r
            guard k <= 63 else { break }
            let value = Int16(truncatingIfNeeded: bits.signed(s) * (1 << low))
            block[jpegZigzag[k]] = value
            if value != 0 { nonZero.pointee |= 1 &<< UInt64(k) }
            k += 1
        }
    }

    /// A refining pass over a band of AC coefficients (T.81 G.1.2.3): one more bit of every
    /// coefficient already non-zero, and new coefficients of magnitude `1 << low`. The block's
    /// non-zero mask finds the coefficients to refine and the zeros to skip without testing
    /// each coefficient in turn.
    private func decodeACRefine(
        _ block: UnsafeMutablePointer<Int16>, nonZero: UnsafeMutablePointer<UInt64>, reader: inout JPEGBitReader, ac: JPEGHuffmanLookup,
        start: Int, end: Int, low: Int, run: inout Int
    ) throws {
        let plus = Int16(truncatingIfNeeded: 1 << low), minus = Int16(truncatingIfNeeded: -1 << low)
        var bits = reader
        defer { reader = bits }
        /// One correction bit for each non-zero coefficient in `positions` (zig-zag), in order.
        @inline(__always) func refine(_ positions: UInt64) {
            var positions = positions
            while positions != 0 {
                let z = jpegZigzag[positions.trailingZeroBitCount]
                if bits.bit() == 1, block[z] & plus == 0 { block[z] &+= block[z] >= 0 ? plus : minus }
                positions &= positions &- 1
            }
        }
        /// Positions `from...end` as a mask (empty when `from > end`).
        @inline(__always) func band(from: Int) -> UInt64 {
            from > end ? 0 : (UInt64.max &>> UInt64(63 - end)) & (UInt64.max &<< UInt64(from))
        }
        var k = start
        if run == 0 {
            while k <= end {
                let rs = try bits.decode(ac, source: source)
                let r = rs >> 4
                let s = rs & 15
                var value: Int16 = 0
                if s != 0 {
                    guard s == 1 else { throw DataError(source, "corrupt JPEG: a refining scan codes a \(s)-bit coefficient") }
                    value = bits.bit() == 1 ? plus : minus
                } else if r != 15 {
                    run = (1 << r) + bits.bits(r)
                    break
                }
                // Skip `r` zero coefficients (refining the non-zero ones passed): the new one goes
                // at the zero after them, or the band ends first.
                let rest = band(from: k)
                var zeros = ~nonZero.pointee & rest
                for _ in 0..<r { zeros &= zeros &- 1 }
                let next = zeros == 0 ? end + 1 : zeros.trailingZeroBitCount
                refine(nonZero.pointee & rest & ~band(from: next))
                k = next
                if value != 0, k <= end {
                    block[jpegZigzag[k]] = value
                    nonZero.pointee |= 1 &<< UInt64(k)
                }
                k += 1
            }
        }
        if run > 0 {
            refine(nonZero.pointee & band(from: k))
            run -= 1
        }
    }
}
