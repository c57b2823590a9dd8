import Foundation

/// Runs a blocking librdkafka call (metadata, commit, close) on its own thread, so it never blocks the
/// cooperative thread pool. For rare calls only: each one gets a fresh thread.
enum RDKafkaBlocking {
    static func run<T: Sendable, E: Error>(_ name: String, _ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do throws(E) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.name = name
            thread.start()
        }
        return try result.get()
    }
}
