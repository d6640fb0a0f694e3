import Configuration
import Foundation
import HTTP
import JSON
import Synchronization
import TestSupport
import Testing

@testable import Upstreams

/// A FastCGI server in the test process, on a unix socket: accepts one connection, reads the
/// request up to the empty STDIN record, writes `reply` and closes (or holds the connection
/// open, to play a server that never answers).
final class FakeFastCGIServer: @unchecked Sendable {
    let directory = TemporaryDirectory("fcgi-fake")
    let path: String
    let listening: Int32
    let received = Mutex<[UInt8]>([])
    private let done = DispatchSemaphore(value: 0)
    private let release = DispatchSemaphore(value: 0)

    init(reply: [UInt8], holdOpen: Bool = false) {
        path = directory.file("fake.sock")
        listening = Self.listen(at: path)
        let (fd, path) = (listening, path)
        Thread { [self] in
            let conn = accept(fd, nil, nil)
            guard conn >= 0 else { return }
            var request: [UInt8] = []
            let endOfStdin: [UInt8] = [1, 5, 0, 1, 0, 0, 0, 0]
            var buffer = [UInt8](repeating: 0, count: 65536)
            while !(request.count >= 8 && Array(request.suffix(8)) == endOfStdin) {
                let n = buffer.withUnsafeMutableBytes { recv(conn, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                request += buffer[0..<n]
            }
            received.withLock { $0 = request }
            var sent = 0
            while sent < reply.count {
                let n = reply[sent...].withUnsafeBytes { send(conn, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                sent += n
            }
            if holdOpen { _ = release.wait(timeout: .now() + 30) }
            close(conn)
            _ = path
            done.signal()
        }.start()
    }

    deinit {
        release.signal()
        _ = done.wait(timeout: .now() + 5)
        close(listening)
    }

    var client: FastCGIClient { FastCGIClient(address: .unix(path: path), connectTimeoutMs: 1000, timeoutMs: 2000) }

    static func listen(at path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        Foundation.listen(fd, 8)
        return fd
    }

    /// One record as a server writes it, with optional padding.
    static func record(_ type: UInt8, _ content: [UInt8], padding: Int = 0, id: UInt16 = 1, version: UInt8 = 1)
        -> [UInt8]
    {
        [
            version, type, UInt8(id >> 8), UInt8(id & 0xFF), UInt8(content.count >> 8), UInt8(content.count & 0xFF),
            UInt8(padding), 0,
        ] + content + [UInt8](repeating: 0, count: padding)
    }

    static let endRequest = record(3, [0, 0, 0, 0, 0, 0, 0, 0])
}

/// Decodes name-value pairs (FastCGI 1.0 §3.4), to check what the client sends.
func decodePairs(_ bytes: [UInt8]) -> [(String, String)] {
    var pairs: [(String, String)] = []
    var i = 0
    func length() -> Int {
        if bytes[i] < 128 {
            i += 1
            return Int(bytes[i - 1])
        }
        let n = Int(bytes[i] & 0x7F) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        i += 4
        return n
    }
    while i < bytes.count {
        let n = length()
        let v = length()
        pairs.append(
            (
                String(decoding: bytes[i..<(i + n)], as: UTF8.self),
                String(decoding: bytes[(i + n)..<(i + n + v)], as: UTF8.self)
            ))
        i += n + v
    }
    return pairs
}

/// The content of every record of `type` in a request, concatenated.
func streamContent(_ request: [UInt8], type: UInt8) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i + 8 <= request.count {
        let length = Int(request[i + 4]) << 8 | Int(request[i + 5])
        if request[i + 1] == type { out += request[(i + 8)..<(i + 8 + length)] }
        i += 8 + length + Int(request[i + 6])
    }
    return out
}

/// Our FastCGI client and `fastcgiHandler`, without PHP: records, CGI parsing, a fake server.
@Suite("FastCGI client") struct FastCGIClientTests {}

extension FastCGIClientTests {
    @Suite("records")
    struct Records {
        @Test func namesAndValuesBelow128BytesHaveOneByteLengths() {
            let bytes = FastCGIRecord.nameValuePairs([(String(repeating: "n", count: 127), "v")])
            #expect(Array(bytes.prefix(2)) == [127, 1])
            #expect(bytes.count == 2 + 127 + 1)
        }

        @Test func namesAndValuesOf128BytesOrMoreHaveFourByteLengthsWithTheHighBit() {
            let bytes = FastCGIRecord.nameValuePairs([
                (String(repeating: "n", count: 128), String(repeating: "v", count: 70000))
            ])
            #expect(Array(bytes.prefix(8)) == [0x80, 0, 0, 128, 0x80, 0x01, 0x11, 0x70])
            #expect(bytes.count == 8 + 128 + 70000)
            #expect(decodePairs(bytes).map { $0.1.count } == [70000])
        }

        @Test func beginRequestAsksForTheResponderRoleWithoutKeepConn() {
            #expect(FastCGIRecord.beginRequest() == [1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        }

        @Test func longStreamsAreSplitInto65535ByteRecordsAndEndedByAnEmptyOne() {
            let bytes = FastCGIRecord.stream(.stdin, [UInt8](repeating: 7, count: 70000))
            #expect(Array(bytes[0..<8]) == [1, 5, 0, 1, 0xFF, 0xFF, 0, 0])
            #expect(Array(bytes[(8 + 65535)..<(16 + 65535)]) == [1, 5, 0, 1, 0x11, 0x71, 0, 0])
            #expect(Array(bytes.suffix(8)) == [1, 5, 0, 1, 0, 0, 0, 0])
            #expect(bytes.count == 3 * 8 + 70000)
            #expect(FastCGIRecord.stream(.params, []) == [1, 4, 0, 1, 0, 0, 0, 0])
        }
    }

    @Suite("CGI answers")
    struct Answers {
        func parse(_ text: String) throws(FastCGIClientError) -> Response {
            try FastCGIClient.Answer(stdout: Array(text.utf8), stderr: [], appStatus: 0).response()
        }

        @Test func statusLineSetsTheStatusAndIsNotReturnedAsAHeader() throws {
            let r = try parse("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope")
            #expect(r.status.rawValue == 404)
            #expect(r.headers == Headers([("Content-Type", "text/plain")]))
            #expect(r.body == Array("nope".utf8))
        }

        @Test func withoutStatusTheStatusIs200() throws {
            #expect(try parse("Content-Type: text/html\r\n\r\n<p>").status.rawValue == 200)
        }

        @Test func locationWithoutStatusIs302AndWithStatusKeepsIt() throws {
            #expect(try parse("Location: /x\r\n\r\n").status.rawValue == 302)
            let created = try parse("Status: 201\r\nLocation: /orders/1\r\n\r\n{}")
            #expect(created.status.rawValue == 201)
            #expect(created.headers["Location"] == "/orders/1")
        }

        @Test func bareLineFeedsSeparateHeadersAndBody() throws {
            let r = try parse("Status: 202 Accepted\nX-A: 1\n\nbody\r\n\r\nmore")
            #expect(r.status.rawValue == 202)
            #expect(r.headers["X-A"] == "1")
            #expect(r.body == Array("body\r\n\r\nmore".utf8))
        }

        @Test func aColonInAValueStaysInTheValueAndRepeatedHeadersAreKept() throws {
            let r = try parse("X-Time:  12:30:00 \r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 99\r\n\r\n")
            #expect(r.headers["X-Time"] == "12:30:00")
            #expect(r.headers.filter { $0.name == "Set-Cookie" }.map(\.value) == ["a=1", "b=2"])
            #expect(!r.headers.contains("Content-Length"))
        }

        @Test func malformedOutputIsABadResponse() {
            for text in [
                "Content-Type: text/plain\r\nno blank line", "no colon here\r\n\r\n", "Status: abc\r\n\r\n",
                "Bad Name: x\r\n\r\n", "X: a\rb\r\n\r\n", "",
            ] {
                #expect(throws: FastCGIClientError.self, "\(text.debugDescription)") { try parse(text) }
            }
        }
    }

    @Suite("exchanges with a fake server")
    struct Exchanges {
        @Test func sendsParamsAndBodyAndCollectsStdoutAndStderr() throws {
            let reply =
                FakeFastCGIServer.record(6, Array("Status: 201 Created\r\n".utf8), padding: 3)
                + FakeFastCGIServer.record(7, Array("PHP Warning: x\n".utf8))
                + FakeFastCGIServer.record(6, Array("\r\n{\"ok\":true}".utf8), padding: 5)
                + FakeFastCGIServer.record(6, []) + FakeFastCGIServer.endRequest
            let server = FakeFastCGIServer(reply: reply)
            let answer = try server.client.send(
                params: [("A", "1"), ("LONG", String(repeating: "x", count: 300))], body: [1, 2, 3])
            #expect(answer.stdout == Array("Status: 201 Created\r\n\r\n{\"ok\":true}".utf8))
            #expect(answer.stderr == Array("PHP Warning: x\n".utf8))
            let request = server.received.withLock { $0 }
            let pairs = decodePairs(streamContent(request, type: 4))
            #expect(pairs.map(\.0) == ["A", "LONG"])
            #expect(pairs[1].1.count == 300)
            #expect(streamContent(request, type: 5) == [1, 2, 3])
            #expect(Array(request.prefix(16)) == FastCGIRecord.beginRequest())
        }

        func expectFailure(
            _ kind: FastCGIClientError.Kind, containing text: String, reply: [UInt8],
            client: (FastCGIClient) -> FastCGIClient = { $0 }
        ) {
            let server = FakeFastCGIServer(reply: reply)
            do {
                _ = try client(server.client).send(params: [("A", "1")], body: [])
                Issue.record("expected \(kind)")
            } catch {
                #expect(error.kind == kind)
                #expect(error.message.contains(text), "\(error.message)")
            }
        }

        @Test func aTruncatedRecordHeaderIsABadResponse() {
            expectFailure(.badResponse, containing: "record header", reply: [1, 6, 0])
        }

        @Test func aWrongVersionIsABadResponse() {
            expectFailure(.badResponse, containing: "version 2", reply: FakeFastCGIServer.record(6, [65], version: 2))
        }

        @Test func closingBeforeEndRequestIsABadResponse() {
            expectFailure(.badResponse, containing: "before END_REQUEST", reply: FakeFastCGIServer.record(6, [65]))
            expectFailure(
                .badResponse, containing: "middle", reply: Array(FakeFastCGIServer.record(6, [65, 66, 67]).dropLast()))
        }

        @Test func anotherRequestIDOrRecordTypeIsABadResponse() {
            expectFailure(.badResponse, containing: "request 2", reply: FakeFastCGIServer.record(6, [65], id: 2))
            expectFailure(.badResponse, containing: "type 9", reply: FakeFastCGIServer.record(9, [65]))
        }

        @Test func anAnswerOverMaxResponseBytesIsABadResponse() {
            let reply =
                FakeFastCGIServer.record(6, [UInt8](repeating: 65, count: 600))
                + FakeFastCGIServer.record(6, [UInt8](repeating: 65, count: 600)) + FakeFastCGIServer.endRequest
            expectFailure(.badResponse, containing: "maxResponseBytes", reply: reply) {
                var c = $0
                c.maxResponseBytes = 1000
                return c
            }
        }

        @Test func anOverloadedServerIsUnavailable() {
            expectFailure(
                .unavailable, containing: "OVERLOADED", reply: FakeFastCGIServer.record(3, [0, 0, 0, 0, 2, 0, 0, 0]))
        }

        @Test func aServerThatNeverAnswersTimesOutWithinTheBound() {
            let server = FakeFastCGIServer(reply: [], holdOpen: true)
            var client = server.client
            client.timeoutMs = 300
            let started = ContinuousClock.now
            #expect(throws: FastCGIClientError.timeout("no complete answer within the timeout")) {
                _ = try client.send(params: [], body: [])
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(290) && elapsed < .seconds(2), "\(elapsed)")
        }

        @Test func aMissingSocketOrNoListenerIsUnavailable() {
            let dir = TemporaryDirectory("fcgi-none")
            let missing = FastCGIClient(address: .unix(path: dir.file("absent.sock")))
            #expect(throws: FastCGIClientError.unavailable("connect: No such file or directory")) {
                _ = try missing.send(params: [], body: [])
            }
            // A socket file whose server died: bound, never listening.
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let path = dir.file("dead.sock")
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                raw.copyBytes(from: path.utf8)
                raw[path.utf8.count] = 0
            }
            _ = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            defer { close(fd) }
            #expect(throws: FastCGIClientError.unavailable("connect: Connection refused")) {
                _ = try FastCGIClient(address: .unix(path: path)).send(params: [], body: [])
            }
            let port = HTTPClient.freePort()
            #expect(throws: FastCGIClientError.unavailable("connect: Connection refused")) {
                _ = try FastCGIClient(address: .tcp(host: "127.0.0.1", port: port)).send(params: [], body: [])
            }
        }
    }

    @Suite("fastcgiHandler options and params")
    struct HandlerOptions {
        func options(_ json: String) throws -> ConfigValue {
            ConfigValue(try JSONParser.parse(Array(json.utf8)), file: "routes.oas.json", path: "$.handler.options")
        }

        @Test func addressesParseInTheFormsPHPFPMAndNginxUse() {
            #expect(FastCGIAddress("unix:/run/php/php8.2-fpm.sock") == .unix(path: "/run/php/php8.2-fpm.sock"))
            #expect(FastCGIAddress("/tmp/a.sock") == .unix(path: "/tmp/a.sock"))
            #expect(FastCGIAddress("127.0.0.1:9000") == .tcp(host: "127.0.0.1", port: 9000))
            #expect(FastCGIAddress("localhost:9000") == .tcp(host: "127.0.0.1", port: 9000))
            for bad in ["php-fpm.sock", "example.com:9000", "127.0.0.1", "127.0.0.1:0", "unix:relative", "1.2.3:9"] {
                #expect(FastCGIAddress(bad) == nil, "\(bad)")
            }
        }

        @Test func unknownOptionsAndBadAddressesAreRefusedWithTheirPath() throws {
            #expect(throws: ConfigError.self) { try FastCGIUpstreamHandler.make(options: options("{}"), log: { _ in }) }
            do {
                _ = try FastCGIUpstreamHandler.make(
                    options: options(#"{"address": "/a.sock", "adress": 1}"#), log: { _ in })
                Issue.record("expected an error")
            } catch let error as ConfigError {
                #expect("\(error)".contains("adress"))
            }
            #expect(throws: ConfigError.self) {
                try FastCGIUpstreamHandler.make(options: options(#"{"address": "php:9000"}"#), log: { _ in })
            }
            #expect(throws: ConfigError.self) {
                try FastCGIUpstreamHandler.make(
                    options: options(#"{"address": "/a.sock", "scriptFilename": "x.php"}"#), log: { _ in })
            }
            let handler = try FastCGIUpstreamHandler.make(
                options: options(
                    #"{"address": "127.0.0.1:9000", "timeoutMs": 500, "maxResponseBytes": 4096, "params": {"APP_ENV": "test"}}"#
                ),
                log: { _ in })
            #expect(handler.client.timeoutMs == 500 && handler.client.connectTimeoutMs == 2000)
            #expect(handler.client.maxResponseBytes == 4096)
            #expect(handler.extraParams.map(\.0) == ["APP_ENV"])
        }

        func request() -> Request {
            Request(
                method: .post, path: "/orders", query: "a=1",
                headers: Headers([
                    ("Content-Type", "application/json"), ("Content-Length", "999"), ("Idempotency-Key", "k1"),
                    ("X-Forwarded-For", "1.2.3.4"), ("Proxy", "evil"),
                ]), body: Array("{}".utf8),
                parameters: [
                    "REMOTE_ADDR": "127.0.0.1", "SCRIPT_FILENAME": "/srv/nginx.php", "SERVER_PROTOCOL": "HTTP/2.0",
                ])
        }

        @Test func paramsCarryNginxParamsHeadersAndTheBodyLength() throws {
            let handler = FastCGIUpstreamHandler(
                client: FastCGIClient(address: .unix(path: "/none")), scriptFilename: "/srv/app.php",
                extraParams: [("APP_ENV", "test"), ("REMOTE_ADDR", "10.0.0.1")])
            let params = Dictionary(uniqueKeysWithValues: try handler.params(for: request()))
            #expect(params["SCRIPT_FILENAME"] == "/srv/app.php")
            #expect(params["HTTP_IDEMPOTENCY_KEY"] == "k1")
            #expect(params["HTTP_X_FORWARDED_FOR"] == "1.2.3.4")
            #expect(
                params["HTTP_PROXY"] == nil && params["HTTP_CONTENT_TYPE"] == nil
                    && params["HTTP_CONTENT_LENGTH"] == nil)
            #expect(params["CONTENT_LENGTH"] == "2" && params["CONTENT_TYPE"] == "application/json")
            #expect(params["REQUEST_METHOD"] == "POST" && params["QUERY_STRING"] == "a=1")
            #expect(params["REQUEST_URI"] == "/orders?a=1" && params["SCRIPT_NAME"] == "/orders")
            #expect(params["GATEWAY_INTERFACE"] == "CGI/1.1" && params["SERVER_PROTOCOL"] == "HTTP/2.0")
            #expect(params["APP_ENV"] == "test" && params["REMOTE_ADDR"] == "10.0.0.1")
        }

        @Test func withoutAScriptOptionNginxsScriptFilenameIsUsedAndWithNeitherItIs500() throws {
            let handler = FastCGIUpstreamHandler(client: FastCGIClient(address: .unix(path: "/none")))
            let params = Dictionary(uniqueKeysWithValues: try handler.params(for: request()))
            #expect(params["SCRIPT_FILENAME"] == "/srv/nginx.php")
            var bare = request()
            bare.parameters = [:]
            do {
                _ = try handler.params(for: bare)
                Issue.record("expected a problem")
            } catch let problem as Problem {
                #expect(problem.status.rawValue == 500)
                #expect(problem.detail?.contains("scriptFilename") == true)
            }
        }

        @Test func anUnreachableServerIsA502ProblemNamingTheAddress() throws {
            let dir = TemporaryDirectory("fcgi-none")
            let logged = Mutex<[String]>([])
            let handler = FastCGIUpstreamHandler(
                client: FastCGIClient(address: .unix(path: dir.file("php.sock"))), scriptFilename: "/srv/app.php",
                log: { line in logged.withLock { $0.append(line) } })
            do {
                _ = try handler.handle(request(), context: RequestContext(route: "/orders"))
                Issue.record("expected a problem")
            } catch let problem as Problem {
                #expect(problem.status.rawValue == 502)
                #expect(problem.type.hasSuffix("/upstream-unavailable"))
                #expect(problem.detail?.contains(dir.file("php.sock")) == true)
            }
            #expect(logged.withLock { $0.count } == 1)
        }

        @Test func stderrIsLoggedAndTheAnswerReturned() throws {
            let reply =
                FakeFastCGIServer.record(7, Array("PHP Notice: a\nPHP Notice: b\n".utf8))
                + FakeFastCGIServer.record(6, Array("Status: 201 Created\r\nLocation: /orders/1\r\n\r\n{}".utf8))
                + FakeFastCGIServer.endRequest
            let server = FakeFastCGIServer(reply: reply)
            let logged = Mutex<[String]>([])
            let handler = FastCGIUpstreamHandler(
                client: server.client, scriptFilename: "/srv/app.php",
                log: { line in logged.withLock { $0.append(line) } })
            let response = try handler.handle(request(), context: RequestContext(route: "/orders"))
            #expect(response.status.rawValue == 201 && response.headers["Location"] == "/orders/1")
            #expect(response.body == Array("{}".utf8))
            #expect(
                logged.withLock { $0 }.map { $0.hasSuffix("PHP Notice: a") || $0.hasSuffix("PHP Notice: b") } == [
                    true, true,
                ])
        }
    }
}
