import Foundation

/// Writes `text` to stderr in one `write(2)` (no shared `FILE*`, so no Swift 6 data race).
public func printError(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
