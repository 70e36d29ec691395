import Foundation
import Tensors

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
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString).tmp")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try out.write(to: temporary)
        if FileManager.default.fileExists(atPath: file.path) { try FileManager.default.removeItem(at: file) }
        try FileManager.default.moveItem(at: temporary, to: file)
    }

    /// The tensors and metadata in a safetensors file; throws, naming the file, when it is
    /// truncated, its header is malformed, or a tensor's dtype or byte range is wrong.
    public static func read(_ file: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data = try [UInt8](Data(contentsOf: file))
        let source = file.path
        guard data.count >= 8 else { throw DataError(source, "truncated safetensors file: no header length") }
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(data[$1]) << (8 * UInt64($1)) }
        guard length <= UInt64(data.count - 8) else { throw DataError(source, "corrupt safetensors file: header length \(length) runs past the end") }
        let start = 8 + Int(length)
        guard let header = try? JSONSerialization.jsonObject(with: Data(data[8..<start])) as? [String: Any] else {
            throw DataError(source, "corrupt safetensors file: the header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw DataError(source, "corrupt safetensors file: malformed header entry for '\(name)'")
            }
            guard dtype == "F32" else { throw DataError(source, "unsupported dtype \(dtype) for '\(name)' (FastSwift reads F32)") }
            let count = shape.reduce(1, *)
            guard offsets[0] >= 0, offsets[1] - offsets[0] == count * 4, start + offsets[1] <= data.count else {
                throw DataError(source, "corrupt safetensors file: '\(name)' of shape \(shape) has byte range \(offsets)")
            }
            var values = [Float](repeating: 0, count: count)
            let base = start + offsets[0]
            for i in 0..<count {
                let o = base + 4 * i
                let bits = UInt32(data[o]) | UInt32(data[o + 1]) << 8 | UInt32(data[o + 2]) << 16 | UInt32(data[o + 3]) << 24
                values[i] = Float(bitPattern: bits)
            }
            tensors[name] = Tensor(shape: shape, scalars: values)
        }
        return (tensors, metadata)
    }
}
