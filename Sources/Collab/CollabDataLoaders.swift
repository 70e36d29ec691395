import DataBlocks
import Foundation
import Tensors

/// fastai's `CollabDataLoaders`: (user, item, rating) rows in batches of `(inputs [N, 2], ratings
/// [N])`, each input row the user's and the item's index in `users` and `items` (fastai's
/// `Categorify`: the training rows' values sorted, `#na#` at 0 for one never seen in training).
///
///     let ratings = try DataFrame.readCSV(path.appendingPathComponent("ratings.csv"))
///     let dls = try CollabDataLoaders.fromDF(ratings, itemName: "title", batchSize: 64)
public final class CollabDataLoaders: DataLoaders<(Tensor, Tensor)> {
    /// The users and the items by index (`#na#` first).
    public let users: [String], items: [String]
    /// The columns the users, items and ratings came from.
    public let userName: String, itemName: String, ratingName: String

    init(
        users: [String], items: [String], names: (String, String, String), train: DataLoader<(Tensor, Tensor)>,
        valid: DataLoader<(Tensor, Tensor)>
    ) {
        self.users = users
        self.items = items
        (userName, itemName, ratingName) = names
        super.init(train, valid)
    }

    /// Loaders over rating rows (fastai's `CollabDataLoaders.from_df`): the user, item and
    /// rating columns are the first three unless named; a random `validPct` of the rows (with
    /// `seed`) is held out. Throws naming the row for a missing rating or one that is not a
    /// number, and the column for one that does not exist.
    public static func fromDF(
        _ ratings: DataFrame, validPct: Double = 0.2, userName: String? = nil, itemName: String? = nil, ratingName: String? = nil,
        seed: UInt64? = nil, batchSize: Int = 64, source: String = "ratings"
    ) throws -> CollabDataLoaders {
        let names = ratings.columnNames
        guard userName != nil && itemName != nil && ratingName != nil || names.count >= 3 else {
            throw DataError(source, "the table has \(names.count) column(s); name the user, item and rating columns")
        }
        let (userColumn, itemColumn, ratingColumn) = (userName ?? names[0], itemName ?? names[1], ratingName ?? names[2])
        guard batchSize > 0 else { throw DataError(source, "batchSize must be positive, got \(batchSize)") }
        guard ratings.rowCount >= 2 else { throw DataError(source, "\(ratings.rowCount) rating(s): too few to split for training and validation") }
        let user = try ratings.column(userColumn), item = try ratings.column(itemColumn), rating = try ratings.column(ratingColumn)
        let (trainIndex, validIndex) = try RandomSplitter(validPct: validPct, seed: seed).split(Array(0..<ratings.rowCount))
        let users = ["#na#"] + user.rows(trainIndex).sortedUniqueTexts, items = ["#na#"] + item.rows(trainIndex).sortedUniqueTexts
        let userIndex = Dictionary(users.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let itemIndex = Dictionary(items.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        func tensors(_ rows: [Int]) throws -> (Tensor, Tensor) {
            var x = [Float](), y = [Float]()
            x.reserveCapacity(rows.count * 2)
            y.reserveCapacity(rows.count)
            for r in rows {
                guard let value = rating.number(r) ?? rating.text(r).flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) else {
                    throw DataError(source, "row \(r + 1), column '\(ratingColumn)': '\(rating.text(r) ?? "")' is not a rating (a number)")
                }
                x.append(Float(user.text(r).flatMap { userIndex[$0] } ?? 0))
                x.append(Float(item.text(r).flatMap { itemIndex[$0] } ?? 0))
                y.append(Float(value))
            }
            return (Tensor(shape: [rows.count, 2], scalars: x), Tensor(y))
        }
        let (trainX, trainY) = try tensors(trainIndex), (validX, validY) = try tensors(validIndex)
        let train = try DataLoader(TensorDataset(trainX, trainY), batchSize: batchSize, shuffle: true, dropLast: true)
        let valid = try DataLoader(TensorDataset(validX, validY), batchSize: batchSize)
        return CollabDataLoaders(users: users, items: items, names: (userColumn, itemColumn, ratingColumn), train: train, valid: valid)
    }

    /// Loaders over the rating rows of a CSV file (fastai's `from_csv`); the rest as `fromDF`.
    public static func fromCSV(
        _ file: URL, validPct: Double = 0.2, userName: String? = nil, itemName: String? = nil, ratingName: String? = nil,
        seed: UInt64? = nil, batchSize: Int = 64
    ) throws -> CollabDataLoaders {
        try fromDF(
            try DataFrame.readCSV(file), validPct: validPct, userName: userName, itemName: itemName, ratingName: ratingName, seed: seed,
            batchSize: batchSize, source: file.path)
    }

    /// The first training batch decoded, a row per rating (fastai's `show_batch`).
    @discardableResult
    public func showBatch(maxRows: Int = 10) -> String {
        let (x, y) = oneBatch()
        let n = min(maxRows, x.shape[0]), values = x.scalars, ratings = y.scalars
        var lines = ["\(userName)\t\(itemName)\t\(ratingName)"]
        for i in 0..<n {
            lines.append("\(users[Int(values[2 * i])])\t\(items[Int(values[2 * i + 1])])\t\(String(format: "%g", ratings[i]))")
        }
        let text = lines.joined(separator: "\n")
        print(text)
        return text
    }
}

/// MovieLens's ratings file `u.data` (tab-separated `user item rating timestamp`, no header) as
/// a table with the columns `user`, `movie`, `rating` and `timestamp`, as chapter 8 reads it.
/// Throws naming the line of a malformed row.
public func readMovieLensRatings(_ file: URL) throws -> DataFrame {
    let text: String
    do { text = try String(contentsOf: file, encoding: .utf8) } catch {
        throw DataError(file.path, "cannot read the file: \(error.localizedDescription)")
    }
    var users: [Int?] = [], movies: [Int?] = [], ratings: [Int?] = [], times: [Int?] = []
    for (i, line) in text.split(whereSeparator: \.isNewline).enumerated() {
        let fields = line.split(separator: "\t").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard fields.count == 4, fields.allSatisfy({ $0 != nil }) else {
            throw DataError(file.path, "line \(i + 1) is not four tab-separated whole numbers (user, item, rating, timestamp)")
        }
        users.append(fields[0]); movies.append(fields[1]); ratings.append(fields[2]); times.append(fields[3])
    }
    return try DataFrame([("user", .integers(users)), ("movie", .integers(movies)), ("rating", .integers(ratings)), ("timestamp", .integers(times))])
}
