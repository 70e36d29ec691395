import Foundation

/// Splits text into words as spaCy's English tokenizer does (fastai's `WordTokenizer`), in our
/// own code: the text is cut at spaces (other whitespace runs become tokens); each piece loses
/// punctuation, quotes, currency and symbols from its front and its end (a `.` only after a
/// digit or lowercase letter, `'s` and units such as `km` after numbers), keeps the contractions
/// and abbreviations of English whole or split as spaCy does (`don't` → `do n't`, `i'm` → `i 'm`,
/// `e.g.` stays), keeps URLs and e-mail addresses whole, and splits what is left at hyphens and
/// ellipses between letters. It works on Unicode scalars, as Python strings do.
///
///     WordTokenizer()("xxbos i did n't expect it.")   // ["xxbos", "i", "did", "n't", "expect", "it", "."]
public struct WordTokenizer: Sendable {
    /// Pieces that are split in a set way, or kept whole, whatever the rules say.
    let specialCases: [String: [String]]

    /// A tokenizer that also keeps `specialTokens` whole (fastai's `xxbos` and the others by default).
    public init(specialTokens: [String] = SpecialToken.all) {
        var cases = EnglishExceptions.table
        for token in specialTokens { cases[token] = [token] }
        specialCases = cases
    }

    /// The tokens of `text`.
    public func callAsFunction(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var tokens: [String] = []
        var start = 0
        var inSpace = scalars.first.map(Self.isSpace) ?? false
        for (i, c) in scalars.enumerated() where Self.isSpace(c) != inSpace {
            if start < i { tokenize(scalars[start..<i], into: &tokens) }
            start = c == " " ? i + 1 : i
            inSpace.toggle()
        }
        if start < scalars.count { tokenize(scalars[start...], into: &tokens) }
        return tokens
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }

    /// One piece between spaces: affixes off, then special cases, URLs and infixes.
    private func tokenize(_ piece: ArraySlice<Unicode.Scalar>, into tokens: inout [String]) {
        if let special = specialCases[String(String.UnicodeScalarView(piece))] {
            tokens += special
            return
        }
        var rest = piece
        var prefixes: [String] = [], suffixes: [String] = []
        var lastCount = -1
        while !rest.isEmpty && rest.count != lastCount {
            if isSpecial(rest) { break }
            lastCount = rest.count
            let pre = Affixes.prefixLength(rest)
            if pre > 0, isSpecial(rest.dropFirst(pre)) {
                prefixes.append(string(rest.prefix(pre)))
                rest = rest.dropFirst(pre)
                break
            }
            let suf = emoticonSuffix(rest.dropFirst(pre)) ?? Affixes.suffixLength(rest.dropFirst(pre))
            if suf > 0, isSpecial(rest.dropLast(suf)) {
                suffixes.append(string(rest.suffix(suf)))
                rest = rest.dropLast(suf)
                break
            }
            if pre > 0 && suf > 0 && pre + suf <= rest.count {
                prefixes.append(string(rest.prefix(pre)))
                suffixes.append(string(rest.suffix(suf)))
                rest = rest.dropFirst(pre).dropLast(suf)
            } else if pre > 0 {
                prefixes.append(string(rest.prefix(pre)))
                rest = rest.dropFirst(pre)
            } else if suf > 0 {
                suffixes.append(string(rest.suffix(suf)))
                rest = rest.dropLast(suf)
            }
            if isSpecial(rest) { break }
        }
        tokens += prefixes
        if !rest.isEmpty {
            let word = string(rest)
            if let special = specialCases[word] {
                tokens += special
            } else if Affixes.isURL(word) {
                tokens.append(word)
            } else {
                var start = rest.startIndex
                for infix in Affixes.infixes(rest) where infix.lowerBound != rest.startIndex {
                    if infix.lowerBound != start { tokens.append(string(rest[start..<infix.lowerBound])) }
                    if !infix.isEmpty { tokens.append(string(rest[infix])) }
                    start = infix.upperBound
                }
                if start < rest.endIndex { tokens.append(string(rest[start...])) }
            }
        }
        tokens += suffixes.reversed()
    }

    /// The length of an emoticon ending `piece` after other text (`word;)` → `word ;)`), as
    /// spaCy's matcher of special cases among affixes splits it.
    private func emoticonSuffix(_ piece: ArraySlice<Unicode.Scalar>) -> Int? {
        for emoticon in EnglishExceptions.emoticons where emoticon.count < piece.count && piece.suffix(emoticon.count).elementsEqual(emoticon) {
            return emoticon.count
        }
        return nil
    }

    private func isSpecial(_ piece: ArraySlice<Unicode.Scalar>) -> Bool {
        !piece.isEmpty && specialCases[string(piece)] != nil
    }

    private func string(_ piece: ArraySlice<Unicode.Scalar>) -> String { String(String.UnicodeScalarView(piece)) }
}

/// spaCy's English prefixes, suffixes and infixes, and its URL match, on Unicode scalars.
enum Affixes {
    /// Single punctuation marks split from either end (spaCy's `LIST_PUNCT`).
    static let punctuation = Set("…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪".unicodeScalars)
    /// Quotes split from either end (spaCy's `LIST_QUOTES`).
    static let quotes = Set("'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉〈〉⟦⟧".unicodeScalars)
    /// Currency signs split from the front, or from the end after a number.
    static let currency = Set("$£€¥฿₽﷼".unicodeScalars).union((0x20A0...0x20BF).compactMap(Unicode.Scalar.init))
    /// Units split from the end of a number (`100km` → `100 km`), longest first.
    static let units: [[Unicode.Scalar]] =
        ("km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft kg g mg µg t lb oz m/s km/h kmh mph hpa pa "
        + "mbar mb kb gb tb % км км² км³ м м² м³ дм дм² дм³ см см² см³ мм мм² мм³ нм кг г мг м/с км/ч кпа па мбар кб мб гб тб")
        .split(separator: " ").map { Array($0.unicodeScalars) }.sorted { $0.count > $1.count }
    static let hyphens: [[Unicode.Scalar]] = ["-", "–", "—", "--", "---", "——", "~"].map { Array($0.unicodeScalars) }

    /// A symbol such as an emoji or a dingbat (Unicode's "other symbol", but not `°`).
    static func isIcon(_ c: Unicode.Scalar) -> Bool { c.properties.generalCategory == .otherSymbol && c != "°" }
    static func isAlpha(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic && !c.properties.isWhitespace }
    /// Lowercase, or a letter of a script without case.
    static func isLowerAlpha(_ c: Unicode.Scalar) -> Bool { isAlpha(c) && !c.properties.isUppercase }
    static func isUpperAlpha(_ c: Unicode.Scalar) -> Bool { isAlpha(c) && !c.properties.isLowercase }
    static func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }

    /// The length of the prefix spaCy splits from the front of `s` (0: none).
    static func prefixLength(_ s: ArraySlice<Unicode.Scalar>) -> Int {
        guard let first = s.first else { return 0 }
        if "§%=—–".unicodeScalars.contains(first) { return 1 }
        if first == "+" {
            let next = s.dropFirst().first
            return next.map(isDigit) == true ? 0 : 1
        }
        if punctuation.contains(first) { return 1 }
        if first == "." {
            let dots = s.prefix { $0 == "." }.count
            return dots >= 2 ? dots : 0
        }
        if quotes.contains(first) || currency.contains(first) || isIcon(first) { return 1 }
        return 0
    }

    /// The length of the suffix spaCy splits from the end of `s` (0: none): the longest of the
    /// endings its rules allow, as its search finds the leftmost.
    static func suffixLength(_ s: ArraySlice<Unicode.Scalar>) -> Int {
        guard let last = s.last else { return 0 }
        let n = s.count
        let before: Unicode.Scalar? = n >= 2 ? s[s.endIndex - 2] : nil
        var best = 0
        if last == "." {
            let dots = s.reversed().prefix { $0 == "." }.count
            if dots >= 2 { best = dots }
        }
        // 's and its curly form.
        if n >= 2, last == "s" || last == "S", before == "'" || before == "’" { best = max(best, 2) }
        // Units and currency after a number.
        for unit in units where unit.count < n && best < unit.count && s.suffix(unit.count).elementsEqual(unit) {
            if isDigit(s[s.endIndex - unit.count - 1]) { best = unit.count }
        }
        if best == 0 {
            if punctuation.contains(last) || quotes.contains(last) || isIcon(last) || last == "—" || last == "–" { return 1 }
            if let before, isDigit(before), last == "+" || currency.contains(last) { return 1 }
            if last == ".", let before {
                let upperPair = n >= 3 && isUpperAlpha(before) && isUpperAlpha(s[s.endIndex - 3])
                if isDigit(before) || isLowerAlpha(before) || "%²-+".unicodeScalars.contains(before) || punctuation.contains(before)
                    || quotes.contains(before) || upperPair
                {
                    return 1
                }
            }
        }
        return best
    }

    /// The infixes of `s` (ranges of its indices; spaCy's `finditer` order, non-overlapping).
    static func infixes(_ s: ArraySlice<Unicode.Scalar>) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var i = s.startIndex
        while i < s.endIndex {
            if let length = infixLength(s, at: i) {
                result.append(i..<i + length)
                i += max(length, 1)
            } else {
                i += 1
            }
        }
        return result
    }

    private static func infixLength(_ s: ArraySlice<Unicode.Scalar>, at i: Int) -> Int? {
        let c = s[i]
        let previous: Unicode.Scalar? = i > s.startIndex ? s[i - 1] : nil
        func next(_ k: Int) -> Unicode.Scalar? { i + k < s.endIndex ? s[i + k] : nil }
        if c == "." {
            let dots = s[i...].prefix { $0 == "." }.count
            if dots >= 2 { return dots }
        }
        if c == "…" || isIcon(c) { return 1 }
        if let previous, isDigit(previous), "+-*^".unicodeScalars.contains(c), let n = next(1), isDigit(n) || n == "-" { return 1 }
        if c == ".", let previous, let n = next(1), isLowerAlpha(previous) || quotes.contains(previous), isUpperAlpha(n) || quotes.contains(n) {
            return 1
        }
        if c == ",", let previous, let n = next(1), isAlpha(previous), isAlpha(n) { return 1 }
        if let previous, isAlpha(previous) {
            for hyphen in hyphens where s[i...].starts(with: hyphen) {
                if let n = next(hyphen.count), isAlpha(n) { return hyphen.count }
            }
        }
        if ":<>=/".unicodeScalars.contains(c), let previous, isAlpha(previous) || isDigit(previous), let n = next(1), isAlpha(n) { return 1 }
        return nil
    }

    /// Whether `word` is a URL or an e-mail address (spaCy's `URL_MATCH`, written again).
    static func isURL(_ word: String) -> Bool {
        let ns = word as NSString
        return url.firstMatch(in: word, range: NSRange(location: 0, length: ns.length)) != nil
    }

    private static let url: NSRegularExpression = {
        let host = #"[A-Za-z0-9\x{a1}-\x{ffff}]"#
        let pattern =
            #"^(?:[\w\+\-\.]{2,}://)?(?:\S+(?::\S*)?@)?(?:(?:(?:"# + host + #"[A-Za-z0-9\x{a1}-\x{ffff}_-]{0,62})?"# + host
            + #"\.)+(?:[a-z\x{df}-\x{ff}\x{100}-\x{24f}]{2,63}))(?::\d{2,5})?(?:[/?#]\S*)?$"#
        do {
            return try NSRegularExpression(pattern: pattern)
        } catch {
            fatalError("the URL pattern does not compile: \(error)")
        }
    }()
}

/// English contractions and abbreviations, lowercase (fastai lowercases before splitting), with
/// their straight and curly apostrophes: how spaCy's English exceptions split them.
enum EnglishExceptions {
    /// Emoticons kept whole, longest first (also split whole from the end of a word).
    static let emoticonTexts = [":-)", ":-(", ";-)", ":-p", ":-/", "^_^", "-_-", ":)", ":(", ";)", ":p", ":d", "<3", ":/"]
    static let emoticons = emoticonTexts.map { Array($0.unicodeScalars) }

    static let table: [String: [String]] = {
        var t: [String: [String]] = [:]
        func add(_ key: String, _ parts: [String]) {
            t[key] = parts
            if key.contains("'") {
                t[key.replacingOccurrences(of: "'", with: "’")] = parts.map { $0.replacingOccurrences(of: "'", with: "’") }
            }
        }
        for keep in [
            " ", "\t", "\n", "\\t", "\\n", "\u{2014}", "\u{00A0}", "'", "''", "c++", "a.m.", "p.m.", "e.g.", "i.e.", "vs.", "v.s.",
            "co.", "'s", "'d", "'em", "'ll", "'re", "'bout", "'cause", "'cos", "'coz", "'cuz", "'nuff", "ma'am", "o'clock", "ol'",
            "goin'", "doin'", "havin'", "lovin'", "nothin'", "nuthin'", "somethin'", "and/or",
        ] {
            add(keep, [keep])
        }
        for emoticon in emoticonTexts { add(emoticon, [emoticon]) }
        for letter in "abcdefghijklmnopqrstuvwxyz" { add("\(letter).", ["\(letter)."]) }
        for hour in 1...12 {
            for suffix in ["am", "pm", "a.m.", "p.m."] { add("\(hour)\(suffix)", ["\(hour)", suffix]) }
        }
        let pronouns = ["i", "you", "he", "she", "it", "we", "they"]
        for p in pronouns {
            add("\(p)'d", [p, "'d"])
            add("\(p)'d've", [p, "'d", "'ve"])
            add("\(p)'ll", [p, "'ll"])
            add("\(p)'ll've", [p, "'ll", "'ve"])
        }
        add("i'm", ["i", "'m"])
        add("i'ma", ["i", "'m", "a"])
        add("im", ["i", "m"])
        for p in ["i", "you", "we", "they"] {
            add("\(p)'ve", [p, "'ve"])
            add("\(p)ve", [p, "ve"])
        }
        for p in ["you", "we", "they"] { add("\(p)'re", [p, "'re"]) }
        for p in ["you", "they"] { add("\(p)re", [p, "re"]) }
        for p in ["i", "you", "he", "it", "we", "they"] { add("\(p)d", [p, "d"]) }
        for p in ["you", "it", "they"] { add("\(p)ll", [p, "ll"]) }
        for p in ["he", "she"] { add("\(p)s", [p, "s"]) }
        for w in ["who", "what", "when", "where", "why", "how", "there", "that"] {
            for ending in ["'d", "'ll", "'re", "'ve"] { add(w + ending, [w, ending]) }
            add(w + "s", [w, "s"])
        }
        for (word, parts) in [
            ("whod", ["who", "d"]), ("wholl", ["who", "ll"]), ("whatre", ["what", "re"]), ("whove", ["who", "ve"]), ("thered", ["there", "d"]),
        ] {
            add(word, parts)
        }
        for verb in [
            "ai", "are", "ca", "could", "dare", "did", "does", "do", "had", "has", "have", "is", "may", "might", "must", "need",
            "ought", "sha", "should", "was", "were", "wo", "would",
        ] {
            add("\(verb)n't", [verb, "n't"])
            add("\(verb)n't've", [verb, "n't", "'ve"])
            add("\(verb)nt", [verb, "nt"])
            add("\(verb)ntve", [verb, "nt", "ve"])
        }
        for modal in ["could", "would", "should", "might", "must", "not"] {
            add("\(modal)'ve", [modal, "'ve"])
            add("\(modal)ve", [modal, "ve"])
        }
        add("gonna", ["gon", "na"])
        add("gotta", ["got", "ta"])
        add("cannot", ["can", "not"])
        add("y'all", ["y'", "all"])
        add("yall", ["y", "all"])
        add("c'mon", ["c'm", "on"])
        return t
    }()
}
