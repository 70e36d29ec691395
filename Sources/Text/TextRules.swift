import Foundation

// fastai's text rules (`defaults.text_proc_rules`), applied in order before the words are split:
// HTML fixed, repeated characters and words marked, `/`, `#` and `\` spaced, runs of spaces
// collapsed, all-caps and capitalised words lowercased behind a marker, then everything
// lowercased behind `xxbos`. The special tokens say what the rules removed.

/// fastai's special tokens, in the order they open every vocabulary.
public enum SpecialToken {
    /// An unknown word (`xxunk`, index 0).
    public static let unknown = "xxunk"
    /// Padding (`xxpad`, index 1).
    public static let padding = "xxpad"
    /// The beginning of a text (`xxbos`).
    public static let beginning = "xxbos"
    /// The end of a text (`xxeos`).
    public static let end = "xxeos"
    /// A new field of a text made of several columns (`xxfld`).
    public static let field = "xxfld"
    /// A character repeated: `xxrep 4 c` stands for `cccc`.
    public static let repetition = "xxrep"
    /// A word repeated: `xxwrep 3 word` stands for `word word word`.
    public static let wordRepetition = "xxwrep"
    /// The next word was in capitals.
    public static let upper = "xxup"
    /// The next word was capitalised.
    public static let major = "xxmaj"
    /// All of them, in fastai's order (`defaults.text_spec_tok`).
    public static let all = [unknown, padding, beginning, end, field, repetition, wordRepetition, upper, major]
}

/// One of fastai's text rules: a function from text to text.
public typealias TextRule = @Sendable (String) -> String

/// fastai's rules by name, and `defaults`, their order.
public enum TextRules {
    /// fastai's `defaults.text_proc_rules`, in order.
    public static let defaults: [TextRule] = [
        fixHTML, replaceRepetitions, replaceWordRepetitions, spaceSpecialCharacters, removeUselessSpaces, replaceAllCaps,
        replaceCapitalised, { lowercase($0) },
    ]

    /// Various messy things seen in documents (fastai's `fix_html`): `<br />` as newlines,
    /// escaped quotes and entities, `...` as ` …`, then HTML entities unescaped.
    public static let fixHTML: TextRule = { text in
        var x = text
        for (from, to) in [
            ("#39;", "'"), ("amp;", "&"), ("#146;", "'"), ("nbsp;", " "), ("#36;", "$"), ("\\n", "\n"), ("quot;", "'"),
            ("<br />", "\n"), ("\\\"", "\""), ("<unk>", SpecialToken.unknown), (" @.@ ", "."), (" @-@ ", "-"), ("...", " …"),
        ] where x.contains(from) {
            x = x.replacingOccurrences(of: from, with: to)
        }
        return HTMLEntities.unescape(x)
    }

    /// `cccc` becomes ` xxrep 4 c ` (fastai's `replace_rep`; three or more of any non-space).
    public static let replaceRepetitions: TextRule = { text in
        Patterns.repetition.replacing(in: text) { groups in " \(SpecialToken.repetition) \(groups[2].unicodeScalars.count + 1) \(groups[1]) " }
    }

    /// `word word word` becomes ` xxwrep 3 word ` (fastai's `replace_wrep`).
    public static let replaceWordRepetitions: TextRule = { text in
        Patterns.wordRepetition.replacing(in: text) { groups in
            let repeats = groups[2].split(whereSeparator: \.isWhitespace).count + 2
            return " \(SpecialToken.wordRepetition) \(repeats) \(groups[1]) \(groups[3])"
        }
    }

    /// Spaces around `/`, `#` and `\` (fastai's `spec_add_spaces`).
    public static let spaceSpecialCharacters: TextRule = { text in
        Patterns.special.replacing(in: text) { groups in " \(groups[1]) " }
    }

    /// Runs of two or more spaces become one (fastai's `rm_useless_spaces`).
    public static let removeUselessSpaces: TextRule = { text in
        Patterns.spaces.replacing(in: text) { _ in " " }
    }

    /// Words in capitals become `xxup word` (fastai's `replace_all_caps`; a single capital is
    /// only lowercased).
    public static let replaceAllCaps: TextRule = { text in
        Patterns.allCaps.replacing(in: text) { groups in
            groups[1] + (groups[2].unicodeScalars.count > 1 ? "\(SpecialToken.upper) " : "") + groups[2].lowercased()
        }
    }

    /// Capitalised words become `xxmaj word` (fastai's `replace_maj`).
    public static let replaceCapitalised: TextRule = { text in
        Patterns.capitalised.replacing(in: text) { groups in
            groups[1] + (groups[2].unicodeScalars.count > 1 ? "\(SpecialToken.major) " : "") + groups[2].lowercased()
        }
    }

    /// Lowercased and trimmed, after `xxbos ` (and before ` xxeos` when `addEnd`): fastai's `lowercase`.
    public static func lowercase(_ text: String, addBeginning: Bool = true, addEnd: Bool = false) -> String {
        (addBeginning ? "\(SpecialToken.beginning) " : "") + text.lowercased().trimmingCharacters(in: .whitespacesAndNewlines)
            + (addEnd ? " \(SpecialToken.end)" : "")
    }
}

/// The rules' regular expressions (the same as fastai's), compiled once.
enum Patterns {
    static let repetition = Regex(#"(\S)(\1{2,})"#)
    static let wordRepetition = Regex(#"(?:\s|^)(\w+)\s+((?:\1\s+)+)\1(\s|\W|$)"#)
    static let special = Regex(#"([/#\\])"#)
    static let spaces = Regex(" {2,}")
    static let allCaps = Regex(#"(\s|^)([A-Z]+[^a-z\s]*)(?=(\s|$))"#)
    static let capitalised = Regex(#"(\s|^)([A-Z][^A-Z\s]*)(?=(\s|$))"#)

    /// A compiled expression whose matches are replaced by a function of their groups.
    struct Regex: @unchecked Sendable {
        // NSRegularExpression is immutable and documented as safe to share between threads.
        let expression: NSRegularExpression

        init(_ pattern: String) {
            do {
                expression = try NSRegularExpression(pattern: pattern)
            } catch {
                fatalError("text rule pattern \(pattern) does not compile: \(error)")
            }
        }

        /// `text` with each match replaced by `replacement(groups)`: group 0 is the match, an
        /// unmatched group is "".
        func replacing(in text: String, _ replacement: ([String]) -> String) -> String {
            let ns = text as NSString
            let matches = expression.matches(in: text, range: NSRange(location: 0, length: ns.length))
            guard !matches.isEmpty else { return text }
            var out = ""
            var last = 0
            for match in matches {
                out += ns.substring(with: NSRange(location: last, length: match.range.location - last))
                let groups = (0..<match.numberOfRanges).map { i -> String in
                    let range = match.range(at: i)
                    return range.location == NSNotFound ? "" : ns.substring(with: range)
                }
                out += replacement(groups)
                last = match.range.location + match.range.length
            }
            return out + ns.substring(from: last)
        }
    }
}

/// HTML character references (Python's `html.unescape` for the entities text meets).
enum HTMLEntities {
    static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}", "copy": "©", "reg": "®", "trade": "™",
        "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "laquo": "«",
        "raquo": "»", "eacute": "é", "egrave": "è", "agrave": "à", "aacute": "á", "ccedil": "ç", "ouml": "ö", "uuml": "ü",
        "auml": "ä", "szlig": "ß", "euro": "€", "pound": "£", "yen": "¥", "cent": "¢", "deg": "°", "middot": "·", "times": "×",
        "divide": "÷", "bull": "•", "sect": "§", "para": "¶", "iexcl": "¡", "iquest": "¿", "ntilde": "ñ", "oacute": "ó",
        "iacute": "í", "uacute": "ú",
    ]

    /// `text` with `&name;`, `&#NNN;` and `&#xHH;` replaced by their characters.
    static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semi = after.prefix(32).firstIndex(of: ";"), let value = character(of: after[..<semi]) {
                out += value
                rest = after[after.index(after: semi)...]
            } else {
                out += "&"
                rest = after
            }
        }
        return out + rest
    }

    private static func character(of reference: Substring) -> String? {
        if reference.hasPrefix("#") {
            let digits = reference.dropFirst()
            let code = digits.lowercased().hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            return code.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
        }
        return named[String(reference)]
    }
}
