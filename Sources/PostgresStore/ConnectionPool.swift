import Dispatch
import Idempotency
import Synchronization

/// At most `size` connections shared by the worker threads. A caller waits a bounded time for
/// a free slot; an idle connection that looks dead is replaced; a connection broken during a
/// call is dropped, with every idle one (a server restart or a partition kills them all), so
/// the next calls reconnect.
final class ConnectionPool: Sendable {
    private struct State: ~Copyable {
        var idle: [Connection] = []
        var closed = false
    }

    let size: Int
    private let slots: DispatchSemaphore
    private let state = Mutex(State())
    private let slotWaitMs: Int
    private let connect: @Sendable () throws(StoreError) -> Connection

    init(size: Int, slotWaitMs: Int, connect: @escaping @Sendable () throws(StoreError) -> Connection) {
        self.size = size
        self.slotWaitMs = slotWaitMs
        self.slots = DispatchSemaphore(value: size)
        self.connect = connect
    }

    /// Runs `body` with a connection of its own, connecting first when no healthy idle one exists.
    func withConnection<T>(_ body: (Connection) throws(StoreError) -> T) throws(StoreError) -> T {
        guard slots.wait(timeout: .now() + .milliseconds(slotWaitMs)) == .success else {
            throw .unavailable("PostgreSQL: all \(size) pooled connections busy for \(slotWaitMs) ms")
        }
        defer { slots.signal() }
        let connection = try checkOut()
        defer { checkIn(connection) }
        return try body(connection)
    }

    private func checkOut() throws(StoreError) -> Connection {
        while true {
            let popped = state.withLock { s -> Result<Connection?, StoreError> in
                s.closed ? .failure(.unavailable("PostgreSQL store is closed")) : .success(s.idle.popLast())
            }
            guard let candidate = try popped.get() else { return try connect() }
            if candidate.looksAlive { return candidate }
        }
    }

    private func checkIn(_ connection: Connection) {
        let dropped = state.withLock { s -> [Connection] in
            if s.closed { return [connection] }
            if connection.broken {
                defer { s.idle = [] }
                return s.idle + [connection]
            }
            s.idle.append(connection)
            return []
        }
        _ = dropped  // released (PQfinish) here, outside the lock
    }

    /// Closes idle connections now and busy ones when they come back; later calls fail.
    func close() {
        let dropped = state.withLock { s -> [Connection] in
            s.closed = true
            defer { s.idle = [] }
            return s.idle
        }
        _ = dropped
    }
}
