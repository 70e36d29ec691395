// collab: fastai's chapter 8, collaborative filtering: a dot product of user and item factors
// plus biases (EmbeddingDotBias), trained on ratings; then what the item biases learned.
//
//     swift run -c release collab                         # the bundled ratings (from a known low-rank model)
//     swift run -c release collab --movielens ml-100k     # MovieLens 100k: u.data (and u.item for the titles)
import FastSwift
import Foundation
import RecipeKit

let args = Arguments(
    valued: ["data", "movielens", "factors", "epochs", "lr", "wd", "bs", "seed"],
    flags: ["nn"],
    usage: """
        usage: collab [--data FILE.csv | --movielens DIR] [--factors N] [--epochs N] [--lr X] [--wd X] [--bs N] [--nn] [--seed N]
          --data FILE      a CSV of user, item, rating rows (a header row); default: the bundled ratings
          --movielens DIR  MovieLens's folder: u.data (user, movie, rating, timestamp), and u.item for the titles
          --nn             fastai's EmbeddingNN instead of the dot product
        """)

runRecipe {
    seed(UInt64(args.int("seed", default: 42)))
    let start = Date()
    var ratings: DataFrame
    if let folder = args.string("movielens").map({ URL(fileURLWithPath: $0, isDirectory: true) }) {
        // fastai: ratings = pd.read_csv(path/'u.data', delimiter='\t', header=None, names=['user','movie','rating','timestamp'])
        ratings = try readMovieLensRatings(folder.appendingPathComponent("u.data"))
        ratings.removeColumn("timestamp")
        ratings = try withTitles(ratings, folder.appendingPathComponent("u.item"))
    } else {
        ratings = try DataFrame.readCSV(args.string("data").map { URL(fileURLWithPath: $0) } ?? BundledData.ratings)
    }
    print(ratings)
    // fastai: dls = CollabDataLoaders.from_df(ratings, item_name='title', bs=64)
    let movieLens = ratings.columnNames.contains("title")
    let dls = try CollabDataLoaders.fromDF(
        ratings, userName: movieLens ? "user" : nil, itemName: movieLens ? "title" : nil, ratingName: movieLens ? "rating" : nil,
        batchSize: args.int("bs", default: 64))
    dls.showBatch(maxRows: 5)
    // fastai: learn = collab_learner(dls, n_factors=50, y_range=(0, 5.5)); learn.fit_one_cycle(5, 5e-3, wd=0.1)
    let learn = collabLearner(dls, nFactors: args.int("factors", default: 50), useNN: args.flag("nn"), layers: [100], yRange: 0...5.5)
    try learn.fitOneCycle(epochs: args.int("epochs", default: 5), lrMax: args.float("lr", default: 5e-3), wd: args.float("wd", default: 0.1))

    // fastai: movie_bias = learn.model.i_bias.weight.squeeze(); idxs = movie_bias.argsort(descending=True)[:5]
    if let model = learn.embeddingDotBias {
        let items = Array(dls.items.dropFirst())
        let biases = try model.bias(items).scalars
        let ranked = items.indices.sorted { biases[$0] > biases[$1] }
        print("highest item biases: \(ranked.prefix(5).map { "\(items[$0]) (\(String(format: "%.2f", biases[$0])))" }.joined(separator: ", "))")
        print("lowest item biases:  \(ranked.suffix(5).reversed().map { "\(items[$0]) (\(String(format: "%.2f", biases[$0])))" }.joined(separator: ", "))")
    }
    let final = learn.recorder.values.last ?? []
    print(String(format: "final validation MSE: %.4f (%.1fs in all)", final.count > 1 ? final[1] : 0, seconds(since: start)))
}

/// The ratings with each movie's title from MovieLens's `u.item` (`id|title|...`, Latin-1), as chapter 8 merges them.
func withTitles(_ ratings: DataFrame, _ file: URL) throws -> DataFrame {
    guard let data = FileManager.default.contents(atPath: file.path), let text = String(data: data, encoding: .isoLatin1) else { return ratings }
    var titles: [Int: String] = [:]
    for line in text.split(whereSeparator: \.isNewline) {
        let fields = line.split(separator: "|", omittingEmptySubsequences: false)
        if fields.count > 1, let id = Int(fields[0]) { titles[id] = String(fields[1]) }
    }
    guard case .integers(let movies) = try ratings.column("movie") else { return ratings }
    var result = ratings
    try result.setColumn("title", .strings(movies.map { $0.flatMap { titles[$0] } }))
    result.removeColumn("movie")
    return result
}
