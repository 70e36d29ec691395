import Autograd
import DataBlocks
import Dispatch
import Foundation
import Layers
import Tensors

extension Learner {
    /// Trains data-parallel over the processes of an MPI job (fastai's `to_distributed`,
    /// PyTorch's `DistributedDataParallel`), launched as `mpirun -np 2 .build/release/mnist
    /// --distributed`: see `DistributedDataParallel`. In a process not started by an MPI
    /// launcher this changes nothing. Throws, naming what to install, when MPI is missing.
    @discardableResult
    public func distributed() throws -> Learner {
        let mpi = try MPI.shared()
        guard mpi.size > 1, !callbacks.contains(where: { $0 is DistributedDataParallel }) else { return self }
        // Sharded now, so that every count a fit takes (batches per epoch, the schedule's
        // length) is this process's.
        processRank = mpi.rank
        if mpi.rank != 0 { progress.show = false }
        dls.train.shard = (mpi.rank, mpi.size)
        dls.valid.shard = (mpi.rank, mpi.size)
        recorder.crossProcess = (sum: { mpi.allreduceSum($0) }, gather: { DistributedDataParallel.gather($0, mpi) })
        add([DistributedDataParallel(mpi)])
        return self
    }
}

/// Data-parallel training over MPI processes (ranks), set up by `learn.distributed()`:
/// - at the start of a fit, rank 0's parameters, buffers and loaders' random states are sent to
///   every rank, so all start the same and shuffle the same;
/// - each rank trains on its shard of every epoch's order (`DataLoader.shard`, padded so every
///   rank takes the same number of steps) and validates on its share of the validation set;
/// - the backward pass is seeded with 1 / ranks, and after it, before the optimizer's step, the
///   gradients are summed over the ranks with `MPI_Allreduce` (so averaged): the large ones in
///   place, the small ones packed in buckets of about `bucketBytes`, the batch's loss riding in
///   the last; every rank then takes the same step;
/// - batch-norm statistics stay per rank (PyTorch's default);
/// - validation losses and metrics are summed (accumulated metrics gathered) over the ranks, so
///   every rank computes the same table; only rank 0 prints it and writes files.
///
/// A rank that dies ends the job: `mpirun` stops the others (they do not wait forever).
public final class DistributedDataParallel: Callback {
    public let mpi: MPI
    /// Gradients of at least this many elements are summed in place, one allreduce each.
    public var inPlaceElements = 16_384
    /// The size of one allreduce of the smaller gradients, packed together.
    public var bucketBytes = 4 << 20
    /// Seconds spent in gradient allreduces, and in training steps (forward to step), this fit.
    public private(set) var allreduceSeconds = 0.0, trainingSeconds = 0.0
    private var buffer: [Float] = []
    private var stepStart: UInt64 = 0

    public init(_ mpi: MPI) { self.mpi = mpi }

    public override var order: Int { -20 }  // before every other callback

    public override func beforeFit(_ learn: Learner) throws {
        let mpi = self.mpi
        // Rank 0's weights, statistics and shuffling for everyone.
        noGrad {
            let tensors = (learn.model.namedParameters + learn.model.namedBuffers).map(\.tensor)
            var flat = tensors.flatMap(\.scalars)
            flat.withUnsafeMutableBytes { mpi.broadcast($0.baseAddress!, bytes: $0.count) }
            var offset = 0
            flat.withUnsafeBufferPointer { all in
                for t in tensors {
                    t.overwrite(from: all.baseAddress! + offset)
                    offset += t.count
                }
            }
        }
        var states = learn.dls.train.randomState + learn.dls.valid.randomState
        states.withUnsafeMutableBytes { mpi.broadcast($0.baseAddress!, bytes: $0.count) }
        let half = states.count / 2
        learn.dls.train.randomState = Array(states[..<half])
        learn.dls.valid.randomState = Array(states[half...])
        allreduceSeconds = 0
        trainingSeconds = 0
    }

    public override func beforeBatch(_ learn: Learner) throws {
        if learn.training { stepStart = DispatchTime.now().uptimeNanoseconds }
    }

    public override func afterStep(_ learn: Learner) throws {
        trainingSeconds += Double(DispatchTime.now().uptimeNanoseconds - stepStart) / 1e9
    }

    /// Scales the backward pass's seed by 1 / ranks, so that the gradients summed over the ranks
    /// in `beforeStep` are their average with no pass of its own. For a power-of-two number of
    /// ranks this is exactly the average taken after the sum (the backward pass is linear in its
    /// seed, and scaling by 2⁻ᵏ rounds nothing); for others it differs in rounding only. Here,
    /// after every callback's `afterLoss`, so it scales what they added to `lossGrad` too.
    public override func beforeBackward(_ learn: Learner) throws {
        learn.lossGrad = learn.lossGrad * (1 / Float(mpi.size))
    }

    /// Sums the (pre-scaled) gradients and averages the loss over the ranks: a gradient of at
    /// least `inPlaceElements` elements with its own `MPI_Allreduce` where it lies (no copies), the
    /// smaller ones packed into buckets of about `bucketBytes` with the loss riding in the last.
    public override func beforeStep(_ learn: Learner) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { allreduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        // Two parameters whose gradients share a storage have it summed once.
        var seen = Set<ObjectIdentifier>()
        let grads = learn.model.parameters.compactMap(\.grad).filter { seen.insert($0.storageIdentity).inserted }
        for g in grads where g.count >= inPlaceElements {
            g.updateInPlace { mpi.allreduceSum($0, count: g.count) }
        }
        let small = grads.filter { $0.count < inPlaceElements }
        let bucketElements = max(bucketBytes / 4, 1)
        var buckets: [[Tensor]] = [[]]
        var filled = 0
        for g in small {
            if filled > 0 && filled + g.count > bucketElements {
                buckets.append([])
                filled = 0
            }
            buckets[buckets.count - 1].append(g)
            filled += g.count
        }
        let largest = buckets.map { $0.reduce(0) { $0 + $1.count } }.max() ?? 0
        if buffer.count < largest + 1 { buffer = [Float](repeating: 0, count: largest + 1) }
        let loss = learn.loss.item()
        buffer.withUnsafeMutableBufferPointer { flat in
            let base = flat.baseAddress!
            for (b, bucket) in buckets.enumerated() {
                var offset = 0
                for g in bucket {
                    g.withUnsafeBufferPointer { (base + offset).update(from: $0.baseAddress!, count: g.count) }
                    offset += g.count
                }
                let last = b == buckets.count - 1
                if last { base[offset] = loss }
                mpi.allreduceSum(base, count: offset + (last ? 1 : 0))
                offset = 0
                for g in bucket {
                    g.overwrite(from: base + offset)
                    offset += g.count
                }
                if last { learn.loss = Tensor(base[offset] / Float(mpi.size)) }
            }
        }
    }

    /// Every rank's values, concatenated in rank order (sizes exchanged first).
    static func gather(_ values: [Float], _ mpi: MPI) -> [Float] {
        var counts = [Double](repeating: 0, count: mpi.size)
        counts[mpi.rank] = Double(values.count)
        counts = mpi.allreduceSum(counts)
        let offset = Int(counts[..<mpi.rank].reduce(0, +)), total = Int(counts.reduce(0, +))
        var all = [Float](repeating: 0, count: total)
        for (i, v) in values.enumerated() { all[offset + i] = v }
        all.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { mpi.allreduceSum(base, count: $0.count) } }
        return all
    }
}
