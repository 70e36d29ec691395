import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system's MPI (Open MPI or MPICH), loaded when first asked for with `dlopen`: FastSwift
/// has no build-time dependency on it, and a machine without it builds and tests as usual.
/// Processes are launched by the engine: `mpirun -np 2 .build/release/mnist --distributed`.
///
/// The two ABIs differ in their handles: Open MPI's communicators, datatypes and operations are
/// addresses of global objects (found with `dlsym`), MPICH's are 32-bit constants. Both are
/// passed in one integer register, so one set of function types serves both.
public final class MPI: @unchecked Sendable {
    /// This process's rank in `MPI_COMM_WORLD`, and the number of processes.
    public let rank: Int, size: Int
    /// "Open MPI" or "MPICH", and the library file loaded.
    public let implementation: String, library: String

    private typealias Handle = Int
    private let world: Handle, float: Handle, double: Handle, byte: Handle, sum: Handle
    private let inPlace: UnsafeRawPointer
    private let allreduceFunction: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Int32
    private let bcastFunction: @convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Handle) -> Int32
    private let barrierFunction: @convention(c) (Handle) -> Int32
    private let abortFunction: @convention(c) (Handle, Int32) -> Int32

    private static let lock = NSLock()
    nonisolated(unsafe) private static var instance: MPI?

    /// The initialised MPI of this process (`MPI_Init` on the first call). Throws, naming what to
    /// install, when no MPI library can be loaded.
    public static func shared() throws -> MPI {
        lock.lock()
        defer { lock.unlock() }
        if let instance { return instance }
        let mpi = try MPI()
        instance = mpi
        return mpi
    }

    /// Whether this process was started by an MPI launcher (`mpirun`, `mpiexec`, `srun`).
    public static var isLaunchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK", "MPI_LOCALNRANKS"].contains { environment[$0] != nil }
    }

    private init() throws {
        let (handle, name) = try Self.openLibrary()
        let file = name
        func symbol<T>(_ name: String, as type: T.Type) throws -> T {
            guard let address = dlsym(handle, name) else { throw LearnerError("the MPI library \(file) has no symbol \(name)") }
            return unsafeBitCast(address, to: type)
        }
        let openMPI = dlsym(handle, "ompi_mpi_comm_world") != nil
        if openMPI {
            func object(_ name: String) throws -> Handle {
                guard let address = dlsym(handle, name) else { throw LearnerError("Open MPI's \(name) is missing from \(file)") }
                return Int(bitPattern: address)
            }
            world = try object("ompi_mpi_comm_world")
            float = try object("ompi_mpi_float")
            double = try object("ompi_mpi_double")
            byte = try object("ompi_mpi_byte")
            sum = try object("ompi_mpi_op_sum")
            inPlace = UnsafeRawPointer(bitPattern: 1)!
        } else {
            // MPICH's (and its derivatives') handle constants, fixed by its ABI.
            world = 0x4400_0000
            float = 0x4C00_040A
            double = 0x4C00_080B
            byte = 0x4C00_010D
            sum = 0x5800_0003
            inPlace = UnsafeRawPointer(bitPattern: -1)!
        }
        implementation = openMPI ? "Open MPI" : "MPICH"
        library = name

        typealias InitializedFunction = @convention(c) (UnsafeMutablePointer<Int32>?) -> Int32
        typealias InitFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32
        typealias RankFunction = @convention(c) (Handle, UnsafeMutablePointer<Int32>?) -> Int32
        var initialized: Int32 = 0
        _ = try symbol("MPI_Initialized", as: InitializedFunction.self)(&initialized)
        if initialized == 0 {
            let status = try symbol("MPI_Init", as: InitFunction.self)(nil, nil)
            guard status == 0 else { throw LearnerError("MPI_Init failed (error \(status))") }
            // MPI_Finalize at exit, as MPI requires of a process that initialised it.
            let finalize = try symbol("MPI_Finalize", as: (@convention(c) () -> Int32).self)
            MPI.finalizeAtExit = finalize
            atexit { _ = MPI.finalizeAtExit?() }
        }
        var rank: Int32 = 0, size: Int32 = 1
        _ = try symbol("MPI_Comm_rank", as: RankFunction.self)(world, &rank)
        _ = try symbol("MPI_Comm_size", as: RankFunction.self)(world, &size)
        self.rank = Int(rank)
        self.size = Int(size)
        allreduceFunction = try symbol(
            "MPI_Allreduce", as: (@convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Int32).self)
        bcastFunction = try symbol("MPI_Bcast", as: (@convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Handle) -> Int32).self)
        barrierFunction = try symbol("MPI_Barrier", as: (@convention(c) (Handle) -> Int32).self)
        abortFunction = try symbol("MPI_Abort", as: (@convention(c) (Handle, Int32) -> Int32).self)
    }

    /// The `mpirun` on this machine (in /usr/bin, /usr/local/bin or /opt/homebrew/bin), if any.
    public static var launcher: URL? {
        ["/usr/bin/mpirun", "/usr/local/bin/mpirun", "/opt/homebrew/bin/mpirun"]
            .first(where: FileManager.default.isExecutableFile).map { URL(fileURLWithPath: $0) }
    }

    /// The arguments that start `ranks` processes with `launcher`: Open MPI's also need
    /// `--oversubscribe` to start more ranks than the cores it counts.
    public static func launchArguments(_ launcher: URL, ranks: Int) -> [String] {
        let probe = Process(), pipe = Pipe()
        probe.executableURL = launcher
        probe.arguments = ["--version"]
        probe.standardOutput = pipe
        probe.standardError = pipe
        var openMPI = false
        if (try? probe.run()) != nil {
            openMPI = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("Open MPI")
            probe.waitUntilExit()
        }
        return ["-np", "\(ranks)"] + (openMPI ? ["--oversubscribe"] : [])
    }

    /// The MPI library: `FASTSWIFT_MPI_LIBRARY` when set, else the usual names of Open MPI's
    /// and MPICH's libraries. Throws, naming what to install, when none loads.
    static func openLibrary(_ candidates: [String]? = nil) throws -> (UnsafeMutableRawPointer, String) {
        let names =
            candidates ?? ProcessInfo.processInfo.environment["FASTSWIFT_MPI_LIBRARY"].map { [$0] }
            ?? [
                "libmpi.so.40", "libmpi.so.12", "libmpich.so.12", "libmpi.so", "libmpich.so",
                "/opt/homebrew/lib/libmpi.dylib", "/usr/local/lib/libmpi.dylib", "libmpi.dylib",
            ]
        for name in names {
            // RTLD_GLOBAL: Open MPI's own plugins resolve their symbols against the library.
            if let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) { return (handle, name) }
        }
        throw LearnerError(
            """
            no MPI library found (tried \(names.joined(separator: ", "))). FastSwift loads the system's MPI at run time: \
            install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev; macOS: brew install open-mpi) \
            or MPICH, or set FASTSWIFT_MPI_LIBRARY to the library's path
            """)
    }

    nonisolated(unsafe) private static var finalizeAtExit: (@convention(c) () -> Int32)?

    /// Sums `count` floats at `buffer` over all processes, in place (`MPI_Allreduce` with `MPI_SUM`).
    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        forEachChunk(count) { start, n in _ = allreduceFunction(inPlace, buffer + start, n, float, sum, world) }
    }

    /// Sums `count` doubles at `buffer` over all processes, in place.
    public func allreduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) {
        forEachChunk(count) { start, n in _ = allreduceFunction(inPlace, buffer + start, n, double, sum, world) }
    }

    /// Sums an array over all processes.
    public func allreduceSum(_ values: [Double]) -> [Double] {
        var result = values
        result.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { allreduceSum(base, count: $0.count) } }
        return result
    }

    /// Copies `bytes` bytes at `buffer` from process `root` to every other (`MPI_Bcast`).
    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int = 0) {
        forEachChunk(bytes) { start, n in _ = bcastFunction(buffer + start, n, byte, Int32(root), world) }
    }

    /// Waits for every process (`MPI_Barrier`).
    public func barrier() { _ = barrierFunction(world) }

    /// Ends every process of the job with `code` (`MPI_Abort`): what a rank that cannot go on
    /// does, so the others do not wait for it forever.
    public func abort(code: Int32 = 1) -> Never {
        _ = abortFunction(world, code)
        exit(code)
    }

    /// MPI counts are 32-bit: large buffers go in pieces.
    private func forEachChunk(_ count: Int, _ body: (Int, Int32) -> Void) {
        var start = 0
        let most = Int(Int32.max / 2)
        while start < count {
            let n = min(most, count - start)
            body(start, Int32(n))
            start += n
        }
    }
}
