import Courier
import Foundation

/// Writes straight to a file descriptor.
struct FileSink: OutputSink {
    let handle: FileHandle
    func write(_ text: String) { handle.write(Data(text.utf8)) }
}

let context = CLIContext(
    standardOutput: FileSink(handle: .standardOutput),
    standardError: FileSink(handle: .standardError),
    environment: ProcessInfo.processInfo.environment,
    registry: CourierCommandLine.builtInRegistry()
)
let status = await CourierCommandLine().run(Array(CommandLine.arguments.dropFirst()), context: context)
exit(status)
