import Codecs
import Foundation
import Tensors
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A dataset archive FastSwift knows how to fetch, fastai's `URLs.*`.
public struct DatasetArchive: Sendable {
    /// Where the archive is published.
    public let url: URL
    /// The SHA-256 of the archive, checked after download (nil: not checked).
    public let sha256: String?
    /// The folder the archive unpacks to.
    public let folder: String

    public init(url: URL, sha256: String?, folder: String) {
        self.url = url
        self.sha256 = sha256
        self.folder = folder
    }

    /// The archive's file name (`mnist_png.tgz`).
    public var fileName: String { url.lastPathComponent }

    /// The full MNIST database as PNGs in `training/<digit>` and `testing/<digit>` (fastai's `URLs.MNIST`).
    public static let mnist = DatasetArchive(
        url: URL(string: "https://s3.amazonaws.com/fast-ai-imageclas/mnist_png.tgz")!,
        sha256: "6ddfcec708e986dcd4507fa09c497886a0b8856b04a094be31f027ee54b7a6af",
        folder: "mnist_png")
    /// 3s and 7s in `train/` and `valid/`, with `labels.csv` (fastai's `URLs.MNIST_SAMPLE`).
    public static let mnistSample = DatasetArchive(
        url: URL(string: "https://s3.amazonaws.com/fast-ai-sample/mnist_sample.tgz")!,
        sha256: nil, folder: "mnist_sample")
    /// A tiny 3s-and-7s set (fastai's `URLs.MNIST_TINY`).
    public static let mnistTiny = DatasetArchive(
        url: URL(string: "https://s3.amazonaws.com/fast-ai-sample/mnist_tiny.tgz")!,
        sha256: nil, folder: "mnist_tiny")
}

/// FastSwift's cache: `$FASTSWIFT_HOME`, or `~/.fastswift`, holding `archive/` (downloaded
/// archives) and `data/` (their unpacked folders).
public enum DataCache {
    public static var root: URL {
        if let home = ProcessInfo.processInfo.environment["FASTSWIFT_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".fastswift", isDirectory: true)
    }
}

/// The unpacked folder of `archive`, fetching and unpacking it first if needed (fastai's
/// `untar_data`): looks in `cache/data/<folder>`; else unpacks `cache/archive/<file>`, after
/// checking its SHA-256; else downloads it there with a progress bar. Unpacking goes to a
/// temporary folder that is renamed at the end, so a crash never leaves half a dataset.
///
/// Where no download is possible it throws an error naming the URL and exactly where to put
/// the archive by hand.
public func untarData(_ archive: DatasetArchive, cache: URL = DataCache.root, download: Bool = true) throws -> URL {
    let fm = FileManager.default
    let dataFolder = cache.appendingPathComponent("data", isDirectory: true)
    let archiveFolder = cache.appendingPathComponent("archive", isDirectory: true)
    let destination = dataFolder.appendingPathComponent(archive.folder, isDirectory: true)
    if fm.fileExists(atPath: destination.path) { return destination }
    try fm.createDirectory(at: dataFolder, withIntermediateDirectories: true)
    try fm.createDirectory(at: archiveFolder, withIntermediateDirectories: true)
    let archiveFile = archiveFolder.appendingPathComponent(archive.fileName)
    if !fm.fileExists(atPath: archiveFile.path) {
        let manual = "place \(archive.fileName) (from \(archive.url.absoluteString)) at \(archiveFile.path) and run again"
        guard download else { throw DataError(archiveFile.path, "the archive is missing and downloading is off: \(manual)") }
        do {
            try downloadFile(archive.url, to: archiveFile)
        } catch {
            throw DataError(archive.url.absoluteString, "could not download (\(error.localizedDescription)); \(manual)")
        }
    }
    let bytes = try readFileBytes(archiveFile)
    if let expected = archive.sha256 {
        let actual = SHA256.hex(bytes)
        guard actual == expected else {
            throw DataError(archiveFile.path, "SHA-256 is \(actual), expected \(expected): the file is corrupt or incomplete; delete it and run again")
        }
    }
    try unpack(bytes, source: archiveFile.path, into: dataFolder, folder: archive.folder)
    return destination
}

/// Unpacks a .tgz (or .tar) into `parent/folder` through a temporary folder and a rename.
func unpack(_ bytes: [UInt8], source: String, into parent: URL, folder: String) throws {
    let fm = FileManager.default
    let tarBytes = bytes.starts(with: [0x1F, 0x8B]) ? try GZip.decompress(bytes, source: source) : bytes
    let temporary = parent.appendingPathComponent(".\(folder).\(UUID().uuidString).partial", isDirectory: true)
    try fm.createDirectory(at: temporary, withIntermediateDirectories: true)
    defer { try? fm.removeItem(at: temporary) }
    for entry in try Tar.entries(tarBytes, source: source) {
        let parts = entry.path.split(separator: "/").filter { $0 != "." }
        guard !entry.path.hasPrefix("/"), !parts.contains("..") else {
            throw DataError(source, "unsafe path '\(entry.path)' in the archive (absolute or with ..)")
        }
        let target = parts.reduce(temporary) { $0.appendingPathComponent(String($1)) }
        switch entry.kind {
        case .directory: try fm.createDirectory(at: target, withIntermediateDirectories: true)
        case .file:
            try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(entry.contents).write(to: target)
        case .other: continue
        }
    }
    // Archives usually hold one top folder named like the dataset; otherwise the members are it.
    let inner = temporary.appendingPathComponent(folder, isDirectory: true)
    let source = fm.fileExists(atPath: inner.path) ? inner : temporary
    try fm.moveItem(at: source, to: parent.appendingPathComponent(folder, isDirectory: true))
}

/// Downloads `url` to `file` (through a temporary name), printing a progress bar.
private func downloadFile(_ url: URL, to file: URL) throws {
    let delegate = DownloadDelegate(name: url.lastPathComponent)
    let session = URLSession(configuration: .default, delegate: delegate, delegateQueue: nil)
    session.dataTask(with: url).resume()
    delegate.done.wait()
    session.finishTasksAndInvalidate()
    if let error = delegate.error { throw error }
    let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).download")
    try delegate.data.write(to: temporary)
    try FileManager.default.moveItem(at: temporary, to: file)
}

private final class DownloadDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let name: String
    let done = DispatchSemaphore(value: 0)
    var data = Data()
    var expected: Int64 = -1
    var error: Error?
    private var lastPercent = -1

    init(name: String) { self.name = name }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            error = DataError(name, "the server answered HTTP \(http.statusCode)")
            completionHandler(.cancel)
            return
        }
        expected = response.expectedContentLength
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive chunk: Data) {
        data.append(chunk)
        guard expected > 0 else { return }
        let percent = Int(Int64(data.count) * 100 / expected)
        if percent != lastPercent {
            lastPercent = percent
            let bar = String(repeating: "█", count: percent / 4) + String(repeating: "·", count: 25 - percent / 4)
            FileHandle.standardError.write(Data("\r\(name) \(bar) \(percent)%".utf8))
            if percent == 100 { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error, self.error == nil { self.error = error }
        done.signal()
    }
}
