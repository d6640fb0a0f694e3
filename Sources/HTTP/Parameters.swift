/// The web server's CGI variables that are not headers (REMOTE_USER, REQUEST_ID, ...), in the
/// order they arrived. A request carries about twenty, and most are never read: a list with a
/// linear lookup costs less than hashing every name into a dictionary.
public struct Parameters: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var pairs: [(key: String, value: String)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (key, value) in elements { self[key] = value }
    }

    public static func == (lhs: Parameters, rhs: Parameters) -> Bool {
        lhs.pairs.count == rhs.pairs.count
            && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public var isEmpty: Bool { pairs.isEmpty }
    public var count: Int { pairs.count }

    public func makeIterator() -> IndexingIterator<[(key: String, value: String)]> { pairs.makeIterator() }

    /// The value of `name` (names are case-sensitive, as CGI variables are); setting nil removes it.
    public subscript(name: String) -> String? {
        get { pairs.first { $0.key == name }?.value }
        set {
            if let index = pairs.firstIndex(where: { $0.key == name }) {
                if let newValue { pairs[index].value = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.append((key: name, value: newValue))
            }
        }
    }

    /// Appends without looking for an earlier `name`; for a parser that knows names are distinct.
    public mutating func append(_ name: String, _ value: String) {
        pairs.append((key: name, value: value))
    }
}
