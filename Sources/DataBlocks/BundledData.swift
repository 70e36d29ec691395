/// Data that ships inside FastSwift, so that recipes and tests run offline on a fresh clone:
/// each application adds its own samples (`BundledData.mnist` and `.photos` come with Vision).
public enum BundledData {}
