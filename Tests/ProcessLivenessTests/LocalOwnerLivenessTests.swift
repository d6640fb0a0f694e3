import Foundation
import ProcessLiveness
import TestSupport
import Testing

@Suite("Owner liveness on one host")
struct LocalOwnerLivenessTests {
    @Test func ownerHoldingItsLockIsAlive() throws {
        let dir = TemporaryDirectory()
        let a = try LocalOwnerLiveness(directory: dir.file("owners"))
        let b = try LocalOwnerLiveness(directory: dir.file("owners"))
        #expect(!b.isDead(a.owner))
        #expect(!a.isDead(b.owner))
        #expect(!a.isDead(a.owner))
        #expect(a.owner != b.owner)
    }

    @Test func ownerThatReleasedItsLockIsDeadAndItsFileRemoved() throws {
        let dir = TemporaryDirectory()
        let b = try LocalOwnerLiveness(directory: dir.file("owners"))
        var a: LocalOwnerLiveness? = try LocalOwnerLiveness(directory: dir.file("owners"))
        let owner = a!.owner
        #expect(!b.isDead(owner))
        a = nil
        #expect(b.isDead(owner))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("owners")).count == 1)
    }

    @Test func lockFileLeftWithoutALockHolderMeansDead() throws {
        let dir = TemporaryDirectory()
        let b = try LocalOwnerLiveness(directory: dir.file("owners"))
        let parts = b.owner.split(separator: ":")
        // What a SIGKILLed responder leaves: its file, no lock.
        FileManager.default.createFile(atPath: dir.file("owners/abc123.lock"), contents: nil)
        #expect(b.isDead("\(parts[0]):\(parts[1]):\(parts[2]):abc123"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("owners/abc123.lock")))
    }

    @Test func ownerFromAnEarlierBootIsDead() throws {
        let dir = TemporaryDirectory()
        let b = try LocalOwnerLiveness(directory: dir.file("owners"))
        let machine = b.owner.split(separator: ":")[0]
        #expect(b.isDead("\(machine):another-boot:dir:abc"))
    }

    @Test func ownerOnAnotherMachineIsNeverDeclaredDead() throws {
        let dir = TemporaryDirectory()
        let b = try LocalOwnerLiveness(directory: dir.file("owners"))
        #expect(!b.isDead("other-machine:some-boot:dir:abc"))
        #expect(!b.isDead(""))
        #expect(!b.isDead("garbage"))
    }

    @Test func ownerIdIsNeverUsedAsAPath() throws {
        let dir = TemporaryDirectory()
        let b = try LocalOwnerLiveness(directory: dir.file("owners"))
        let parts = b.owner.split(separator: ":")
        #expect(!b.isDead("\(parts[0]):\(parts[1]):\(parts[2]):../../etc/passwd"))
    }

    @Test func ownerWithAnotherStateDirectoryOnThisMachineIsLeftToItsLease() throws {
        let one = TemporaryDirectory()
        let two = TemporaryDirectory()
        let a = try LocalOwnerLiveness(directory: one.file("owners"))
        let b = try LocalOwnerLiveness(directory: two.file("owners"))
        #expect(!b.isDead(a.owner))  // its lock file is not in b's directory: unknown, not dead
    }

    @Test func startUpRemovesFilesOfDeadOwners() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("owners"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir.file("owners/dead1.lock"), contents: nil)
        _ = try LocalOwnerLiveness(directory: dir.file("owners"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("owners/dead1.lock")))
    }
}
