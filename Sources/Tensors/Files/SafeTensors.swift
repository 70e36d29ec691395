import Foundation

/// The safetensors format (as Hugging Face's `safetensors` package reads and writes it): an
/// 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and byte
/// range, then the raw little-endian data. FastSwift writes and reads `F32` tensors.
public enum SafeTensors {
    /// Writes `tensors` (and string `metadata`) to `file` through a temporary name and a rename.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to file: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + t.count * 4]] as [String: Any]
            offset += t.count * 4
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            tensors[name]!.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: UInt32.self) { words in
                    for w in words { var le = w.littleEndian; withUnsafeBytes(of: &le) { out.append(contentsOf: $0) } }
                }
            }
        }
        try writeFileReplacing(file, with: out)
    }

    /// What a file that is not safetensors looks like, from its first bytes.
    static func kind(of bytes: [UInt8]) -> String {
        let signatures: [([UInt8], String)] = [
            ([0x50, 0x4B, 0x03, 0x04], "a zip archive, as PyTorch's .pth/.pt files are: convert it with Benchmarks/convert_torchvision.py"),
            ([0x80], "a Python pickle, as an old PyTorch checkpoint or fastai's export.pkl"),
            ([0x89, 0x50, 0x4E, 0x47], "a PNG image"), ([0xFF, 0xD8, 0xFF], "a JPEG image"), ([0x1F, 0x8B], "a gzip file"),
        ]
        if let (_, name) = signatures.first(where: { bytes.starts(with: $0.0) }) { return "it is \(name)" }
        if bytes.prefix(64).allSatisfy({ $0 == 9 || $0 == 10 || $0 == 13 || (32..<127).contains($0) }) { return "it is text" }
        return "its first bytes are not a header length and a JSON header"
    }

    /// The largest header accepted (the reference implementation's limit).
    public static let maxHeaderBytes = 100_000_000

    /// The tensors and metadata in a safetensors file. Validated as strictly as the reference
    /// implementation before anything is allocated for the tensors: the header is a JSON object
    /// of at most `maxHeaderBytes`; each entry has a dtype, a shape of non-negative sizes and two
    /// byte offsets whose span is exactly the shape's bytes (overflow-checked); the entries,
    /// in offset order, tile the data with no gap, overlap or trailing bytes. Throws, naming the
    /// file and the tensor, otherwise. FastSwift reads `F32` tensors; batch norms' integer
    /// `num_batches_tracked` counters (in PyTorch state dicts) are checked and left out.
    public static func read(_ file: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let source = file.path
        let data = try readFileBytes(file)
        guard data.count >= 8 else { throw DataError(source, "truncated safetensors file: no header length") }
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(data[$1]) << (8 * UInt64($1)) }
        guard length <= UInt64(data.count - 8) else {
            // A header length past the end, and no JSON after it: another kind of file, named
            // when it is a common one.
            if data.count > 8, ![UInt8(ascii: "{"), UInt8(ascii: " ")].contains(data[8]) {
                throw DataError(source, "not a safetensors file (\(Self.kind(of: data))); FastSwift reads and writes safetensors checkpoints and exports")
            }
            throw DataError(source, "corrupt safetensors file: header length \(length) runs past the end")
        }
        guard length <= UInt64(maxHeaderBytes) else {
            throw DataError(source, "corrupt safetensors file: header length \(length) exceeds the \(maxHeaderBytes)-byte limit")
        }
        let start = 8 + Int(length)
        guard let header = try? JSONSerialization.jsonObject(with: Data(data[8..<start])) as? [String: Any] else {
            throw DataError(source, "corrupt safetensors file: the header is not a JSON object")
        }
        struct Entry { let name: String, shape: [Int], begin: Int, end: Int, skipped: Bool }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let strings = value as? [String: String] else {
                    throw DataError(source, "corrupt safetensors file: __metadata__ must map strings to strings")
                }
                metadata = strings
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else {
                throw DataError(source, "corrupt safetensors file: malformed header entry for '\(name)'")
            }
            let counter = dtype == "I64" && name.hasSuffix("num_batches_tracked")
            guard dtype == "F32" || counter else {
                throw DataError(
                    source, "unsupported dtype \(dtype) for '\(name)' (FastSwift reads F32; Benchmarks/convert_torchvision.py converts PyTorch weights)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw DataError(source, "corrupt safetensors file: '\(name)' has a negative size in its shape \(shape)")
            }
            guard let bytes = checkedProduct(shape, startingAt: counter ? 8 : 4) else {
                throw DataError(source, "corrupt safetensors file: '\(name)' of shape \(shape) has more bytes than can be addressed")
            }
            guard offsets[0] >= 0, offsets[1] >= offsets[0] else {
                throw DataError(source, "corrupt safetensors file: '\(name)' has byte range \(offsets)")
            }
            guard offsets[1] - offsets[0] == bytes else {
                throw DataError(
                    source,
                    "corrupt safetensors file: '\(name)' of shape \(shape) needs \(bytes) bytes, its byte range \(offsets) holds \(offsets[1] - offsets[0])")
            }
            entries.append(Entry(name: name, shape: shape, begin: offsets[0], end: offsets[1], skipped: counter))
        }
        // Offset order must tile the data exactly: no gap, no overlap, nothing left over.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expected = 0
        for e in entries {
            guard e.begin == expected else {
                throw DataError(
                    source,
                    e.begin < expected
                        ? "corrupt safetensors file: '\(e.name)' (bytes \(e.begin)..<\(e.end)) overlaps the tensor before it"
                        : "corrupt safetensors file: a gap of \(e.begin - expected) bytes before '\(e.name)'")
            }
            expected = e.end
        }
        guard expected == data.count - start else {
            throw DataError(
                source,
                expected > data.count - start
                    ? "truncated safetensors file: the header describes \(expected) bytes of data, the file holds \(data.count - start)"
                    : "corrupt safetensors file: \(data.count - start - expected) bytes after the last tensor")
        }
        var tensors: [String: Tensor] = [:]
        for e in entries where !e.skipped {
            let count = (e.end - e.begin) / 4
            let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                data.withUnsafeBytes { raw in
                    let base = start + e.begin
                    for i in 0..<count {
                        buffer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self)))
                    }
                }
                initialized = count
            }
            tensors[e.name] = Tensor(shape: e.shape, scalars: values)
        }
        return (tensors, metadata)
    }
}
