import Codecs
import Dispatch
import Foundation
import Layers
import Tensors

/// Serves a dataset in batches, as PyTorch's `DataLoader`: optionally shuffled (a new order
/// each pass), optionally dropping the last partial batch, with the next batch prepared on a
/// background thread while the current one is used.
///
///     let dl = DataLoader(0..<15, batchSize: 5, shuffle: true)
///     print(Array(dl))                          // [[3, 12, 8, 10, 2], [9, 4, 7, 14, 5], ...]
///     let train = DataLoader(TensorDataset(x, y), batchSize: 256, shuffle: true)
///     for (xb, yb) in train { ... }             // xb [256, ...], yb [256]
///
/// Each loader owns a random generator derived from the global one when it is made, so
/// `seed(_:)` fixes its orders, and a seeded run gives the same batches with or without
/// prefetching. Passes may be made from several threads at once: each draws its order and
/// seeds from the generator in turn (under a lock) and is then independent of the others.
public final class DataLoader<Batch>: Sequence, @unchecked Sendable {
    /// The number of items.
    public let itemCount: Int
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    /// Whether the next batch is prepared on a background thread.
    public var prefetch: Bool
    private let makeBatch: @Sendable ([Int], UInt64) -> Batch
    private let generator: RandomGenerator
    /// Held while `generator` is drawn from or its state read or set.
    private let generatorLock = NSLock()
    /// Whether each batch gets a seed of its own from the generator (for random transforms).
    private let seedsBatches: Bool

    /// A loader whose batches are built by `makeBatch` from lists of item positions. Throws a
    /// `DataError` when `batchSize` is not positive or `count` is negative.
    ///
    /// - Parameters:
    ///   - count: the number of items (positions `0..<count`).
    ///   - batchSize: items per batch (the last batch may hold fewer).
    ///   - shuffle: a new order of the items on every pass, from `generator`.
    ///   - dropLast: leave out a last batch smaller than `batchSize`.
    ///   - prefetch: build the next batch on a background thread while this one is used.
    ///   - generator: the random generator behind the shuffling (the global one by default).
    ///   - makeBatch: the batch of the given item positions.
    public convenience init(
        count: Int, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false, prefetch: Bool = true,
        generator: RandomGenerator? = nil, makeBatch: @escaping @Sendable ([Int]) -> Batch
    ) throws {
        try self.init(
            count: count, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, prefetch: prefetch, generator: generator,
            seedsBatches: false
        ) { positions, _ in makeBatch(positions) }
    }

    /// A loader whose batches are random (augmented): `makeBatch` gets each batch's item
    /// positions and a seed, drawn from the loader's generator in batch order when a pass
    /// begins, so the same seed gives the same batches with or without prefetching. Throws a
    /// `DataError` when `batchSize` is not positive or `count` is negative.
    public convenience init(
        count: Int, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false, prefetch: Bool = true,
        generator: RandomGenerator? = nil, makeRandomBatch: @escaping @Sendable ([Int], UInt64) -> Batch
    ) throws {
        try self.init(
            count: count, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, prefetch: prefetch, generator: generator,
            seedsBatches: true, makeBatch: makeRandomBatch)
    }

    private init(
        count: Int, batchSize: Int, shuffle: Bool, dropLast: Bool, prefetch: Bool, generator: RandomGenerator?,
        seedsBatches: Bool, makeBatch: @escaping @Sendable ([Int], UInt64) -> Batch
    ) throws {
        guard batchSize > 0 else { throw DataError("DataLoader", "batchSize must be positive, got \(batchSize)") }
        guard count >= 0 else { throw DataError("DataLoader", "the item count must not be negative, got \(count)") }
        itemCount = count
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.prefetch = prefetch
        self.makeBatch = makeBatch
        self.generator = generator ?? RandomGenerator(seed: Random.withGlobal { $0.next() })
        self.seedsBatches = seedsBatches
    }

    /// The state of the generator that shuffles this loader (`RandomGenerator.state`), saved in
    /// checkpoints so a resumed run sees the same order of items.
    public var randomState: [UInt64] {
        get { generatorLock.withLock { generator.state } }
        set { generatorLock.withLock { generator.state = newValue } }
    }

    /// This process's share of every pass when training runs in several processes
    /// (`DistributedDataParallel` sets it): process `rank` of `count` takes every `count`-th item
    /// of the pass's order, starting at `rank`. A loader that drops its last batch (training)
    /// first pads the order by repeating its start, so every process takes the same number of
    /// batches (PyTorch's `DistributedSampler`); one that does not (validation) is split exactly.
    public var shard: (rank: Int, count: Int)?

    /// The items this process takes in one pass.
    private var shardSize: Int {
        guard let (rank, count) = shard, count > 1 else { return itemCount }
        return dropLast ? (itemCount + count - 1) / count : Swift.max(0, (itemCount - rank + count - 1) / count)
    }

    /// The number of batches in one pass (of this process's shard, when sharded).
    public var count: Int { dropLast ? shardSize / batchSize : (shardSize + batchSize - 1) / batchSize }

    /// The item positions of a new pass, in order: shuffled when the loader shuffles, then this
    /// process's shard. The caller holds `generatorLock`.
    private func passOrder() -> [Int] {
        let order = shuffle ? generator.permutation(itemCount) : Array(0..<itemCount)
        guard let (rank, count) = shard, count > 1, !order.isEmpty else { return order }
        let total = dropLast ? shardSize * count : itemCount
        return stride(from: rank, to: total, by: count).map { order[$0 % order.count] }
    }

    /// A loader over the same items and batches with other settings (fastai's `dl.new`): what
    /// `getPreds` iterates (`shuffle: false, dropLast: false`). Its generator starts from this
    /// loader's state, so iterating it leaves this loader's order untouched; it is not sharded
    /// (every process sees every item).
    public func copy(shuffle: Bool? = nil, dropLast: Bool? = nil) throws -> DataLoader {
        let generator = RandomGenerator(seed: 0)
        generator.state = randomState
        let copy = try DataLoader(
            count: itemCount, batchSize: batchSize, shuffle: shuffle ?? self.shuffle, dropLast: dropLast ?? self.dropLast,
            prefetch: prefetch, generator: generator, seedsBatches: seedsBatches, makeBatch: makeBatch)
        return copy
    }

    /// The batch of the given item positions (random transforms seeded with `seed`).
    public func batch(_ positions: [Int], seed: UInt64 = 0) -> Batch { makeBatch(positions, seed) }

    /// The first batch of a new pass (fastai's `one_batch`): shuffled when the loader shuffles.
    public func oneBatch() -> Batch {
        let (order, seed) = generatorLock.withLock { (passOrder(), seedsBatches ? generator.next() : 0) }
        return makeBatch(Array(order.prefix(batchSize)), seed)
    }

    public func makeIterator() -> Iterator {
        let (batches, seeds) = generatorLock.withLock {
            let order = passOrder()
            let batches = (0..<count).map { b in Array(order[(b * batchSize)..<Swift.min((b + 1) * batchSize, order.count)]) }
            return (batches, seedsBatches ? batches.map { _ in generator.next() } : Array(repeating: UInt64(0), count: batches.count))
        }
        return Iterator(batches: batches, seeds: seeds, makeBatch: makeBatch, prefetch: prefetch)
    }

    /// One pass over the batches.
    public final class Iterator: IteratorProtocol, @unchecked Sendable {
        private let batches: [[Int]]
        private let seeds: [UInt64]
        private let makeBatch: @Sendable ([Int], UInt64) -> Batch
        private let prefetch: Bool
        private var position = 0
        private var pending: (DispatchGroup, Box)?

        private final class Box: @unchecked Sendable { var value: Batch? }

        init(batches: [[Int]], seeds: [UInt64], makeBatch: @escaping @Sendable ([Int], UInt64) -> Batch, prefetch: Bool) {
            self.batches = batches
            self.seeds = seeds
            self.makeBatch = makeBatch
            self.prefetch = prefetch
        }

        private func start(_ index: Int) {
            guard prefetch, index < batches.count else { return }
            let group = DispatchGroup(), box = Box(), positions = batches[index], seed = seeds[index], make = makeBatch
            DispatchQueue.global().async(group: group) { box.value = make(positions, seed) }
            pending = (group, box)
        }

        public func next() -> Batch? {
            guard position < batches.count else { return nil }
            defer { position += 1 }
            let batch: Batch
            if let (group, box) = pending {
                group.wait()
                batch = box.value!
                pending = nil
            } else {
                batch = makeBatch(batches[position], seeds[position])
            }
            start(position + 1)
            return batch
        }
    }
}

extension DataLoader {
    /// Batches of a collection's items, as arrays: `DataLoader(0..<15, batchSize: 5, shuffle: true)`
    /// or `DataLoader(Array("abcdefghijklmnopqrstuvwxyz".enumerated()), batchSize: 6, shuffle: true)`.
    public convenience init<C: Collection>(
        _ items: C, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false,
        prefetch: Bool = true, generator: RandomGenerator? = nil
    ) throws
    where Batch == [C.Element] {
        let all = UncheckedItems(Array(items))
        try self.init(
            count: all.items.count, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, prefetch: prefetch,
            generator: generator
        ) { positions in positions.map { all.items[$0] } }
    }

    /// Batches of `(x, y)` tensor pairs, each stacked into a pair of tensors: the seeds'
    /// `DataLoader(list(zip(x, y)), batch_size=256)`.
    public convenience init(
        _ pairs: [(Tensor, Tensor)], batchSize: Int, shuffle: Bool = false, dropLast: Bool = false,
        prefetch: Bool = true, generator: RandomGenerator? = nil
    ) throws where Batch == (Tensor, Tensor) {
        let all = UncheckedItems(pairs)
        try self.init(
            count: pairs.count, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, prefetch: prefetch,
            generator: generator
        ) { positions in
            (Tensor.stack(positions.map { all.items[$0].0 }), Tensor.stack(positions.map { all.items[$0].1 }))
        }
    }

    /// Batches of a `TensorDataset`, gathered straight from its tensors: inputs `[B, ...]` and
    /// targets `[B, ...]` for `B = batchSize` rows (fewer in a last batch). The other parameters
    /// are `init(count:batchSize:shuffle:dropLast:prefetch:generator:makeBatch:)`'s.
    public convenience init(
        _ dataset: TensorDataset, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false,
        prefetch: Bool = true, generator: RandomGenerator? = nil
    ) throws where Batch == (Tensor, Tensor) {
        try self.init(
            count: dataset.count, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, prefetch: prefetch,
            generator: generator
        ) { positions in (dataset.inputs[positions], dataset.targets[positions]) }
    }
}

/// Items shared with the prefetching thread, which only reads them.
private struct UncheckedItems<Element>: @unchecked Sendable {
    let items: [Element]
    init(_ items: [Element]) { self.items = items }
}

/// Inputs and targets held as two tensors whose first axis is the item: the dataset of
/// `DataLoader(TensorDataset(x, y), ...)`, batched by gathering rows.
public struct TensorDataset: Sendable {
    public let inputs: Tensor, targets: Tensor

    /// Throws a `DataError` when the tensors hold different numbers of items.
    public init(_ inputs: Tensor, _ targets: Tensor) throws {
        guard inputs.rank >= 1, targets.rank >= 1, inputs.shape[0] == targets.shape[0] else {
            throw DataError("TensorDataset", "inputs \(inputs.shape) and targets \(targets.shape) must hold the same number of items")
        }
        self.inputs = inputs
        self.targets = targets
    }

    public var count: Int { inputs.shape[0] }

    /// Item `i` as an `(x, y)` pair.
    public subscript(_ i: Int) -> (Tensor, Tensor) { (inputs[i], targets[i]) }
}

/// A training and a validation loader, with the vocab when the targets are categories. An
/// application's loaders subclass it to keep what they know about their items (tabular ones
/// keep the table's preprocessing), as fastai's `TabularDataLoaders` subclass `DataLoaders`.
open class DataLoaders<Batch> {
    public let train: DataLoader<Batch>
    public let valid: DataLoader<Batch>
    /// The category names, index by index, when known.
    public let vocab: [String]?
    /// The batch transforms the loaders apply (their `decode` undoes them for display).
    public let batchTransforms: [BatchTransform]
    /// What the targets are (a `DataBlock`'s target block), when known: how they read as text
    /// and the loss they train with.
    public let targetBlock: (any TargetBlock)?

    /// Loaders from a training and a validation loader; `vocab` names the target classes and
    /// `targetBlock` says what the targets are.
    public init(
        _ train: DataLoader<Batch>, _ valid: DataLoader<Batch>, vocab: [String]? = nil, batchTransforms: [BatchTransform] = [],
        targetBlock: (any TargetBlock)? = nil
    ) {
        self.train = train
        self.valid = valid
        self.vocab = vocab
        self.batchTransforms = batchTransforms
        self.targetBlock = targetBlock
    }

    /// The loss the targets train with (fastai's `dls.loss_func`): the target block's, nil
    /// when the loaders do not know what their targets are.
    public var lossFunction: (any BaseLoss)? { targetBlock?.loss }

    /// One item's target (a row of a batch's targets, or of decoded predictions) as text: the
    /// target block's description, else the vocab's name of a class index.
    public func describeTarget(_ target: Tensor) -> String {
        if let targetBlock { return targetBlock.describe(target, vocab: vocab) }
        return target.count == 1 ? className(Int(target.scalars[0]), vocab) : "\(target.scalars)"
    }

    /// Inputs `[N, C, H, W]` with the batch transforms undone, last first (fastai's `decode`):
    /// normalised images back in 0...1 for display.
    public func decode(_ inputs: Tensor) -> Tensor {
        batchTransforms.reversed().reduce(inputs) { $1.decode($0) }
    }

    /// The first training batch.
    public func oneBatch() -> Batch { train.oneBatch() }
}

extension DataLoaders where Batch == (Tensor, Tensor) {
    /// These loaders with `transforms` applied to the inputs after their own batch transforms
    /// (fastai's `dls.add_tfms(tfms, 'after_batch')`): random ones on the training batches
    /// only, seeded by the loader. The same items, order and batch sizes; `decode` undoes all.
    public func adding(_ transforms: [BatchTransform]) throws -> DataLoaders {
        func wrap(_ loader: DataLoader<Batch>, training: Bool) throws -> DataLoader<Batch> {
            let generator = RandomGenerator(seed: 0)
            generator.state = loader.randomState
            return try DataLoader(
                count: loader.itemCount, batchSize: loader.batchSize, shuffle: loader.shuffle, dropLast: loader.dropLast,
                prefetch: loader.prefetch, generator: generator
            ) { positions, seed in
                let (x, y) = loader.batch(positions, seed: seed)
                let random = training ? RandomGenerator(seed: seed ^ 0x5DEE_CE66_D1CE_4E5B) : nil
                return (transforms.reduce(x) { $1.apply($0, random: random) }, y)
            }
        }
        return DataLoaders(
            try wrap(train, training: true), try wrap(valid, training: false), vocab: vocab,
            batchTransforms: batchTransforms + transforms, targetBlock: targetBlock)
    }
}
