import Configuration
import Idempotency
import TestSupport
import Testing

import struct HTTP.Method

@Suite struct ConfigurationLoadTests {
    @Test func shippedConfigDirectoryLoads() throws {
        let config = try IdemConfiguration.load(
            directory: PackagePaths.root + "/config", handlers: ConfigFixture.handlers)
        #expect(config.routes.count == 3)
        let inbound = try #require(config.policies["idempotency-inbound"])
        #expect(inbound.type == .idempotencyInbound)
        #expect(inbound.idempotency.ttlSeconds == 86_400)
        #expect(config.policies["idempotency-outbound"]?.type == .idempotencyOutbound)

        let create = try #require(config.routes.first { $0.path == "/payments" && $0.method == .post })
        #expect(create.handlerName == "createPayment")
        #expect(create.operationId == "create-payment")
        #expect(create.inbound == ["idempotency-inbound"])
        #expect(create.outbound == ["idempotency-outbound"])
        let get = try #require(config.routes.first { $0.path == "/payments/{id}" })
        #expect(get.method == .get)
        #expect(get.handlerName == "getPayment")
        #expect(get.inbound.isEmpty && get.outbound.isEmpty)

        #expect(config.server.workers == 16)
        #expect(config.server.socketMode == 0o660)
        #expect(config.server.store.durability == .full)
    }

    @Test func serverFileIsOptionalAndDefaultsApply() throws {
        let f = try ConfigFixture()
        let config = try f.load()
        #expect(config.server == ServerSettings())
        #expect(config.server.listen == "unix:/run/idem/idem.sock")
        #expect(config.server.workers == 16)
        #expect(config.server.stateDirectory == "/var/lib/idem")
        #expect(config.server.store.kind == "lmdb")
        #expect(config.directory == f.directory.path)
    }

    @Test func directoryWithTrailingSlashLoadsAndErrorsNameTheFileOnce() throws {
        let f = try ConfigFixture(inboundOptions: #"{"ttlSeconds": "x"}"#)
        let error = #expect(throws: ConfigError.self) {
            try IdemConfiguration.load(directory: f.directory.path + "/", handlers: ConfigFixture.handlers)
        }
        #expect(error?.file == f.path("policies.json"))
    }

    @Test func inboundOptionsAreDecoded() throws {
        let f = try ConfigFixture(
            inboundOptions: """
                {"ttlSeconds": 600, "lockTimeoutSeconds": 30, "headerName": "X-Request-Key", "methods": ["post", "PUT"],
                 "required": true, "retryAfterSeconds": 5}
                """)
        let o = try #require(try f.load().policies["idempotency-inbound"]).idempotency
        #expect(o.ttlSeconds == 600)
        #expect(o.lockTimeoutSeconds == 30)
        #expect(o.headerName == "X-Request-Key")
        #expect(o.methods == ["POST", "PUT"])
        #expect(o.required)
        #expect(o.retryAfterSeconds == 5)
        #expect(o.cacheStatuses == .success)
    }

    @Test func omittedOptionsKeepDefaults() throws {
        let f = try ConfigFixture(inboundOptions: "{}")
        #expect(try f.load().policies["idempotency-inbound"]?.idempotency == IdempotencyOptions())
    }

    @Test func zuploRouteKeyIsAcceptedAsAlias() throws {
        let f = try ConfigFixture(routes: ConfigFixture.routes(routeKey: "x-zuplo-route"))
        let routes = try f.load().routes
        #expect(routes.count == 1)
        #expect(routes.first?.handlerName == "createPayment")
        #expect(routes.first?.inbound == ["idempotency-inbound"])
    }

    @Test func serverFileValuesAreRead() throws {
        let f = try ConfigFixture(
            server: """
                {"listen": "127.0.0.1:9000", "socketMode": "0600", "workers": 2, "stateDirectory": "/srv/idem",
                 "maxBodyBytes": 4096, "store": {"kind": "lmdb", "mapSizeMiB": 64, "durability": "meta-async", "fileName": "x.mdb"}}
                """)
        let s = try f.load().server
        #expect(s.listen == "127.0.0.1:9000")
        #expect(s.socketMode == 0o600)
        #expect(s.workers == 2)
        #expect(s.stateDirectory == "/srv/idem")
        #expect(s.maxBodyBytes == 4096)
        #expect(s.store.mapSizeMiB == 64)
        #expect(s.store.durability == .metaAsync)
        #expect(s.store.fileName == "x.mdb")
    }

    @Test func cacheStatusesAsSingleCode() throws {
        let f = try ConfigFixture(inboundOptions: #"{"cacheStatuses": [201]}"#)
        let set = try #require(try f.load().policies["idempotency-inbound"]).idempotency.cacheStatuses
        #expect(set == StatusSet([201...201]))
        #expect(set.contains(201) && !set.contains(200))
    }

    @Test func cacheStatusesAsClass() throws {
        let f = try ConfigFixture(inboundOptions: #"{"cacheStatuses": ["2xx"]}"#)
        let set = try #require(try f.load().policies["idempotency-inbound"]).idempotency.cacheStatuses
        #expect(set == StatusSet([200...299]))
    }

    @Test func cacheStatusesAsRangeMixedWithCode() throws {
        let f = try ConfigFixture(inboundOptions: #"{"cacheStatuses": ["200-299", 404]}"#)
        let set = try #require(try f.load().policies["idempotency-inbound"]).idempotency.cacheStatuses
        #expect(set == StatusSet([200...299, 404...404]))
        #expect(set.contains(404) && !set.contains(409))
    }
}
