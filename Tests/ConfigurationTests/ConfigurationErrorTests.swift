import Configuration
import Foundation
import TestSupport
import Testing

/// Every bad file fails at load with the file, the JSONPath of the offending value and a message.
@Suite struct ConfigurationErrorTests {
    private let route = #"$.paths["/payments"].post["x-idem-route"]"#

    // MARK: files

    @Test func missingPoliciesFileIsNamed() throws {
        let f = try ConfigFixture()
        try FileManager.default.removeItem(atPath: f.path("policies.json"))
        let e = try #require(f.loadError())
        #expect(e.file == f.path("policies.json"))
        #expect(e.path == "$")
        #expect(e.message.contains("does not exist"))
    }

    @Test func missingRoutesFileIsNamed() throws {
        let f = try ConfigFixture()
        try FileManager.default.removeItem(atPath: f.path("routes.oas.json"))
        let e = try #require(f.loadError())
        #expect(e.file == f.path("routes.oas.json"))
        #expect(e.message.contains("does not exist"))
    }

    @Test func invalidJsonNamesLineAndColumn() throws {
        let f = try ConfigFixture(policies: "{\n  \"policies\": [,]\n}")
        let e = try #require(f.loadError())
        #expect(e.file == f.path("policies.json"))
        #expect(e.path == "$")
        #expect(e.message.contains("invalid JSON"))
        #expect(e.message.contains("line 2, column 16"))
    }

    @Test func duplicateMemberInJsonIsInvalidJson() throws {
        let f = try ConfigFixture(server: "{\"workers\": 2,\n\"workers\": 3}")
        let e = try #require(f.loadError())
        #expect(e.file == f.path("server.json"))
        #expect(e.message.contains("line 2, column 1"))
        #expect(e.message.contains("duplicate member"))
    }

    @Test func descriptionJoinsFilePathAndMessage() {
        let e = ConfigError(file: "/etc/idem/policies.json", path: "$.policies", message: "boom")
        #expect(e.description == "/etc/idem/policies.json: $.policies: boom")
    }

    // MARK: policies.json

    @Test func ttlSecondsAsStringIsWrongType() throws {
        let f = try ConfigFixture(inboundOptions: #"{"ttlSeconds": "86400"}"#)
        let e = try #require(f.loadError())
        #expect(e.file == f.path("policies.json"))
        #expect(e.path == "$.policies[0].handler.options.ttlSeconds")
        #expect(e.message.contains("expected an integer from 1 to 31536000"))
        #expect(e.message.contains(#"found the string "86400""#))
    }

    @Test func ttlSecondsOutOfRangeNamesTheValue() throws {
        let f = try ConfigFixture(inboundOptions: #"{"ttlSeconds": 0}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.policies[0].handler.options.ttlSeconds")
        #expect(e.message.hasSuffix("found 0"))
    }

    @Test func ttlSecondsWithFractionIsRejected() throws {
        let f = try ConfigFixture(inboundOptions: #"{"ttlSeconds": 1.5}"#)
        let e = try #require(f.loadError())
        #expect(e.message.contains("found the number 1.5"))
    }

    @Test func misspelledOptionIsUnknownMember() throws {
        let f = try ConfigFixture(inboundOptions: #"{"ttlSecond": 60}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.policies[0].handler.options.ttlSecond")
        #expect(e.message.contains(#"unknown member "ttlSecond""#))
        #expect(e.message.contains("ttlSeconds"))
    }

    @Test func unknownPolicyTypeIsNamed() throws {
        let policies = ConfigFixture.policies().replacingOccurrences(
            of: #""policyType": "idempotency-outbound""#, with: #""policyType": "rate-limit""#)
        let f = try ConfigFixture(policies: policies)
        let e = try #require(f.loadError())
        #expect(e.path == "$.policies[1].policyType")
        #expect(e.message.contains(#"unknown policy type "rate-limit""#))
        #expect(e.message.contains("idempotency-inbound, idempotency-outbound"))
    }

    @Test func duplicatePolicyNameIsRejectedAtTheSecondName() throws {
        let extra = #", {"name": "idempotency-inbound", "policyType": "idempotency-inbound"}"#
        let f = try ConfigFixture(policies: ConfigFixture.policies(extra: extra))
        let e = try #require(f.loadError())
        #expect(e.path == "$.policies[2].name")
        #expect(e.message.contains(#"duplicate policy name "idempotency-inbound""#))
    }

    @Test func missingPoliciesMemberIsRejected() throws {
        let f = try ConfigFixture(policies: #"{"$schema": "x"}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$")
        #expect(e.message.contains(#"missing required member "policies""#))
    }

    @Test func outboundPolicyWithOptionsIsRejected() throws {
        let policies = ConfigFixture.policies().replacingOccurrences(
            of: #""IdempotencyOutbound", "module": "$import(idem)", "options": {}"#,
            with: #""IdempotencyOutbound", "module": "$import(idem)", "options": {"ttlSeconds": 5}"#)
        let f = try ConfigFixture(policies: policies)
        let e = try #require(f.loadError())
        #expect(e.path == "$.policies[1].handler.options.ttlSeconds")
        #expect(e.message.contains("takes no options"))
    }

    @Test func headerNameWithUnderscoreIsRejectedBecauseNginxDropsIt() throws {
        let f = try ConfigFixture(inboundOptions: #"{"headerName": "Idempotency_Key"}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.policies[0].handler.options.headerName")
        #expect(e.message.contains("nginx drops header names"))
    }

    @Test func emptyMethodsListIsRejected() throws {
        let f = try ConfigFixture(inboundOptions: #"{"methods": []}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.policies[0].handler.options.methods")
        #expect(e.message.contains("at least one method"))
    }

    @Test func badCacheStatusStringNamesTheElement() throws {
        let f = try ConfigFixture(inboundOptions: #"{"cacheStatuses": ["2xx", "20x"]}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.policies[0].handler.options.cacheStatuses[1]")
        #expect(e.message.contains(#"found "20x""#))
    }

    @Test(arguments: [#"["299-200"]"#, #"["6xx"]"#, #"["100-600"]"#])
    func invalidCacheStatusRangeOrClassIsRejected(_ statuses: String) throws {
        let f = try ConfigFixture(inboundOptions: #"{"cacheStatuses": \#(statuses)}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.policies[0].handler.options.cacheStatuses[0]")
        #expect(e.message.contains("expected a status (201)"))
    }

    @Test func cacheStatusCodeOutOfRangeIsRejected() throws {
        let f = try ConfigFixture(inboundOptions: #"{"cacheStatuses": [600]}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.policies[0].handler.options.cacheStatuses[0]")
        #expect(e.message.contains("from 100 to 599"))
    }

    @Test func emptyCacheStatusesIsRejected() throws {
        let f = try ConfigFixture(inboundOptions: #"{"cacheStatuses": []}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.policies[0].handler.options.cacheStatuses")
        #expect(e.message.contains("at least one status"))
    }

    // MARK: routes.oas.json

    @Test func unknownPolicyReferencedByRouteIsNamed() throws {
        let f = try ConfigFixture(
            routes: ConfigFixture.routes(policies: #"{"inbound": ["idem-in"], "outbound": ["idempotency-outbound"]}"#))
        let e = try #require(f.loadError())
        #expect(e.file == f.path("routes.oas.json"))
        #expect(e.path == route + ".policies.inbound[0]")
        #expect(e.message.contains(#"unknown policy "idem-in""#))
        #expect(e.message.contains("idempotency-inbound, idempotency-outbound"))
    }

    @Test func unknownHandlerExportIsNamed() throws {
        let f = try ConfigFixture(routes: ConfigFixture.routes(export: "makePayment"))
        let e = try #require(f.loadError())
        #expect(e.path == route + ".handler.export")
        #expect(e.message.contains(#"unknown handler "makePayment""#))
        #expect(e.message.contains("createPayment, getPayment, listPayments"))
    }

    @Test func inboundIdempotencyWithoutOutboundIsRejected() throws {
        let f = try ConfigFixture(routes: ConfigFixture.routes(policies: #"{"inbound": ["idempotency-inbound"]}"#))
        let e = try #require(f.loadError())
        #expect(e.path == route + ".policies")
        #expect(e.message.contains("idempotency-inbound needs an idempotency-outbound"))
    }

    @Test func outboundIdempotencyWithoutInboundIsRejected() throws {
        let f = try ConfigFixture(routes: ConfigFixture.routes(policies: #"{"outbound": ["idempotency-outbound"]}"#))
        let e = try #require(f.loadError())
        #expect(e.path == route + ".policies")
        #expect(e.message.contains("idempotency-outbound needs an idempotency-inbound"))
    }

    @Test func inboundPolicyInOutboundListIsRejected() throws {
        let f = try ConfigFixture(
            routes: ConfigFixture.routes(
                policies: #"{"inbound": ["idempotency-inbound"], "outbound": ["idempotency-inbound"]}"#))
        let e = try #require(f.loadError())
        #expect(e.path == route + ".policies.outbound[0]")
        #expect(e.message.contains("cannot run outbound"))
    }

    @Test func operationWithoutRouteObjectIsRejected() throws {
        let f = try ConfigFixture(routes: ConfigFixture.routes(routeKey: "x-other"))
        let e = try #require(f.loadError())
        #expect(e.path == #"$.paths["/payments"].post"#)
        #expect(e.message.contains(#"missing "x-idem-route""#))
    }

    @Test func pathParameterNotFillingSegmentIsRejected() throws {
        let routes = ConfigFixture.routes().replacingOccurrences(
            of: #""/payments": {"#, with: #""/payments/pay-{id}": {"#)
        let f = try ConfigFixture(routes: routes)
        let e = try #require(f.loadError())
        #expect(e.path == #"$.paths["/payments/pay-{id}"]"#)
        #expect(e.message.contains("fill a whole segment"))
    }

    // MARK: server.json

    @Test func zeroWorkersIsRejected() throws {
        let f = try ConfigFixture(server: #"{"workers": 0}"#)
        let e = try #require(f.loadError())
        #expect(e.file == f.path("server.json"))
        #expect(e.path == "$.workers")
        #expect(e.message.contains("from 1 to 1024, found 0"))
    }

    @Test func nonOctalSocketModeIsRejected() throws {
        let f = try ConfigFixture(server: #"{"socketMode": "999"}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.socketMode")
        #expect(e.message.contains(#"octal permission bits such as "0660", found "999""#))
    }

    @Test func socketModeAboveSevenSevenSevenIsRejected() throws {
        let f = try ConfigFixture(server: #"{"socketMode": "1777"}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.socketMode")
    }

    @Test func socketModeAsNumberIsWrongType() throws {
        let f = try ConfigFixture(server: #"{"socketMode": 660}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.socketMode")
        #expect(e.message.contains("expected a string, found the number 660"))
    }

    @Test func unknownDurabilityIsRejected() throws {
        let f = try ConfigFixture(server: #"{"store": {"durability": "sometimes"}}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.store.durability")
        #expect(e.message.contains("full, meta-async, periodic, none"))
        #expect(e.message.contains(#"found "sometimes""#))
    }

    @Test func relativeStateDirectoryIsRejected() throws {
        let f = try ConfigFixture(server: #"{"stateDirectory": "var/lib/idem"}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.stateDirectory")
        #expect(e.message.contains("absolute path"))
    }

    @Test func unsupportedStoreKindIsRejected() throws {
        let f = try ConfigFixture(server: #"{"store": {"kind": "memcached"}}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.store.kind")
        #expect(e.message.contains(#"unknown store kind "memcached""#))
    }

    @Test func sharedStoreWithoutItsAddressIsRejected() throws {
        let redis = try #require(try ConfigFixture(server: #"{"store": {"kind": "redis"}}"#).loadError())
        #expect(redis.path == "$.store")
        #expect(redis.message.contains(#"needs "url""#))
        let postgres = try #require(try ConfigFixture(server: #"{"store": {"kind": "postgres"}}"#).loadError())
        #expect(postgres.message.contains(#"needs "connection""#))
        let badURL = try #require(
            try ConfigFixture(server: #"{"store": {"kind": "redis", "url": "http://x"}}"#).loadError())
        #expect(badURL.path == "$.store.url")
    }

    @Test func storeFileNameWithSlashIsRejected() throws {
        let f = try ConfigFixture(server: #"{"store": {"fileName": "../idem.mdb"}}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.store.fileName")
    }

    @Test func unknownServerMemberIsRejected() throws {
        let f = try ConfigFixture(server: #"{"worker": 4}"#)
        let e = try #require(f.loadError())
        #expect(e.path == "$.worker")
        #expect(e.message.contains(#"unknown member "worker""#))
    }
}
