import Configuration
import Foundation
import Idempotency
import Testing

/// The options issue 3 added to `idempotency-inbound`, good and bad.
@Suite struct IdempotencyOptionsTests {
    private let options = "$.policies[0].handler.options"

    func inbound(_ optionsJSON: String) throws -> IdempotencyOptions {
        let config = try ConfigFixture(inboundOptions: optionsJSON).load()
        return try #require(config.policies["idempotency-inbound"]).idempotency
    }

    @Test func defaultsMatchTheREADME() throws {
        let o = try inbound("{}")
        #expect(o.ttlSeconds == 86_400 && o.lockTimeoutSeconds == 60 && o.waitSeconds == 0)
        #expect(o.principal == .none && !o.strict && o.maxStoredBytes == 1 << 20)
        #expect(o.replayHeader == "X-Idempotent-Replay" && !o.stripeReplayHeader)
    }

    @Test(arguments: [
        (#"{"from": "none"}"#, PrincipalSource.none),
        (#"{"from": "remote-user"}"#, .remoteUser),
        (#"{"from": "param", "name": "X_AUTH_USER"}"#, .parameter("X_AUTH_USER")),
        (#"{"from": "header", "name": "Authorization"}"#, .headerHash("Authorization")),
    ])
    func principalSources(json: String, expected: PrincipalSource) throws {
        #expect(try inbound(#"{"principal": \#(json)}"#).principal == expected)
    }

    @Test func everyNewOptionDecodes() throws {
        let o = try inbound(
            #"{"strict": true, "waitSeconds": 5, "maxStoredBytes": 4096, "replayHeader": "Idem-Replay", "stripeReplayHeader": true}"#
        )
        #expect(o.strict && o.waitSeconds == 5 && o.maxStoredBytes == 4096)
        #expect(o.replayHeader == "Idem-Replay" && o.stripeReplayHeader)
    }

    @Test(arguments: [
        (#"{"principal": {"from": "cookie"}}"#, ".principal.from", "remote-user, param, header"),
        (#"{"principal": {"from": "header"}}"#, ".principal", "missing required member \"name\""),
        (#"{"principal": {"from": "remote-user", "name": "x"}}"#, ".principal.name", "only used with"),
        (#"{"principal": {"from": "header", "name": "X_User"}}"#, ".principal.name", "nginx drops"),
        (#"{"strict": "yes"}"#, ".strict", "expected true or false"),
        (#"{"waitSeconds": 61}"#, ".waitSeconds", "from 0 to 60"),
        (#"{"maxStoredBytes": -1}"#, ".maxStoredBytes", "expected an integer"),
        (#"{"replayHeader": "bad header"}"#, ".replayHeader", "HTTP header name"),
        (#"{"ttlSeconds": 30, "lockTimeoutSeconds": 60}"#, "", "must not exceed ttlSeconds"),
    ])
    func badOptionsNameTheirPath(json: String, suffix: String, message: String) throws {
        let e = try #require(try ConfigFixture(inboundOptions: json).loadError())
        #expect(e.path == options + suffix)
        #expect(e.message.contains(message), "\(e.message)")
    }
}

/// Review findings: configurations that looked valid but would misbehave at run time.
@Suite struct RiskyConfigurationTests {
    @Test func principalFromAClientControlledParamIsRefused() throws {
        let e = try #require(
            try ConfigFixture(inboundOptions: #"{"principal": {"from": "param", "name": "HTTP_X_USER"}}"#).loadError())
        #expect(e.path == "$.policies[0].handler.options.principal.name")
        #expect(e.message.contains("clients control"))
    }

    @Test func twoIdempotencyInboundPoliciesOnOneRouteAreRefused() throws {
        let extra = #"""
            ,
            {"name": "second-inbound", "policyType": "idempotency-inbound", "handler": {"options": {}}}
            """#
        let routes = ConfigFixture.routes().replacingOccurrences(
            of: #""inbound": ["idempotency-inbound"]"#, with: #""inbound": ["idempotency-inbound", "second-inbound"]"#)
        let e = try #require(
            try ConfigFixture(policies: ConfigFixture.policies(extra: extra), routes: routes).loadError())
        #expect(e.message.contains("one idempotency-inbound"), "\(e.message)")
    }

    @Test(arguments: ["127.0.0.1", "[::1]:9000", "unix:relative.sock", "host.example:99999", "fd:x"])
    func unusableListenAddressIsRefused(listen: String) throws {
        let e = try #require(try ConfigFixture(server: #"{"listen": "\#(listen)"}"#).loadError())
        #expect(e.path == "$.listen")
    }

    @Test(arguments: ["unix:/run/idem/idem.sock", "/tmp/x.sock", "127.0.0.1:9001", "localhost:9001", ":9001", "fd:3"])
    func usableListenAddressIsAccepted(listen: String) throws {
        #expect(try ConfigFixture(server: #"{"listen": "\#(listen)"}"#).load().server.listen == listen)
    }
}
