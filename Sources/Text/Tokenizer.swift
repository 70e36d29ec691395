import Codecs
import Dispatch
import Foundation

/// fastai's `Tokenizer`: the text rules, then the word tokenizer, then spaces inside tokens
/// shown as `▁` (`replace_space`). Tokenizing many texts runs on every core, and the result can
/// be cached on disk keyed by the texts themselves.
///
///     let tok = Tokenizer()
///     tok("I liked this movie!")      // ["xxbos", "i", "liked", "this", "movie", "!"]
public struct Tokenizer: Sendable {
    /// The rules applied to each text before it is split (fastai's `defaults.text_proc_rules`).
    public let rules: [TextRule]
    /// What splits a text into tokens.
    public let words: WordTokenizer

    /// A tokenizer with `rules` (fastai's by default) and `words`.
    public init(rules: [TextRule] = TextRules.defaults, words: WordTokenizer = WordTokenizer()) {
        self.rules = rules
        self.words = words
    }

    /// The tokens of one text (fastai's `tokenize1`).
    public func callAsFunction(_ text: String) -> [String] {
        let prepared = rules.reduce(text) { $1($0) }
        return words(prepared).map { $0.contains(" ") ? $0.replacingOccurrences(of: " ", with: "▁") : $0 }
    }

    /// The tokens of every text, in order, tokenized on all cores.
    public func tokenize(_ texts: [String]) -> [[String]] {
        var result = [[String]](repeating: [], count: texts.count)
        let chunks = max(1, min(texts.count, ProcessInfo.processInfo.activeProcessorCount * 4))
        result.withUnsafeMutableBufferPointer { out in
            let shared = UnsafeSendable(out)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let lo = texts.count * chunk / chunks, hi = texts.count * (chunk + 1) / chunks
                for i in lo..<hi { shared.value[i] = self(texts[i]) }
            }
        }
        return result
    }

    /// `tokenize(texts)`, read from `cache` when it holds these texts' tokens, otherwise
    /// computed and written there (a directory made if missing; one file per distinct corpus,
    /// named by the SHA-256 of the texts). A cache that cannot be written is skipped silently:
    /// it only saves time.
    public func tokenize(_ texts: [String], cache: URL?) -> [[String]] {
        // A text holding the cache's separators is never cached (it could not be read back).
        guard let cache, !texts.contains(where: { $0.contains("\u{0}") || $0.contains(TokenCache.separator) }) else { return tokenize(texts) }
        var bytes = Array("fastswift-tokens-v1\u{0}\(rules.count)\u{0}".utf8)
        for text in texts {
            bytes += text.utf8
            bytes.append(0xFF)
        }
        let file = cache.appendingPathComponent(SHA256.hex(bytes) + ".tok")
        if let data = try? Data(contentsOf: file), let cached = TokenCache.decode(data, count: texts.count) { return cached }
        let tokens = tokenize(texts)
        try? FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        try? TokenCache.encode(tokens).write(to: file, options: .atomic)
        return tokens
    }
}

/// A buffer shared by `concurrentPerform`'s iterations, each writing its own elements.
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The cached tokens of a corpus: one line per text, tokens separated by U+0001 (tokens never
/// hold it: the rules leave control characters other than whitespace alone, and a text holding
/// one is tokenized again rather than read back wrongly).
enum TokenCache {
    static let separator: Character = "\u{1}"

    static func encode(_ tokens: [[String]]) -> Data {
        Data(tokens.map { $0.joined(separator: String(separator)) }.joined(separator: "\u{0}").utf8)
    }

    static func decode(_ data: Data, count: Int) -> [[String]]? {
        guard let text = String(data: data, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\u{0}", omittingEmptySubsequences: false)
        guard lines.count == count || (count == 0 && lines == [""]) else { return nil }
        if count == 0 { return [] }
        return lines.map { $0.isEmpty ? [] : $0.split(separator: separator, omittingEmptySubsequences: false).map(String.init) }
    }
}
