import DataBlocks
import Codecs
import Dispatch
import Foundation
import Tensors

/// Images in class folders, fastai's layout: `<root>/<split>/<label>/<image>.png` (or `.jpg`).
public enum ImageFolder {
    /// The labelled images of one split, loaded into memory.
    public struct Split {
        /// `[n, channels, height, width]` in 0...1.
        public let images: Tensor
        /// `[n]` class indices into `classes`.
        public let labels: Tensor
        /// The class names, sorted (the vocab).
        public let classes: [String]
        /// The image files, in the order of `images`.
        public let files: [URL]
    }

    /// Loads every PNG and JPEG of `root/split/<label>/`, decoding on every core. Classes are the sorted
    /// sub-folder names unless `classes` is given (to share a vocab between splits).
    ///
    /// Throws when the split folder is missing or holds no images, when an image cannot be
    /// decoded (naming the file), when a folder is not one of the given `classes`, or when the
    /// images differ in size.
    public static func load(_ root: URL, split: String, classes: [String]? = nil, channels: Int? = nil) throws -> Split {
        let folder = root.appendingPathComponent(split)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError(folder.path, "no such folder: expected the '\(split)' split under \(root.path)")
        }
        let labelFolders = try fm.contentsOfDirectory(atPath: folder.path).filter { name in
            var dir: ObjCBool = false
            return fm.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &dir) && dir.boolValue
        }.sorted()
        let vocab = classes ?? labelFolders
        var files: [(URL, Int)] = []
        for label in labelFolders {
            guard let index = vocab.firstIndex(of: label) else {
                throw DataError(folder.appendingPathComponent(label).path, "label '\(label)' is not in the vocab \(vocab)")
            }
            let dir = folder.appendingPathComponent(label)
            let all = try fm.contentsOfDirectory(atPath: dir.path)
            let names = all.filter { Image.decodableExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted {
                $0.localizedStandardCompare($1) == .orderedAscending
            }
            let others = all.filter { otherImageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            if !others.isEmpty {
                FileHandle.standardError.write(
                    Data("ImageFolder: skipped \(others.count) image(s) in \(dir.path) in formats FastSwift does not decode (it decodes PNG and JPEG)\n".utf8))
            }
            files += names.map { (dir.appendingPathComponent($0), index) }
        }
        guard !files.isEmpty else { throw DataError(folder.path, "no PNG or JPEG images found in the class folders of '\(split)'") }

        let images = try decodeAll(files.map(\.0))
        let first = images[0]
        for (i, image) in images.enumerated() where image.width != first.width || image.height != first.height {
            throw DataError(
                files[i].0.path,
                "image is \(image.width)x\(image.height) but \(files[0].0.lastPathComponent) is \(first.width)x\(first.height); resize them to one size")
        }
        let c = try Image.channels(for: images, wanted: channels, source: folder.path)
        let tensors = images.map { $0.tensor(channels: c) }
        return Split(images: Tensor.stack(tensors), labels: Tensor(files.map { Float($0.1) }), classes: vocab, files: files.map(\.0))
    }
}

extension ImageFolder {
    /// Reads and decodes PNG and JPEG files on every core; throws the first failure, naming its file.
    public static func decodeAll(_ urls: [URL]) throws -> [Image] {
        try decodeAll(urls.map { (try readFileBytes($0), $0.path) })
    }
}

/// One result slot per file, written by the decoding threads (each its own slots).
private final class ResultSlots<Value>: @unchecked Sendable {
    private var slots: [Result<Value, Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Result<Value, Error>) { lock.lock(); slots[i] = value; lock.unlock() }
    /// The results in order, up to and including the first failure.
    func values() -> [Result<Value, Error>] {
        var out: [Result<Value, Error>] = []
        for slot in slots {
            guard let slot else { continue }
            out.append(slot)
            if case .failure = slot { break }
        }
        return out
    }
}

extension ImageFolder {
    /// Every split of an image archive in fastai's layout (`<top>/<split>/<label>/<image>.png`,
    /// as `mnist_png.tgz`), decoded straight from the `.tgz` (or `.tar`) on every core, without
    /// unpacking it to disk. Classes are shared by all splits (the sorted union of label folders).
    public static func loadArchive(_ file: URL, channels: Int? = nil) throws -> [String: Split] {
        let bytes = try readFileBytes(file)
        let tar = bytes.starts(with: [0x1F, 0x8B]) ? try GZip.decompress(bytes, source: file.path) : bytes
        var members: [(split: String, label: String, path: String, contents: ArraySlice<UInt8>)] = []
        for entry in try Tar.entries(tar, source: file.path)
        where entry.kind == .file && Image.decodableExtensions.contains((entry.path as NSString).pathExtension.lowercased()) {
            let parts = entry.path.split(separator: "/")
            guard parts.count >= 3 else { continue }
            members.append((String(parts[parts.count - 3]), String(parts[parts.count - 2]), entry.path, entry.contents))
        }
        guard !members.isEmpty else { throw DataError(file.path, "no PNG or JPEG images in <split>/<label>/ folders inside the archive") }
        let vocab = Set(members.map(\.label)).sorted()
        let images = try decodeAll(members.map { (Array($0.contents), file.path + ":" + $0.path) })
        let c = try Image.channels(for: images, wanted: channels, source: file.path)
        var result: [String: Split] = [:]
        for split in Set(members.map(\.split)) {
            let indices = members.indices.filter { members[$0].split == split }
            let first = images[indices[0]]
            for i in indices where images[i].width != first.width || images[i].height != first.height {
                throw DataError(
                    file.path + ":" + members[i].path, "image is \(images[i].width)x\(images[i].height) but the split's first is \(first.width)x\(first.height)"
                )
            }
            let tensors = indices.map { images[$0].tensor(channels: c) }
            result[split] = Split(
                images: Tensor.stack(tensors), labels: Tensor(indices.map { Float(vocab.firstIndex(of: members[$0].label)!) }),
                classes: vocab, files: indices.map { URL(fileURLWithPath: members[$0].path) })
        }
        return result
    }

    /// Decodes in-memory PNG and JPEG files on every core; throws the first failure, naming its source.
    static func decodeAll(_ files: [(bytes: [UInt8], source: String)]) throws -> [Image] {
        try onEveryCore(files.count) { i in try Image.decode(files[i].bytes, source: files[i].source) }
    }

    /// `work(i)` for every `i` in `0..<count`, on every core (a few runs of consecutive items
    /// per thread), in order; throws the failure of the lowest item that failed (each run stops
    /// at its own first failure).
    static func onEveryCore<Value>(_ count: Int, _ work: @escaping @Sendable (Int) throws -> Value) throws -> [Value] {
        guard count > 0 else { return [] }
        let results = ResultSlots<Value>(count: count)
        let chunks = min(count, Threads.count * 4)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for i in (chunk * count / chunks)..<((chunk + 1) * count / chunks) {
                do {
                    results.set(i, .success(try work(i)))
                } catch {
                    results.set(i, .failure(error))
                    return
                }
            }
        }
        return try results.values().map { try $0.get() }
    }
}
