import Foundation

/// Tokens to indices and back (fastai's `Numericalize` and `make_vocab`): the special tokens
/// first (`xxunk` 0, `xxpad` 1, `xxbos` 2, ...), then the tokens seen at least `minFreq` times,
/// most frequent first (ties in order of first appearance), at most `maxVocab` in all, then
/// `xxfake` fillers up to the next multiple of 8 (fastai adds 1 to 8 of them). A token not in the
/// vocabulary is `xxunk`.
public struct TextVocab: Sendable, Equatable {
    /// The tokens, index by index.
    public let tokens: [String]
    private let index: [String: Int]

    /// A vocabulary of exactly `tokens` (a saved one, or a pretrained model's).
    public init(tokens: [String]) {
        self.tokens = tokens
        var index: [String: Int] = [:]
        for (i, token) in tokens.enumerated() where token != "xxfake" && index[token] == nil { index[token] = i }
        self.index = index
    }

    /// The vocabulary of a tokenized corpus, as fastai's `make_vocab`.
    public init(counting documents: [[String]], minFreq: Int = 3, maxVocab: Int = 60_000, specialTokens: [String] = SpecialToken.all) {
        var counts: [String: (count: Int, first: Int)] = [:]
        var seen = 0
        for document in documents {
            for token in document {
                if let entry = counts[token] {
                    counts[token] = (entry.count + 1, entry.first)
                } else {
                    counts[token] = (1, seen)
                    seen += 1
                }
            }
        }
        let ranked = counts.sorted { a, b in a.value.count != b.value.count ? a.value.count > b.value.count : a.value.first < b.value.first }
        let special = Set(specialTokens)
        var vocab = specialTokens
        for (token, entry) in ranked.prefix(maxVocab) where entry.count >= minFreq && !special.contains(token) { vocab.append(token) }
        vocab = Array(vocab.prefix(maxVocab))
        vocab += Array(repeating: "xxfake", count: 8 - vocab.count % 8)
        self.init(tokens: vocab)
    }

    /// The number of tokens (a multiple of 8).
    public var count: Int { tokens.count }

    /// The index of `token` (`xxunk`'s, 0, when unknown).
    public func index(of token: String) -> Int { index[token] ?? 0 }

    /// The indices of `tokens`.
    public func encode(_ tokens: [String]) -> [Int] { tokens.map(index(of:)) }

    /// The tokens of `indices` (an index out of range reads as `xxunk`).
    public func decode(_ indices: [Int]) -> [String] { indices.map { $0 >= 0 && $0 < tokens.count ? tokens[$0] : SpecialToken.unknown } }
}
