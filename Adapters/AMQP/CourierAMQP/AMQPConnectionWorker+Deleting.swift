import Courier

extension AMQPConnectionWorker {
    /// Deletes an exchange or queue (whether or not it is in use).
    func delete(_ object: AMQPTopologyObject, _ continuation: CheckedContinuation<Void, any Error>) {
        guard case .connected(let session) = link else {
            return continuation.resume(throwing: CourierError.unavailable("\(settings.transportName) is not connected", transport: settings.transportName))
        }
        do {
            switch object {
            case .exchange(let name):
                try session.deleteExchange(Self.topologyChannel, name: name)
                declaredExchanges.removeAll { $0 == name }
            case .queue(let name):
                try session.deleteQueue(Self.topologyChannel, name: name)
                declaredRetryQueues.remove(name)
            }
            continuation.resume()
        } catch {
            continuation.resume(throwing: explain(error, while: "deleting \(object)"))
            if !error.losesConnection {
                do { try reopenTopologyChannel(session) } catch { handleFailure(error, session) }
            } else {
                handleFailure(error, session)
            }
        }
    }
}
