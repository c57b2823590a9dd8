import Courier
import Synchronization
@testable import CourierCLI

/// Captures what a command writes.
final class CapturedOutput: OutputSink {
    private let text = Mutex("")
    func write(_ piece: String) { text.withLock { $0 += piece } }
    var value: String { text.withLock { $0 } }
}

/// Runs `courier` with `arguments` in-process and returns exit code, stdout and stderr.
func runCourier(_ arguments: [String], environment: [String: String] = [:]) async -> (status: Int32, out: String, err: String) {
    let out = CapturedOutput()
    let err = CapturedOutput()
    let context = CLIContext(
        standardOutput: out,
        standardError: err,
        environment: environment,
        registry: CourierCommandLine.builtInRegistry()
    )
    let status = await CourierCommandLine().run(arguments, context: context)
    return (status, out.value, err.value)
}
