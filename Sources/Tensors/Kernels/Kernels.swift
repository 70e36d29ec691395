/// FastSwift's CPU kernels: the hot loops every op and layer runs on.
///
/// They work on raw `Float` buffers so that every layer above (tensors, convolutions, optimizers)
/// can call them without copying. Every tensor kernel lives in this folder; the threads they run
/// on are `Threads` and `WorkerPool` beside it, and the loops that decode and resample images
/// live with their formats in `DataBlocks` (`Formats/`, `Transforms/`).
public enum Kernels {}
