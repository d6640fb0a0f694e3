import Foundation
import Synchronization

/// `threads` threads claiming the same `keys` at once, half of them walking the keys backwards
/// so they meet head-on: how the store tests show a claim is atomic.
public enum ClaimRace {
    /// Runs the race; `claim` returns whether it won the key. Returns how often each key was
    /// won, and the errors thrown; nil when the threads did not finish within `timeout`.
    public static func run(
        threads: Int, keys: [String], timeout: Double = 60, claim: @escaping @Sendable (String) throws -> Bool
    ) -> (wins: [String: Int], failures: [String])? {
        let wins = Mutex<[String: Int]>([:])
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                for name in thread % 2 == 0 ? keys : keys.reversed() {
                    do {
                        if try claim(name) { wins.withLock { $0[name, default: 0] += 1 } }
                    } catch {
                        failures.withLock { $0.append("\(name): \(error)") }
                    }
                }
            }
        }
        guard group.wait(timeout: .now() + timeout) == .success else { return nil }
        return (wins.withLock { $0 }, failures.withLock { $0 })
    }
}
