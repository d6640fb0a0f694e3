#if canImport(Glibc)
    import Glibc
#endif

/// The web server's CGI variables that are not headers (REMOTE_USER, REQUEST_ID, ...), in the
/// order they arrived.
///
/// A request carries about twenty and most are never read, so as received they stay the
/// server's raw `NAME=value` bytes, copied once into one buffer; a lookup compares bytes and
/// decodes only the value asked for. Setting a value turns them into ordinary pairs.
public struct Parameters: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// Received entries, decoded on demand; nil once edited.
    private var raw: RawEntries?
    private var edited: [(key: String, value: String)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (key, value) in elements { self[key] = value }
    }

    /// The entries a server sent, each `name` and `value` as raw bytes.
    public init(raw entries: RawEntries) { raw = entries }

    public var pairs: [(key: String, value: String)] {
        guard let raw else { return edited }
        return (0..<raw.count).map { (raw.name(at: $0), raw.value(at: $0)) }
    }

    public static func == (lhs: Parameters, rhs: Parameters) -> Bool {
        let (l, r) = (lhs.pairs, rhs.pairs)
        return l.count == r.count && zip(l, r).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public var isEmpty: Bool { count == 0 }
    public var count: Int { raw?.count ?? edited.count }

    public func makeIterator() -> IndexingIterator<[(key: String, value: String)]> { pairs.makeIterator() }

    /// The value of `name` (names are case-sensitive, as CGI variables are); setting nil removes it.
    public subscript(name: String) -> String? {
        get {
            if let raw { return raw.index(of: name).map { raw.value(at: $0) } }
            return edited.first { $0.key == name }?.value
        }
        set {
            if raw != nil {
                edited = pairs
                raw = nil
            }
            if let index = edited.firstIndex(where: { $0.key == name }) {
                if let newValue { edited[index].value = newValue } else { edited.remove(at: index) }
            } else if let newValue {
                edited.append((key: name, value: newValue))
            }
        }
    }

    /// Received `NAME=value` entries in one byte buffer. Built once per request by the server
    /// adapter (`append`), then only read. A value type: no runtime exclusivity checks on the
    /// request path.
    public struct RawEntries: Sendable {
        private var bytes: [UInt8] = []
        /// Per entry: where its name starts, where its value starts, where it ends.
        private var bounds: [(name: Int, value: Int, end: Int)] = []

        public init(capacity: Int = 1024) {
            bytes.reserveCapacity(capacity)
            bounds.reserveCapacity(32)
        }

        public var count: Int { bounds.count }

        public mutating func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
            let start = bytes.count
            bytes.append(contentsOf: name.assumingMemoryBound(to: UInt8.self))
            let valueStart = bytes.count
            bytes.append(contentsOf: value.assumingMemoryBound(to: UInt8.self))
            bounds.append((start, valueStart, bytes.count))
        }

        func name(at i: Int) -> String { String(decoding: bytes[bounds[i].name..<bounds[i].value], as: UTF8.self) }
        func value(at i: Int) -> String { String(decoding: bytes[bounds[i].value..<bounds[i].end], as: UTF8.self) }

        func index(of name: String) -> Int? {
            var name = name
            return name.withUTF8 { wanted in
                bytes.withUnsafeBufferPointer { all in
                    bounds.firstIndex { b in
                        b.value - b.name == wanted.count
                            && (wanted.isEmpty
                                || memcmp(all.baseAddress! + b.name, wanted.baseAddress!, wanted.count) == 0)
                    }
                }
            }
        }
    }
}
