import CCurl
import Foundation
import HTTP
import Synchronization

/// One HTTP exchange over a libcurl easy handle (`curl_easy_perform`). Handles are pooled,
/// so a worker thread reuses the previous request's connection to the same upstream.
final class CurlPool: @unchecked Sendable {
    /// Idle handles, as addresses (a raw pointer is not `Sendable`; the mutex makes this safe).
    private let idle = Mutex<[UInt]>([])

    /// `curl_global_init` is not thread-safe: done once, on first use, at start-up.
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    init() { precondition(Self.initialized, "curl_global_init failed") }

    deinit {
        for address in idle.withLock({ $0 }) {
            if let handle = UnsafeMutableRawPointer(bitPattern: address) { curl_easy_cleanup(handle) }
        }
    }

    /// Runs `body` with a handle reset to defaults (`curl_easy_reset` keeps its connections).
    func withHandle<T>(_ body: (UnsafeMutableRawPointer) throws -> T) rethrows -> T {
        let reused = idle.withLock { $0.popLast() }.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
        let handle = reused ?? curl_easy_init()!
        curl_easy_reset(handle)
        let address = UInt(bitPattern: handle)
        defer { idle.withLock { $0.append(address) } }
        return try body(handle)
    }
}

/// What libcurl delivered for one transfer.
struct CurlResult {
    var status = 0
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    var tooLarge = false
}

/// The buffer the C callbacks write into, passed to them as `void *userdata`.
final class CurlSink {
    var result = CurlResult()
    let maxBytes: Int
    init(maxBytes: Int) { self.maxBytes = maxBytes }
}

/// `CURLOPT_WRITEFUNCTION`: appends body bytes, refusing (and so aborting the transfer) past the bound.
func curlWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?)
    -> Int
{
    guard let user, let data else { return 0 }
    let sink = Unmanaged<CurlSink>.fromOpaque(user).takeUnretainedValue()
    let n = size * count
    if sink.result.body.count + n > sink.maxBytes {
        sink.result.tooLarge = true
        return 0
    }
    sink.result.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n))
    return n
}

/// `CURLOPT_HEADERFUNCTION`: one call per header line; a new status line (after a 100
/// Continue, say) starts the header list again.
func curlWriteHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?)
    -> Int
{
    guard let user, let data else { return 0 }
    let sink = Unmanaged<CurlSink>.fromOpaque(user).takeUnretainedValue()
    let n = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
        .trimmingCharacters(in: .newlines)
    if line.hasPrefix("HTTP/") {
        sink.result.headers = []
    } else if let colon = line.firstIndex(of: ":") {
        let name = String(line[..<colon])
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        sink.result.headers.append((name, value))
    }
    return n
}
