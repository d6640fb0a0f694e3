/// The forms of `listen` the responder can open (see `ListenAddress` in the FastCGI target):
/// `unix:/path`, `/path`, `fd:N`, `[tcp:]host:port` with an IPv4 host or `localhost`.
enum ListenSyntax {
    static func isValid(_ text: String) -> Bool {
        if text.hasPrefix("fd:") { return Int32(text.dropFirst(3)).map { $0 >= 0 } ?? false }
        if text.hasPrefix("unix:") { return text.dropFirst(5).hasPrefix("/") || text.dropFirst(5).hasPrefix(".") }
        if text.hasPrefix("/") || text.hasPrefix("./") { return true }
        let rest = text.hasPrefix("tcp:") ? text.dropFirst(4) : Substring(text)
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else {
            return false
        }
        let host = rest[..<colon]
        if host.isEmpty || host == "localhost" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { UInt8($0) != nil }
    }
}
