import Configuration
import Testing

@Suite struct ServerSettingsReloadTests {
    @Test func aReloadTakesMetricsPathAndLogLevelAndKeepsTheRest() {
        let running = ServerSettings()
        var edited = running
        edited.metricsPath = nil
        edited.logLevel = "warning"
        edited.workers = 3
        edited.store.durability = .periodic
        let applied = running.applyingReloadable(from: edited)
        #expect(applied.metricsPath == nil && applied.logLevel == "warning")
        #expect(applied.workers == running.workers && applied.store == running.store)
        #expect(running.restartOnlyChanges(to: edited) == ["workers", "store"])
        #expect(running.restartOnlyChanges(to: applied) == [])
    }
}
