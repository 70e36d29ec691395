import Foundation

/// Command-line options of the recipes: `--name value` pairs and `--flag`s, with clear errors.
public struct Arguments {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []
    private let usage: String

    /// Parses `CommandLine.arguments`; `valued` are the options that take a value.
    public init(valued: [String], flags allowedFlags: [String] = [], usage: String) {
        self.usage = usage
        var rest = CommandLine.arguments.dropFirst()
        while let argument = rest.popFirst() {
            if argument == "--help" || argument == "-h" { print(usage); exit(0) }
            let name = String(argument.drop { $0 == "-" })
            if valued.contains(name) {
                guard let value = rest.popFirst() else { Arguments.fail("\(argument) needs a value", usage) }
                values[name] = value
            } else if allowedFlags.contains(name) {
                flags.insert(name)
            } else {
                Arguments.fail("unknown option '\(argument)'", usage)
            }
        }
    }

    public func string(_ name: String) -> String? { values[name] }

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    public func int(_ name: String, default value: Int) -> Int {
        guard let text = values[name] else { return value }
        guard let n = Int(text), n > 0 else { Arguments.fail("--\(name) needs a positive whole number, got '\(text)'", usage) }
        return n
    }

    public func float(_ name: String, default value: Float) -> Float {
        guard let text = values[name] else { return value }
        guard let x = Float(text), x > 0 else { Arguments.fail("--\(name) needs a positive number, got '\(text)'", usage) }
        return x
    }

    static func fail(_ message: String, _ usage: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n\(usage)\n".utf8))
        exit(2)
    }
}

/// Runs `body`, printing a thrown error plainly (what and where) and exiting with status 1.
public func runRecipe(_ body: () throws -> Void) {
    do {
        try body()
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}

/// Seconds since `start`.
public func seconds(since start: Date) -> Double { Date().timeIntervalSince(start) }

/// A recipe's own complaint about its arguments, printed as `error: <message>`.
public struct RecipeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
