// sitegen serve: build, serve on loopback, watch the sources, rebuild and reload the browser.
//
// Markdown, README.md and rfc/index.txt changes are rebuilt in-process. Changes to Swift
// sources run `swift build`; when code sitegen links changed (its own, the config definitions
// or the command tree), sitegen replaces itself with the new build (exec), keeping its
// arguments. With --mox, that mox binary is rebuilt too and the command reference read from it. Open pages poll
// /_sitegen/wait and reload when the build generation changes; a failed build shows its
// error in the page instead of a stale site.

import FoundationEssentials
import SiteBuilder
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

struct Serve {
    var sources: SourceOptions
    var port: Int
    var out: String?
    /// How often to look for changed sources, in milliseconds.
    var interval: Int

    func run() throws {
        let outDir = self.out ?? self.sources.root + "/website/html"
        let state = ServeState()
        let watcher = Watcher(root: self.sources.root)
        var snapshot = watcher.snapshot()
        state.finish(self.rebuild(outDir: outDir))

        let files = SiteFiles(directory: outDir, state: state)
        let server: PreviewServer
        do {
            server = try PreviewServer(port: self.port) { files.handle($0) }
        } catch {
            writeStderr("sitegen serve: \(error)\n")
            throw ExitStatus(code: 1)
        }
        Threads.detach { server.serve() }
        print("sitegen: serving \(outDir) on http://127.0.0.1:\(self.port)/ (watching for changes)")

        while true {
            usleep(useconds_t(max(self.interval, 10) * 1000))
            let next = watcher.snapshot()
            let changed = watcher.changes(from: snapshot, to: next)
            if changed.isEmpty {
                continue
            }
            snapshot = next
            print("sitegen: changed: \(changed.prefix(5).joined(separator: ", "))\(changed.count > 5 ? ", ..." : "")")
            let swiftChanged = changed.filter { $0.hasSuffix(".swift") }
            if !swiftChanged.isEmpty {
                // The references come from code: rebuild the binaries first.
                var failure: String?
                let products = self.sources.mox == nil ? ["sitegen"] : ["mox", "sitegen"]
                for product in products where failure == nil {
                    let result = try Subprocess.run(
                        ["swift", "build", "--package-path", self.sources.root, "--product", product],
                        mergeOutput: true
                    )
                    if result.status != 0 {
                        failure = String(decoding: result.stdout, as: UTF8.self)
                    }
                }
                if let failure {
                    state.finish(.failure(SiteError("swift build failed:\n\n" + failure)))
                    continue
                }
                if swiftChanged.contains(where: { !$0.hasPrefix("Sources/moxserver/") }) {
                    // Code sitegen links changed (moxserver/ holds only what commands do, which the
                    // references don't show): continue as the new binary.
                    Self.reexec()
                }
            }
            state.finish(self.rebuild(outDir: outDir))
        }
    }

    func rebuild(outDir: String) -> Result<Int, SiteError> {
        do {
            let pages = try SiteBuilder.build(try Inputs.read(self.sources), options: SiteOptions(liveReload: true))
            try SiteOutput.write(pages, to: outDir)
            print("sitegen: built \(pages.count) pages")
            return .success(pages.count)
        } catch let error as SiteError {
            print("sitegen: build failed: \(error)")
            return .failure(error)
        } catch {
            print("sitegen: build failed: \(error)")
            return .failure(SiteError("\(error)"))
        }
    }

    /// Replaces this process with the freshly built sitegen, same arguments.
    static func reexec() -> Never {
        let path = CommandLine.arguments[0].contains("/") ? CommandLine.arguments[0] : "/proc/self/exe"
        print("sitegen: sources of sitegen changed, restarting \(path)")
        var argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
        argv.append(nil)
        execv(path, &argv)
        writeStderr("sitegen: restarting failed: \(String(cString: strerror(errno)))\n")
        Glibc.exit(1)
    }
}

/// The state of the preview: a generation number that changes on every build, and the last
/// build's error.
final class ServeState: Sendable {
    private struct Values {
        /// Starts from the clock, so a restarted server never repeats a generation a page has seen.
        var generation = UInt64(Date().timeIntervalSince1970 * 1000)
        var error: SiteError?
    }

    private let values = Mutex(Values())

    var generation: UInt64 { self.values.withLock { $0.generation } }
    var error: SiteError? { self.values.withLock { $0.error } }

    func finish(_ result: Result<Int, SiteError>) {
        self.values.withLock {
            switch result {
            case .success: $0.error = nil
            case .failure(let e): $0.error = e
            }
            $0.generation += 1
        }
    }
}

/// Polls modification times and sizes of the sources.
struct Watcher: Sendable {
    let root: String
    static let directories = ["website", "rfc", "Sources"]
    static let files = ["README.md", "Package.swift"]

    typealias Snapshot = [String: String]

    func snapshot() -> Snapshot {
        var snap: Snapshot = [:]
        let fm = FileManager.default
        func add(_ rel: String) {
            if let attrs = try? fm.attributesOfItem(atPath: self.root + "/" + rel),
                let mtime = attrs[.modificationDate] as? Date
            {
                snap[rel] = "\(mtime.timeIntervalSince1970)/\(attrs[.size] as? Int ?? 0)"
            }
        }
        for file in Self.files {
            add(file)
        }
        for dir in Self.directories {
            guard let paths = try? fm.subpathsOfDirectory(atPath: self.root + "/" + dir) else { continue }
            for rel in paths {
                if dir == "website" && (rel == "html" || rel.hasPrefix("html/")) {
                    continue
                }
                if rel.hasPrefix(".") || rel.contains("/.") {
                    continue
                }
                if rel.hasSuffix(".md") || rel.hasSuffix(".txt") || rel.hasSuffix(".swift") {
                    add(dir + "/" + rel)
                }
            }
        }
        return snap
    }

    func changes(from old: Snapshot, to new: Snapshot) -> [String] {
        var changed: [String] = []
        for (path, stamp) in new where old[path] != stamp {
            changed.append(path)
        }
        for path in old.keys where new[path] == nil {
            changed.append(path)
        }
        return changed.sorted()
    }
}

/// Serves the built site, the reload endpoint, and the error page after a failed build.
struct SiteFiles: Sendable {
    let directory: String
    let state: ServeState

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        if request.path == "/_sitegen/wait" {
            return self.wait(known: request.query["generation"] ?? "")
        }
        let parts = request.path.split(separator: "/")
        if parts.contains(where: { $0.hasPrefix(".") }) {
            return .text(404, "Not Found", "not found\n")
        }
        var file = self.directory + "/" + parts.joined(separator: "/")
        var info = stat()
        guard stat(file, &info) == 0 else {
            return .text(404, "Not Found", "not found: \(request.path)\n")
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            if !request.path.hasSuffix("/") {
                // Relative links in pages only work from the directory's URL with its slash.
                var response = HTTPResponse.text(301, "Moved Permanently", "")
                response.headers = [("Location", request.path + "/")]
                return response
            }
            file += "/index.html"
        }
        if file.hasSuffix(".html"), let error = self.state.error {
            return .text(200, "OK", Self.errorPage(error), type: "text/html; charset=utf-8")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            return .text(404, "Not Found", "not found: \(request.path)\n")
        }
        return HTTPResponse(
            status: 200,
            reason: "OK",
            headers: [("Content-Type", Self.contentType(file))],
            body: Array(data)
        )
    }

    /// Answers with the current generation once it differs from the one the page knows, or
    /// after 25 seconds.
    func wait(known: String) -> HTTPResponse {
        for _ in 0..<250 {
            let generation = String(self.state.generation)
            if generation != known || known.isEmpty {
                return .text(200, "OK", generation)
            }
            usleep(100_000)
        }
        return .text(200, "OK", String(self.state.generation))
    }

    static func errorPage(_ error: SiteError) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8" /><title>Build failed - sitegen</title>
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <style>body { font-family: system-ui, sans-serif; margin: 2em; } pre { background: #fff0f0; padding: 1em; white-space: pre-wrap; }</style>
        </head><body>
        <h1>The site failed to build</h1>
        <p>Fix the problem below and save; this page reloads when the next build is done.</p>
        <pre>\(escapeHTML(error.message))</pre>
        \(SiteBuilder.liveReloadScript)</body></html>

        """
    }

    static func contentType(_ file: String) -> String {
        switch file.split(separator: ".").last.map({ $0.lowercased() }) ?? "" {
        case "html": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "svg": return "image/svg+xml"
        case "txt": return "text/plain; charset=utf-8"
        default: return "application/octet-stream"
        }
    }
}
