/// FastSwift's CPU kernels: the hot loops every op and layer runs on.
///
/// They work on raw `Float` buffers so that every layer above (tensors, convolutions, optimizers)
/// can call them without copying. All of them live in this folder and nowhere else.
public enum Kernels {}
