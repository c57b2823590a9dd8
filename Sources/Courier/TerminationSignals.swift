import Foundation

/// Turns SIGINT (Ctrl-C) and SIGTERM into a call of `action` while it lives, instead of ending the process,
/// so long-running commands and worker processes stop cleanly; ``cancel()`` restores the default handling.
/// Shared by the package's executables, not public API.
package final class TerminationSignals: @unchecked Sendable {
    // Set up in init and only cancelled afterwards; Dispatch sources may be cancelled from any thread.
    private let sources: [any DispatchSourceSignal]

    package init(_ action: @escaping @Sendable () -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: action)
            source.resume()
            return source
        }
    }

    package func cancel() {
        sources.forEach { $0.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
