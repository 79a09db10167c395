// The handlers: metrics, autoconfig/autodiscover/mobileconfig, MTA-STS, and domains.conf's
// WebDomainRedirects and WebHandlers (WebStatic, WebRedirect, WebForward).

import AsyncHTTPClient
import HTTPTypes
import HummingbirdCore
import MailAddress
import MailConfig
import MailMetrics
import NIOCore
import NIOHTTP1
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A response before it is written: status, fields and where the body comes from.
struct WebResponse {
    enum Body {
        case none
        case bytes(ByteBuffer)
        /// Parts of a file (`ranges`), each written as read; one part is the plain body,
        /// several are a multipart/byteranges body (`boundary`, with each part's head).
        case file(path: String, parts: [FilePart])
        /// An upstream's response body, passed on as it arrives.
        case upstream(HTTPClientResponse.Body)
    }

    struct FilePart {
        var head: [UInt8]
        var range: Range<Int>
        var tail: [UInt8]
    }

    var status: HTTPResponse.Status
    var fields: HTTPFields
    var body: Body

    static func text(_ status: HTTPResponse.Status, _ text: String, fields: HTTPFields = [:]) -> WebResponse {
        var fields = fields
        fields[.contentType] = "text/plain; charset=utf-8"
        fields[.xContentTypeOptions] = "nosniff"
        return WebResponse(status: status, fields: fields, body: .bytes(ByteBuffer(string: text)))
    }

    static func bytes(_ status: HTTPResponse.Status, contentType: String, _ body: [UInt8], fields: HTTPFields = [:]) -> WebResponse {
        var fields = fields
        fields[.contentType] = contentType
        return WebResponse(status: status, fields: fields, body: .bytes(ByteBuffer(bytes: body)))
    }

    static var notFound: WebResponse { .text(.notFound, "404 page not found\n") }

    /// Go's http.Redirect: Location, and for GET/HEAD a small HTML body.
    static func redirect(_ status: Int, _ location: String, method: HTTPRequest.Method) -> WebResponse {
        var fields = HTTPFields()
        fields[.location] = location
        let code = HTTPResponse.Status(code: status)
        guard method == .get || method == .head else {
            return WebResponse(status: code, fields: fields, body: .none)
        }
        fields[.contentType] = "text/html; charset=utf-8"
        let body = "<a href=\"\(markupEscape(location))\">\(code.reasonPhrase)</a>.\n\n"
        return WebResponse(status: code, fields: fields, body: .bytes(ByteBuffer(string: body)))
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}

extension HTTPFields {
    /// mox's SafeHeaders, on the responses of its own handlers.
    mutating func addSafeHeaders() {
        self[.xFrameOptions] = "deny"
        self[.xContentTypeOptions] = "nosniff"
        self[.contentSecurityPolicy] = "default-src 'self' 'unsafe-inline' data:"
        self[HTTPField.Name("Referrer-Policy")!] = "same-origin"
    }
}

extension WebServer {
    func route(_ exchange: inout Exchange, _ web: WebConfig) async -> WebResponse {
        let request = exchange.request
        guard let path = cleanRequestPath(request.uri.path) else {
            return .text(.badRequest, "400 - bad request - invalid path\n")
        }
        let host = self.requestHost(exchange.hostHeader)
        if let system = WebRouter.systemRoute(port: exchange.port, host: host, path: path, config: web.config) {
            exchange.handler = system.name
            var response = await self.serveSystem(system, exchange, host: host, web)
            response.fields.addSafeHeaders()
            return response
        }
        if exchange.port.webserver {
            if let target = WebRouter.domainRedirect(host: host, config: web.config) {
                exchange.handler = "(domainredirect)"
                var location = "https://\(target)\(path)"
                if let query = request.uri.query { location += "?\(query)" }
                return .redirect(308, location, method: request.method)
            }
            var next = 0
            while let (index, matched) = WebRouter.webHandlerMatch(host: host, path: path, handlers: web.handlers, from: next) {
                next = index + 1
                let handler = web.handlers[index]
                exchange.handler = handler.name
                // A WebHandler serves plain HTTP only when it says so; otherwise to HTTPS.
                if !exchange.port.tls && !handler.config.dontRedirectPlainHTTP {
                    var location = "https://\(handler.domain)\(path)"
                    if let query = request.uri.query { location += "?\(query)" }
                    return .redirect(308, location, method: request.method)
                }
                if let response = await self.serveWebHandler(handler, exchange, path: path, matched: matched) {
                    return response
                }
            }
        }
        // The account, admin, webmail and webapi services are not part of this version: their
        // paths find nothing, as any other path.
        exchange.handler = "(nomatch)"
        return .notFound
    }

    // MARK: - System handlers

    func serveSystem(_ route: SystemRoute, _ exchange: Exchange, host: RequestHost, _ web: WebConfig) async -> WebResponse {
        let request = exchange.request
        switch route {
        case .metrics:
            return .bytes(.ok, contentType: "text/plain; version=0.0.4; charset=utf-8", MoxMetrics.render())
        case .metricsIndex:
            guard request.method == .get || request.method == .head else {
                return .text(.methodNotAllowed, "Method Not Allowed\n")
            }
            return .bytes(.ok, contentType: "text/html", Array("<html><body>see <a href=\"metrics\">metrics</a></body></html>".utf8))
        case .autoconfig:
            return self.autoconfig(exchange, host: host, web)
        case .autodiscover:
            return await self.autodiscover(exchange, web)
        case .mobileconfig:
            return self.mobileconfig(exchange, web)
        case .mtasts:
            guard var name = host.domain?.ascii else { return .notFound }
            name.removeFirst("mta-sts.".count)
            guard let domain = Domain.parse(name), let policy = ClientConfig.mtastsPolicy(domain: domain, config: web.config)
            else { return .notFound }
            var fields = HTTPFields()
            fields[.cacheControl] = "no-cache, max-age=0"
            return .bytes(.ok, contentType: "text/plain", Array(policy.utf8), fields: fields)
        }
    }

    func autoconfig(_ exchange: Exchange, host: RequestHost, _ web: WebConfig) -> WebResponse {
        let query = exchange.request.uri.queryParameters
        let given = query["emailaddress"].map { percentDecode(String($0).replacing("+", with: " ")) ?? String($0) } ?? ""
        var domainValue = ""
        defer { MoxMetrics.autoconfRequest(domain: domainValue) }
        let email: String
        let domain: Domain
        if given.isEmpty {
            // Thunderbird may ask without an address: answer for the domain of the host name.
            var name = exchange.hostHeader.lowercased()
            if name.hasPrefix("autoconfig.") { name.removeFirst("autoconfig.".count) }
            guard let d = Domain.parse(name) else {
                return .text(.badRequest, "400 - bad request - invalid domain: \(exchange.hostHeader)\n")
            }
            email = "%EMAILADDRESS%"
            domain = d
        } else {
            guard let address = Address.parse(given) else {
                return .text(.badRequest, "400 - bad request - invalid parameter emailaddress\n")
            }
            email = given
            domain = address.domain
        }
        domainValue = domain.ascii
        do {
            let settings = try ClientConfig.settings(domain: domain, config: web.config)
            let xml = ClientConfig.thunderbirdXML(email: email, domain: domain, settings: settings)
            return .bytes(.ok, contentType: "application/xml; charset=utf-8", Array(xml.utf8))
        } catch {
            return .text(.badRequest, "400 - bad request - \(error)\n")
        }
    }

    func autodiscover(_ exchange: Exchange, _ web: WebConfig) async -> WebResponse {
        var domainValue = ""
        defer { MoxMetrics.autodiscoverRequest(domain: domainValue) }
        guard exchange.request.method == .post else {
            return .text(.methodNotAllowed, "405 - method not allowed - post required\n")
        }
        var request = exchange.request
        guard let body = try? await request.collectBody(upTo: 64 * 1024) else {
            return .text(.badRequest, "400 - bad request - reading autodiscover request\n")
        }
        guard let email = ClientConfig.autodiscoverEmail(String(buffer: body)) else {
            return .text(.badRequest, "400 - bad request - parsing autodiscover request: no EMailAddress\n")
        }
        guard let address = Address.parse(email) else {
            return .text(.badRequest, "400 - bad request - invalid parameter emailaddress\n")
        }
        domainValue = address.domain.ascii
        do {
            let settings = try ClientConfig.settings(domain: address.domain, config: web.config)
            let xml = ClientConfig.autodiscoverXML(email: email, settings: settings)
            return .bytes(.ok, contentType: "application/xml; charset=utf-8", Array(xml.utf8))
        } catch {
            return .text(.badRequest, "400 - bad request - \(error)\n")
        }
    }

    func mobileconfig(_ exchange: Exchange, _ web: WebConfig) -> WebResponse {
        guard exchange.request.method == .get || exchange.request.method == .head else {
            return .text(.methodNotAllowed, "405 - method not allowed - get required\n")
        }
        let query = exchange.request.uri.queryParameters
        func param(_ name: String) -> String {
            query[Substring(name)].map { percentDecode(String($0).replacing("+", with: " ")) ?? String($0) } ?? ""
        }
        let addresses = param("addresses").split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
        guard let first = addresses.first else {
            return .text(.badRequest, "400 - bad request - missing/empty field addresses\n")
        }
        guard let address = Address.parse(first) else {
            return .text(.badRequest, "400 - bad request - parsing address: invalid address\n")
        }
        let settings: ClientSettings
        do {
            settings = try ClientConfig.settings(domain: address.domain, config: web.config)
        } catch {
            return .text(.badRequest, "400 - bad request - getting config for domain: \(error)\n")
        }
        let profile = ClientConfig.appleProfile(
            addresses: addresses,
            address: address,
            fullName: param("name"),
            settings: settings
        )
        var fields = HTTPFields()
        let filename = first.replacing(".", with: "-").replacing("@", with: "-at-")
        fields[.contentDisposition] = "attachment; filename=\"email-account-\(filename).mobileconfig\""
        return .bytes(.ok, contentType: "application/x-apple-aspen-config", Array(profile.utf8), fields: fields)
    }

    // MARK: - WebHandlers

    /// Serves a matched WebHandler; nil when the handler passes the request on to the next.
    func serveWebHandler(_ handler: CompiledWebHandler, _ exchange: Exchange, path: String, matched: String) async
        -> WebResponse?
    {
        let config = handler.config
        if let webStatic = config.webStatic {
            return self.serveStatic(webStatic, exchange, path: path)
        }
        if config.webRedirect != nil {
            switch WebRedirects.plan(
                handler,
                scheme: exchange.scheme,
                host: exchange.hostHeader,
                path: path,
                query: exchange.request.uri.query
            ) {
            case .redirect(let status, let location):
                return .redirect(status, location, method: exchange.request.method)
            case .notFound:
                return .notFound
            case .notHandled:
                return nil
            }
        }
        if let forward = config.webForward {
            return await self.forward(forward, exchange, path: path, matched: matched)
        }
        // WebInternal: the internal services are not part of this version.
        return .notFound
    }

    func serveStatic(_ config: WebStatic, _ exchange: Exchange, path: String) -> WebResponse? {
        let request = exchange.request
        var pass: WebResponse? { config.continueNotFound ? nil : .notFound }
        guard request.method == .get || request.method == .head else {
            return config.continueNotFound ? nil : .text(.methodNotAllowed, "405 - method not allowed\n")
        }
        var relative = path
        if !config.stripPrefix.isEmpty {
            guard path.hasPrefix(config.stripPrefix) else { return pass }
            relative = String(path.dropFirst(config.stripPrefix.count))
        }
        let root = config.root.hasPrefix("/") || self.rootBase.isEmpty ? config.root : StaticFiles.join(self.rootBase, config.root)
        let file = StaticFiles.join(root, relative)
        var responseHeaders = HTTPFields()
        for (name, value) in config.responseHeaders.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name(name) { responseHeaders.append(HTTPField(name: field, value: value)) }
        }
        switch StaticFiles.stat(file) {
        case .notFound:
            return pass
        case .permissionDenied:
            return .text(.forbidden, "403 - permission denied\n")
        case .failed:
            return .text(.internalServerError, "500 - internal server error\n")
        case .found(let info) where info.isDirectory:
            guard path.hasSuffix("/") else {
                return .redirect(307, request.uri.path + "/", method: request.method)
            }
            let index = StaticFiles.join(file, "index.html")
            switch StaticFiles.stat(index) {
            case .found(let indexInfo) where !indexInfo.isDirectory:
                responseHeaders[.contentType] = "text/html; charset=utf-8"
                return self.serveFile(index, indexInfo, request, fields: responseHeaders)
            case .permissionDenied:
                return .text(.forbidden, "403 - permission denied\n")
            default:
                guard config.listFiles else {
                    return config.continueNotFound ? nil : .text(.forbidden, "403 - permission denied\n")
                }
                guard let entries = StaticFiles.readDirectory(file) else {
                    return .text(.forbidden, "403 - permission denied\n")
                }
                let html = StaticFiles.listingHTML(entries: entries, atRoot: request.uri.path == "/")
                responseHeaders[.contentType] = "text/html; charset=utf-8"
                return WebResponse(status: .ok, fields: responseHeaders, body: .bytes(ByteBuffer(string: html)))
            }
        case .found(let info):
            if path.hasSuffix("/") { return pass }
            let cached = self.smallFiles.contents(file, info)
            if responseHeaders[.contentType] == nil {
                responseHeaders[.contentType] =
                    StaticFiles.contentType(forName: file) ?? cached?.sniffed ?? StaticFiles.sniff(Self.prefix(of: file))
            }
            return self.serveFile(file, info, request, fields: responseHeaders, cached: cached?.contents)
        }
    }

    static func prefix(of path: String) -> ArraySlice<UInt8> {
        let fd = Glibc.open(path, O_RDONLY)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 512) }
        return n > 0 ? buffer[..<n] : []
    }

    /// A file with Last-Modified, conditional requests (RFC 9110 13.1.3, 13.1.4) and ranges
    /// (RFC 9110 14).
    func serveFile(_ path: String, _ info: FileInfo, _ request: Request, fields: HTTPFields, cached: ByteBuffer? = nil) -> WebResponse {
        var fields = fields
        fields[.lastModified] = StaticFiles.httpDate(info.modified)
        fields[.acceptRanges] = "bytes"
        if let since = request.headers[.ifUnmodifiedSince].flatMap(StaticFiles.parseHTTPDate), info.modified > since {
            return WebResponse(status: .preconditionFailed, fields: fields, body: .none)
        }
        if request.headers[.ifNoneMatch] == nil,
            let since = request.headers[.ifModifiedSince].flatMap(StaticFiles.parseHTTPDate), info.modified <= since
        {
            fields[.contentType] = nil
            return WebResponse(status: .notModified, fields: fields, body: .none)
        }
        var rangeHeader = request.headers[.range]
        if let ifRange = request.headers[.ifRange], StaticFiles.parseHTTPDate(ifRange) != info.modified {
            rangeHeader = nil  // RFC 9110 13.1.5: changed since, send it all
        }
        switch StaticFiles.ranges(rangeHeader, size: info.size) {
        case .whole:
            fields[.contentLength] = String(info.size)
            if let cached {
                return WebResponse(status: .ok, fields: fields, body: .bytes(cached))
            }
            return WebResponse(status: .ok, fields: fields, body: .file(path: path, parts: [.init(head: [], range: 0..<info.size, tail: [])]))
        case .unsatisfiable:
            var unsatisfied = HTTPFields()
            unsatisfied[.contentRange] = "bytes */\(info.size)"
            return .text(.rangeNotSatisfiable, "invalid range: failed to overlap\n", fields: unsatisfied)
        case .ranges(let ranges) where ranges.count == 1:
            let r = ranges[0]
            fields[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(info.size)"
            fields[.contentLength] = String(r.count)
            return WebResponse(status: .partialContent, fields: fields, body: .file(path: path, parts: [.init(head: [], range: r, tail: [])]))
        case .ranges(let ranges):
            let boundary = Self.boundary()
            let contentType = fields[.contentType] ?? "application/octet-stream"
            var parts: [WebResponse.FilePart] = []
            var length = 0
            for (i, r) in ranges.enumerated() {
                let head = Array(
                    "\(i == 0 ? "" : "\r\n")--\(boundary)\r\nContent-Range: bytes \(r.lowerBound)-\(r.upperBound - 1)/\(info.size)\r\nContent-Type: \(contentType)\r\n\r\n"
                        .utf8
                )
                let tail = i == ranges.count - 1 ? Array("\r\n--\(boundary)--\r\n".utf8) : []
                parts.append(.init(head: head, range: r, tail: tail))
                length += head.count + r.count + tail.count
            }
            fields[.contentType] = "multipart/byteranges; boundary=\(boundary)"
            fields[.contentLength] = String(length)
            return WebResponse(status: .partialContent, fields: fields, body: .file(path: path, parts: parts))
        }
    }

    static func boundary() -> String {
        let hex = Array("0123456789abcdef")
        return String((0..<30).map { _ in hex[Int.random(in: 0..<16)] })
    }

    // MARK: - WebForward

    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]

    /// Passes the request to the upstream and its response back: the client's Forwarded and
    /// X-Forwarded-* fields replaced by X-Forwarded-For/Host/Proto, hop-by-hop fields dropped.
    func forward(_ config: WebForward, _ exchange: Exchange, path: String, matched: String) async -> WebResponse {
        let request = exchange.request
        guard
            let url = WebRedirects.forwardURL(
                target: config.url,
                stripPath: config.stripPath,
                path: path,
                matched: matched,
                query: request.uri.query
            )
        else { return .text(.internalServerError, "500 - internal server error - bad forward url\n") }
        var upstream = HTTPClientRequest(url: url)
        upstream.method = HTTPMethod(rawValue: request.method.rawValue)
        let connectionTokens = Set(
            (request.headers[.connection] ?? "").split(separator: ",").map { $0.trimmingCharacters(" \t").lowercased() }
        )
        var hasHost = false
        for field in request.headers {
            let name = field.name.canonicalName
            if Self.hopByHop.contains(name) || connectionTokens.contains(name) { continue }
            if name == "forwarded" || name == "x-forwarded" || name.hasPrefix("x-forwarded-") { continue }
            if name == "host" { hasHost = true }
            upstream.headers.add(name: field.name.rawName, value: field.value)
        }
        if !hasHost, let authority = request.head.authority {
            upstream.headers.add(name: "Host", value: authority)
        }
        upstream.headers.add(name: "X-Forwarded-For", value: exchange.remoteIP)
        upstream.headers.add(name: "X-Forwarded-Host", value: exchange.hostHeader)
        upstream.headers.add(name: "X-Forwarded-Proto", value: exchange.scheme)
        if let te = request.headers[.transferEncoding], te.lowercased().contains("chunked") {
            upstream.body = .stream(request.body, length: .unknown)
        } else if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > 0 {
            upstream.body = .stream(request.body, length: .known(Int64(length)))
        }
        do {
            let response = try await self.client.execute(upstream, timeout: .hours(1))
            var fields = HTTPFields()
            for (name, value) in config.responseHeaders.sorted(by: { $0.key < $1.key }) {
                if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
            }
            let upstreamConnection = Set(
                response.headers["connection"].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(" \t").lowercased() }
            )
            for (name, value) in response.headers {
                let lower = name.lowercased()
                if Self.hopByHop.contains(lower) || upstreamConnection.contains(lower) { continue }
                if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
            }
            return WebResponse(status: HTTPResponse.Status(code: Int(response.status.code)), fields: fields, body: .upstream(response.body))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .connectTimeout {
            self.logger.info("forwarding request", metadata: ["err": "\(error)", "url": "\(url)"])
            return .text(.gatewayTimeout, "504 - gateway timeout\n")
        } catch {
            self.logger.info("forwarding request", metadata: ["err": "\(error)", "url": "\(url)"])
            return .text(.badGateway, "502 - bad gateway\n")
        }
    }

    // MARK: - Writing

    /// Writes the response, streaming file and upstream bodies with backpressure; returns the
    /// body bytes sent.
    func write(_ response: WebResponse, to writer: consuming ResponseWriter, request: Request) async throws -> Int {
        var fields = response.fields
        let head = request.method == .head
        switch response.body {
        case .none:
            if fields[.contentLength] == nil, response.status.code >= 200, response.status.code != 204,
                response.status.code != 304
            {
                fields[.contentLength] = "0"
            }
            try await writer.writeResponse(HTTPResponse(status: response.status, headerFields: fields))
            return 0
        case .bytes(let buffer):
            fields[.contentLength] = String(buffer.readableBytes)
            if head {
                try await writer.writeResponse(HTTPResponse(status: response.status, headerFields: fields))
                return 0
            }
            try await writer.write(
                response: HTTPResponse(status: response.status, headerFields: fields),
                body: ResponseBody(byteBuffer: buffer)
            )
            return buffer.readableBytes
        case .file(let path, let parts):
            if head {
                try await writer.writeResponse(HTTPResponse(status: response.status, headerFields: fields))
                return 0
            }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                var error = WebResponse.text(.internalServerError, "500 - internal server error\n")
                error.fields.addSafeHeaders()
                return try await self.write(error, to: writer, request: request)
            }
            defer { close(fd) }
            // A small whole file goes out with its head in one write.
            if parts.count == 1, parts[0].range.count <= 64 * 1024, let data = Self.read(fd, parts[0].range) {
                try await writer.write(
                    response: HTTPResponse(status: response.status, headerFields: fields),
                    body: ResponseBody(byteBuffer: data)
                )
                return data.readableBytes
            }
            var body = try await writer.writeHead(HTTPResponse(status: response.status, headerFields: fields))
            var sent = 0
            for part in parts {
                if !part.head.isEmpty { try await body.write(ByteBuffer(bytes: part.head)) }
                var offset = part.range.lowerBound
                while offset < part.range.upperBound {
                    let end = min(part.range.upperBound, offset + 256 * 1024)
                    guard let chunk = Self.read(fd, offset..<end), chunk.readableBytes > 0 else {
                        throw WebPlanError("reading \(path) failed")
                    }
                    try await body.write(chunk)
                    offset += chunk.readableBytes
                    sent += chunk.readableBytes
                }
                if !part.tail.isEmpty { try await body.write(ByteBuffer(bytes: part.tail)) }
            }
            try await body.finish(nil)
            return sent
        case .upstream(let upstream):
            var body = try await writer.writeHead(HTTPResponse(status: response.status, headerFields: fields))
            var sent = 0
            if !head {
                for try await chunk in upstream {
                    sent += chunk.readableBytes
                    try await body.write(chunk)
                }
            }
            try await body.finish(nil)
            return sent
        }
    }

    static func read(_ fd: Int32, _ range: Range<Int>) -> ByteBuffer? {
        var buffer = ByteBufferAllocator().buffer(capacity: range.count)
        let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: range.count) { raw in
            var done = 0
            while done < range.count {
                let r = pread(fd, raw.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { break }
                done += r
            }
            return done
        }
        return n == range.count ? buffer : nil
    }
}
