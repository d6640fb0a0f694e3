import HTTP
import Synchronization
import Testing

@testable import IdemServer

/// Collects what a `Logger` writes.
final class LogSink: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    func logger(_ minimum: Logger.Level = .info, prefixPriority: Bool = false) -> Logger {
        Logger(minimum: minimum, prefixPriority: prefixPriority) { bytes in
            self.lines.withLock { $0.append(String(decoding: bytes, as: UTF8.self)) }
        }
    }
}

@Suite struct LoggerTests {
    @Test func oneLogfmtLinePerEventWithQuotingOnlyWhereNeeded() {
        let sink = LogSink()
        sink.logger().info("idem started", [("listen", "unix:/run/idem/idem.sock"), ("note", #"a "b"=c\d"#)])
        #expect(
            sink.all == [#"level=info msg="idem started" listen=unix:/run/idem/idem.sock note="a \"b\"=c\\d""# + "\n"])
    }

    @Test func controlCharactersAreEscapedAndEmptyValuesQuoted() {
        #expect(Logger.quote("a\nb") == #""a\nb""#)
        #expect(Logger.quote("tab\there") == #""tab\u{9}here""#)
        #expect(Logger.quote("") == #""""#)
        #expect(Logger.quote("plain") == "plain")
        #expect(Logger.quote("héllo") == #""héllo""#)
    }

    @Test func underJournaldEachLineCarriesItsSyslogPriority() {
        let sink = LogSink()
        let log = sink.logger(.debug, prefixPriority: true)
        log.error("boom")
        log.log(.debug, "detail")
        log.warning("careful")
        #expect(
            sink.all == ["<3>level=error msg=boom\n", "<7>level=debug msg=detail\n", "<4>level=warning msg=careful\n"])
    }

    @Test func linesBelowTheMinimumLevelAreDropped() {
        let sink = LogSink()
        let log = sink.logger(.warning)
        log.info("quiet")
        log.warning("loud")
        #expect(sink.all == ["level=warning msg=loud\n"])
        #expect(!log.enabled(.info) && log.enabled(.error))
        #expect(Logger.Level(name: "notice") == .notice && Logger.Level(name: "verbose") == nil)
    }

    @Test func durationsAreMillisecondsWithThreeDecimals() {
        var line = Logger(prefixPriority: false) { _ in }.line(.info, "t")
        line.milliseconds("a", nanoseconds: 1_234_567)
        line.milliseconds("b", nanoseconds: 999)
        line.milliseconds("c", nanoseconds: 12_000_000_000)
        line.field("n", 0)
        line.field("m", 4096)
        #expect(
            String(decoding: line.bytes, as: UTF8.self) == "level=info msg=t a=1.234 b=0.000 c=12000.000 n=0 m=4096")
    }

    @Test func theAccessLineNamesTheRequestNotTheKey() throws {
        let sink = LogSink()
        let app = Application(router: Router<RoutePipeline>(), log: sink.logger())
        var request = Request(method: .post, target: "/nowhere?x=1")
        request.parameters["REQUEST_ID"] = "cd82e7349820e98d"
        let context = RequestContext(route: "/payments")
        context.outcome = "executed"
        context.keyHash = "3f2a9c1d0b7e"
        context.handlerNanoseconds = 2_000_000
        context.storeOperations = [("claim", 300_000), ("complete", 200_000)]
        context.logFields = [("stored", "no")]
        let line = app.accessLine(request, Response(status: .created), context, 3_000_000)
        #expect(
            String(decoding: line.bytes, as: UTF8.self)
                == "level=info msg=request method=POST path=/nowhere route=/payments status=201 outcome=executed "
                + "duration_ms=3.000 handler_ms=2.000 store_ms=0.500 request_id=cd82e7349820e98d key=3f2a9c1d0b7e stored=no"
        )
        _ = app.respond(request)
        #expect(sink.all.count == 1)
        #expect(sink.all[0].contains("status=404 outcome=no-route"), "\(sink.all)")
    }
}
