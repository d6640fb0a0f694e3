import Foundation
import TestSupport
import Testing

/// `make install` and `make uninstall` (scripts/install.sh) into a DESTDIR: the exact tree,
/// units rendered for the PREFIX and accepted by `systemd-analyze verify`, the nginx site
/// accepted by `nginx -t`, operator files kept, and what uninstall leaves behind.
/// The first install builds the self-contained release binaries in .build/install (~1 min cold).
@Suite("Install: make install / uninstall, systemd units and the nginx site", .serialized)
struct InstallTests {
    struct Run {
        let status: Int32
        let output: String
    }

    static let root = PackagePaths.root

    static func run(_ executable: String, _ arguments: [String]) throws -> Run {
        let dir = TemporaryDirectory("idem-install-run")
        let child = try ChildProcess(executable, arguments, outputPath: dir.file("out"))
        child.process.waitUntilExit()
        return Run(status: child.process.terminationStatus, output: child.output)
    }

    /// `make -C <repo> <target> DESTDIR=<destdir> VAR=value…`; fails the test unless it succeeds.
    @discardableResult
    static func make(_ target: String, _ destdir: String, _ variables: [String] = ["PREFIX=/usr/local"]) throws
        -> String
    {
        let r = try run("/usr/bin/make", ["-s", "-C", root, target, "DESTDIR=\(destdir)"] + variables)
        try #require(r.status == 0, "make \(target) failed:\n\(r.output)")
        return r.output
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// Every file and symlink under `directory`, as paths relative to it.
    static func tree(_ directory: String) -> Set<String> {
        var found: Set<String> = []
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let path = enumerator?.nextObject() as? String {
            let type = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + path))?[.type]
            if type as? FileAttributeType != .typeDirectory { found.insert(path) }
        }
        return found
    }

    static let configFiles: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/config")) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }()

    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    // MARK: - make install

    @Test func installsTheExpectedTreeWithUnitsRenderedForThePrefix() throws {
        let dest = TemporaryDirectory("idem-destdir")
        let output = try Self.make("install", dest.path)
        #expect(!Self.configFiles.isEmpty)

        var expected: Set<String> = [
            "usr/local/bin/idem", "usr/local/bin/idemctl",
            "etc/nginx/sites-available/idem",
            "usr/local/lib/systemd/system/idem.socket", "usr/local/lib/systemd/system/idem.service",
            "usr/local/lib/sysusers.d/idem.conf",
            "usr/local/share/doc/idem/README.md", "usr/local/share/doc/idem/nginx-idem.conf",
        ]
        for name in Self.configFiles {
            expected.insert("etc/idem/\(name)")
            expected.insert("usr/local/share/doc/idem/config/\(name)")
        }
        #expect(Self.tree(dest.path) == expected)
        #expect(output.contains("staged into \(dest.path)"))

        for binary in ["idem", "idemctl"] {
            let path = dest.file("usr/local/bin/\(binary)")
            #expect(FileManager.default.isExecutableFile(atPath: path))
            #expect(Self.mode(path) == 0o755)
            // Self-contained: the Swift runtime is linked in, nothing comes from the toolchain.
            let ldd = try Self.run("/usr/bin/ldd", [path])
            #expect(ldd.status == 0)
            #expect(!ldd.output.contains("libswiftCore") && !ldd.output.contains("not found"), "\(ldd.output)")
        }
        for name in Self.configFiles {
            #expect(try Self.read(dest.file("etc/idem/\(name)")) == Self.read(Self.root + "/config/\(name)"))
            #expect(Self.mode(dest.file("etc/idem/\(name)")) == 0o644)
        }
        #expect(
            try Self.read(dest.file("etc/nginx/sites-available/idem"))
                == Self.read(Self.root + "/deploy/nginx-idem.conf"))
        #expect(
            try Self.read(dest.file("usr/local/lib/sysusers.d/idem.conf"))
                .contains(#"u idem - "Idem idempotency-key responder" /var/lib/idem /usr/sbin/nologin"#))
        #expect(
            try Self.read(dest.file("usr/local/share/doc/idem/README.md")) == Self.read(Self.root + "/README.md"))

        let service = try Self.read(dest.file("usr/local/lib/systemd/system/idem.service"))
        let lines = Set(service.split(separator: "\n").map(String.init))
        for line in [
            "ExecStartPre=/usr/local/bin/idemctl check-config --config /etc/idem",
            "ExecStart=/usr/local/bin/idem --config /etc/idem --state-dir /var/lib/idem",
            "ExecReload=/usr/local/bin/idemctl check-config --config /etc/idem",
            "ExecReload=/bin/kill -HUP $MAINPID",
            "Documentation=file:///usr/local/share/doc/idem/README.md",
            "User=idem", "StateDirectory=idem", "MemoryDenyWriteExecute=yes", "CapabilityBoundingSet=",
        ] {
            #expect(lines.contains(line), "idem.service lacks \(line)")
        }
        let socket = try Self.read(dest.file("usr/local/lib/systemd/system/idem.socket"))
        for unit in [service, socket] {
            #expect(unit.range(of: "@[A-Z]+@", options: .regularExpression) == nil, "unrendered placeholder:\n\(unit)")
        }

        // The installed idemctl accepts the installed configuration.
        let check = try Self.run(
            dest.file("usr/local/bin/idemctl"), ["check-config", "--config", dest.file("etc/idem")])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("is valid"))
    }

    @Test func otherPrefixesGetTheirOwnPathsAndUnitDirectories() throws {
        let usr = TemporaryDirectory("idem-destdir")
        try Self.make("install", usr.path, ["PREFIX=/usr"])
        let usrService = try Self.read(usr.file("usr/lib/systemd/system/idem.service"))
        #expect(usrService.contains("\nExecStart=/usr/bin/idem --config /etc/idem --state-dir /var/lib/idem\n"))
        #expect(usrService.contains("\nDocumentation=file:///usr/share/doc/idem/README.md\n"))
        #expect(FileManager.default.fileExists(atPath: usr.file("usr/lib/sysusers.d/idem.conf")))
        #expect(FileManager.default.isExecutableFile(atPath: usr.file("usr/bin/idemctl")))

        // A prefix systemd does not search: units and sysusers.d go under /etc.
        let opt = TemporaryDirectory("idem-destdir")
        try Self.make("install", opt.path, ["PREFIX=/opt/idem", "SYSCONFDIR=/etc/opt"])
        let optService = try Self.read(opt.file("etc/systemd/system/idem.service"))
        #expect(
            optService.contains("\nExecStart=/opt/idem/bin/idem --config /etc/opt/idem --state-dir /var/lib/idem\n"))
        #expect(optService.contains("\nExecStartPre=/opt/idem/bin/idemctl check-config --config /etc/opt/idem\n"))
        #expect(FileManager.default.fileExists(atPath: opt.file("etc/sysusers.d/idem.conf")))
        #expect(FileManager.default.fileExists(atPath: opt.file("etc/opt/idem/server.json")))
        #expect(FileManager.default.fileExists(atPath: opt.file("etc/opt/nginx/sites-available/idem")))
    }

    @Test func reinstallKeepsFilesTheOperatorEdited() throws {
        let dest = TemporaryDirectory("idem-destdir")
        try Self.make("install", dest.path)
        let server = dest.file("etc/idem/server.json")
        let site = dest.file("etc/nginx/sites-available/idem")
        let edited = #"{"workers": 2}"# + "\n"
        try edited.write(toFile: server, atomically: true, encoding: .utf8)
        try "# certbot was here\n".write(toFile: site, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: dest.file("etc/idem/policies.json"))

        let output = try Self.make("install", dest.path)
        #expect(try Self.read(server) == edited)
        #expect(try Self.read(site) == "# certbot was here\n")
        #expect(output.contains("kept \(server)"))
        #expect(output.contains("kept \(site)"))
        // A missing file is installed again.
        #expect(output.contains("installed \(dest.file("etc/idem/policies.json"))"))
        #expect(
            try Self.read(dest.file("etc/idem/policies.json")) == Self.read(Self.root + "/config/policies.json"))
    }

    // MARK: - make uninstall

    @Test func uninstallRemovesWhatInstallPutThereButKeepsTheConfiguration() throws {
        let dest = TemporaryDirectory("idem-destdir")
        try Self.make("install", dest.path)
        // The operator enabled the site as the README says.
        try FileManager.default.createDirectory(
            atPath: dest.file("etc/nginx/sites-enabled"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: dest.file("etc/nginx/sites-enabled/idem"), withDestinationPath: "/etc/nginx/sites-available/idem")

        let output = try Self.make("uninstall", dest.path)
        #expect(Self.tree(dest.path) == Set(Self.configFiles.map { "etc/idem/\($0)" }))
        #expect(output.contains("kept \(dest.file("etc/idem"))"))
        #expect(output.contains("/var/lib/idem"))
        #expect(output.contains("removed \(dest.file("usr/local/bin/idem"))"))

        // Uninstalling twice is harmless; an edited site is kept, like the configuration.
        try Self.make("uninstall", dest.path)
        try Self.make("install", dest.path)
        try "# edited\n".write(toFile: dest.file("etc/nginx/sites-available/idem"), atomically: true, encoding: .utf8)
        let again = try Self.make("uninstall", dest.path)
        #expect(again.contains("kept \(dest.file("etc/nginx/sites-available/idem"))"))
        #expect(!FileManager.default.fileExists(atPath: dest.file("usr/local/bin/idemctl")))
        #expect(!FileManager.default.fileExists(atPath: dest.file("usr/local/lib/systemd/system/idem.service")))
    }

    // MARK: - systemd

    /// `systemd-analyze verify` on copies of the installed units whose binaries point into
    /// DESTDIR (verify checks that ExecStart= binaries exist). It exits 0 on a directive it
    /// ignores, so any message about our units counts as a failure too.
    static func verify(units: [String: String], destdir: String) throws -> (ok: Bool, output: String) {
        let dir = TemporaryDirectory("idem-verify")
        var paths: [String] = []
        for (name, text) in units {
            let rendered = text.replacingOccurrences(of: "=/usr/local/bin/", with: "=\(destdir)/usr/local/bin/")
            try rendered.write(toFile: dir.file(name), atomically: true, encoding: .utf8)
            paths.append(dir.file(name))
        }
        let r = try run("/usr/bin/systemd-analyze", ["verify", "--man=no"] + paths.sorted())
        let complaints = r.output.split(separator: "\n").filter { $0.contains("idem") }
        return (r.status == 0 && complaints.isEmpty, r.output)
    }

    @Test func systemdAnalyzeVerifiesTheInstalledUnits() throws {
        let dest = TemporaryDirectory("idem-destdir")
        try Self.make("install", dest.path)
        let unitDir = dest.file("usr/local/lib/systemd/system")
        let units = [
            "idem.service": try Self.read(unitDir + "/idem.service"),
            "idem.socket": try Self.read(unitDir + "/idem.socket"),
        ]
        let good = try Self.verify(units: units, destdir: dest.path)
        #expect(good.ok, "systemd-analyze verify:\n\(good.output)")

        // The check can fail: a misspelt value, a missing binary, a broken socket.
        let service = units["idem.service"]!
        for broken in [
            service.replacingOccurrences(of: "ProtectSystem=strict", with: "ProtectSystem=strictest"),
            service.replacingOccurrences(of: "SystemCallFilter=@system-service", with: "SystemCallFilter=@no-such-set"),
            service.replacingOccurrences(of: "/usr/local/bin/idem ", with: "/usr/local/bin/idem-missing "),
        ] {
            let result = try Self.verify(
                units: ["idem.service": broken, "idem.socket": units["idem.socket"]!], destdir: dest.path)
            #expect(!result.ok, "verify accepted a broken unit:\n\(broken)")
        }
        let brokenSocket = units["idem.socket"]!.replacingOccurrences(of: "SocketMode=0660", with: "SocketMode=rw")
        #expect(try !Self.verify(units: ["idem.service": service, "idem.socket": brokenSocket], destdir: dest.path).ok)

        // The hardening stays: systemd's own exposure score (0 = locked down, 10 = none).
        let security = try Self.run(
            "/usr/bin/systemd-analyze", ["security", "--offline=yes", "--no-pager", unitDir + "/idem.service"])
        let score = security.output.split(separator: "\n").first { $0.contains("Overall exposure level") }
            .flatMap { $0.split(separator: " ").compactMap { Double($0) }.first }
        let exposure = try #require(score, "no exposure level in:\n\(security.output)")
        #expect(exposure <= 2.0, "\(security.output)")
    }

    // MARK: - nginx

    @Test func nginxAcceptsTheInstalledSiteAndItTalksToTheSocketUnit() throws {
        let dest = TemporaryDirectory("idem-destdir")
        try Self.make("install", dest.path)
        let site = dest.file("etc/nginx/sites-available/idem")

        func nginxTest(_ sitePath: String) throws -> Run {
            let dir = TemporaryDirectory("idem-nginx-t")
            try FileManager.default.copyItem(atPath: "/etc/nginx/fastcgi_params", toPath: dir.file("fastcgi_params"))
            let conf = """
                pid \(dir.file("nginx.pid"));
                error_log stderr;
                events {}
                http {
                    access_log off;
                    client_body_temp_path \(dir.path);
                    fastcgi_temp_path \(dir.path);
                    proxy_temp_path \(dir.path);
                    uwsgi_temp_path \(dir.path);
                    scgi_temp_path \(dir.path);
                    include \(sitePath);
                }

                """
            try conf.write(toFile: dir.file("nginx.conf"), atomically: true, encoding: .utf8)
            return try Self.run("/usr/sbin/nginx", ["-t", "-p", dir.path, "-c", dir.file("nginx.conf")])
        }
        let good = try nginxTest(site)
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("test is successful"))

        // The check can fail.
        let broken = TemporaryDirectory("idem-nginx-site")
        try (Self.read(site) + "\nserver { listen 127.0.0.1:9000; fastcgi_pass; }\n")
            .write(toFile: broken.file("idem"), atomically: true, encoding: .utf8)
        #expect(try nginxTest(broken.file("idem")).status != 0)

        // One socket path: the one the socket unit listens on, nginx connects to, server.json names.
        let socket = try Self.read(dest.file("usr/local/lib/systemd/system/idem.socket"))
        #expect(socket.contains("\nListenStream=/run/idem/idem.sock\n"))
        #expect(try Self.read(site).contains("server unix:/run/idem/idem.sock;"))
        #expect(try Self.read(dest.file("etc/idem/server.json")).contains(#""listen": "unix:/run/idem/idem.sock""#))
    }
}
