import LeadBridgeCore

/// The outcome of one parse step.
public enum HTTPParseResult: Sendable, Hashable {
    /// A whole request; `consumed` is how many bytes of the stream it took (counted from the end
    /// of the previous request, leading empty lines included). Later bytes stay buffered.
    case complete(HTTPServerRequest, consumed: Int)
    /// The bytes so far are a valid prefix; feed more.
    case needMore
    /// The stream is not valid HTTP/1.x (or breaks a limit). Answer `error.status` and close.
    case error(HTTPParseError)
}

/// An incremental HTTP/1.1 request parser that never touches a socket: the server feeds it the
/// bytes it reads and gets requests back, and tests feed it byte strings. Each byte is scanned
/// once however the stream is split, so a slow client cannot make parsing quadratic.
///
/// Strictness (deliberate, to rule out request smuggling and header injection):
/// - Lines must end in CRLF; a bare LF or a CR not followed by LF is a 400. Empty lines before
///   the request line are skipped.
/// - The request line is exactly `METHOD SP target SP HTTP/1.x` with single spaces.
/// - The target is origin-form (`/p?q`), absolute-form (`http://h/p`) or `*` (OPTIONS only).
///   Its bytes must be visible ASCII, or form valid UTF-8 (raw UTF-8 such as Cyrillic query
///   values is accepted as is); any other byte (control, space, invalid UTF-8) is a 400.
///   Nothing is percent-decoded: `%zz` stays as received.
/// - obs-fold, whitespace before the colon, and control characters in values are 400s.
///   Header values that are not valid UTF-8 are decoded with replacement characters.
/// - Trailer fields after a chunked body are checked like headers and then dropped.
public struct HTTPRequestParser: Sendable {
    public let limits: HTTPLimits

    /// Bytes received and not yet handed out as part of a complete request start at `base`.
    private var buffer: [UInt8] = []
    private var base = 0
    private var state: State
    private var continueSent = false

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
        self.state = .head(HeadScan(at: 0))
    }

    /// Parses one request from a byte string in one go (`consumed` is relative to `bytes`).
    public static func parse(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) -> HTTPParseResult {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(bytes)
        return parser.next()
    }

    /// Adds received bytes to the buffer. Call `next()` to get requests out.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// `append` then `next`.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> HTTPParseResult {
        append(bytes)
        return next()
    }

    /// Number of buffered bytes that are not part of a request handed out yet.
    public var bufferedByteCount: Int { buffer.count - base }

    /// True once the header section of a request with `Expect: 100-continue` has been parsed,
    /// its body is not complete and no interim `100 Continue` has been sent for it yet.
    public var shouldSendContinue: Bool {
        guard !continueSent else { return false }
        switch state {
        case .fixedBody(let head, _, _), .chunked(let head, _): return head.expectContinue
        case .head, .failed: return false
        }
    }

    /// Records that the server sent `HTTP/1.1 100 Continue` for the current request.
    public mutating func didSendContinue() { continueSent = true }

    /// How far the next request has come, for the server's deadlines.
    public enum Progress: Sendable, Hashable {
        /// No byte of a request buffered.
        case idle
        /// Inside the request line or header section.
        case head
        /// The header section is complete; `received` body bytes (with any framing) have arrived.
        case body(received: Int)
        /// The stream broke the grammar or a limit (`next()` says how).
        case failed
    }

    public var progress: Progress {
        switch state {
        case .head: bufferedByteCount == 0 ? .idle : .head
        case .fixedBody(_, let start, _): .body(received: buffer.count - start)
        case .chunked(_, let scan): .body(received: buffer.count - scan.bodyStart)
        case .failed: .failed
        }
    }

    /// Gives back the buffer's memory when nothing is buffered and it grew past `keep` bytes,
    /// so an idle keep-alive connection holds no more than a small request's worth.
    public mutating func releaseIdleCapacity(keep: Int = 4096) {
        if buffer.isEmpty && buffer.capacity > keep { buffer = [] }
    }

    /// The next complete request from the buffered bytes, or why there is none.
    /// After `.error` every later call returns the same error.
    public mutating func next() -> HTTPParseResult {
        switch state {
        case .failed(let error):
            return .error(error)
        case .head(var scan):
            switch scanHead(&scan) {
            case .needMore:
                state = .head(scan)
                return .needMore
            case .failure(let error):
                return fail(error)
            case .done(let found):
                let end = found.end
                let head: Head
                switch parseHead(requestLine: found.requestLine, fields: found.fields) {
                case .success(let h): head = h
                case .failure(let error): return fail(error)
                }
                switch head.framing {
                case .none: return complete(head, body: [], end: end)
                case .length(let n):
                    state = .fixedBody(head, bodyStart: end, length: n)
                case .chunked:
                    state = .chunked(head, ChunkScan(at: end))
                }
                return next()
            }
        case .fixedBody(let head, let start, let length):
            guard buffer.count - start >= length else { return .needMore }
            return complete(head, body: Array(buffer[start..<(start + length)]), end: start + length)
        case .chunked(let head, var scan):
            switch scanChunks(&scan) {
            case .needMore:
                state = .chunked(head, scan)
                return .needMore
            case .failure(let error):
                return fail(error)
            case .done(let end):
                return complete(head, body: scan.body, end: end)
            }
        }
    }

    // MARK: - State

    private enum State: Sendable {
        case head(HeadScan)
        case fixedBody(Head, bodyStart: Int, length: Int)
        case chunked(Head, ChunkScan)
        case failed(HTTPParseError)
    }

    private enum Framing: Sendable { case none, length(Int), chunked }

    /// What the header section said, checked.
    private struct Head: Sendable {
        var method: String
        var target: String
        var path: String
        var query: String
        var version: HTTPVersion
        var headers: [HTTPHeader]
        var keepAlive: Bool
        var framing: Framing
        var expectContinue: Bool
    }

    /// Progress through the request line and header lines (absolute buffer indices).
    private struct HeadScan: Sendable {
        var lines: LineScanner
        var requestStart: Int
        var requestLine: Range<Int>?
        var headersStart = 0
        var fields: [Range<Int>] = []
        init(at index: Int) {
            lines = LineScanner(at: index)
            requestStart = index
        }
    }

    /// Progress through a chunked body.
    private struct ChunkScan: Sendable {
        enum Phase: Sendable { case size, data(remaining: Int), dataEnd, trailers }
        var lines: LineScanner
        var phase = Phase.size
        var body: [UInt8] = []
        let bodyStart: Int
        var trailersStart = 0
        var trailerCount = 0
        init(at index: Int) {
            lines = LineScanner(at: index)
            bodyStart = index
        }
    }

    private enum Step<T> { case needMore, failure(HTTPParseError), done(T) }

    /// Where the request line and header lines of a complete header section are.
    private struct HeadLines { var requestLine: Range<Int>; var fields: [Range<Int>]; var end: Int }

    private mutating func fail(_ error: HTTPParseError) -> HTTPParseResult {
        state = .failed(error)
        return .error(error)
    }

    private mutating func complete(_ head: Head, body: [UInt8], end: Int) -> HTTPParseResult {
        let request = HTTPServerRequest(parsedMethod: head.method, target: head.target, path: head.path,
                                        query: head.query, version: head.version, headers: head.headers,
                                        body: body, keepAlive: head.keepAlive)
        let consumed = end - base
        let leftover = buffer.count - end
        if leftover == 0 {
            buffer.removeAll(keepingCapacity: true)
            base = 0
        } else if end >= leftover {
            // Amortized: shift only when at least as much is dropped as is kept.
            buffer.removeSubrange(0..<end)
            base = 0
        } else {
            base = end
        }
        state = .head(HeadScan(at: base))
        continueSent = false
        return .complete(request, consumed: consumed)
    }

    // MARK: - Head

    private func scanHead(_ scan: inout HeadScan) -> Step<HeadLines> {
        while true {
            if let requestLine = scan.requestLine {
                let used = scan.lines.lineStart - scan.headersStart
                switch scan.lines.next(in: buffer, maxLength: limits.maxHeaderBytes - used - 2) {
                case .needMore: return .needMore
                case .badEnding: return .failure(.invalidLineEnding)
                case .tooLong: return .failure(.headersTooLarge)
                case .line(let line):
                    if line.isEmpty { return .done(HeadLines(requestLine: requestLine, fields: scan.fields, end: scan.lines.lineStart)) }
                    scan.fields.append(line)
                    if scan.fields.count > limits.maxHeaderCount { return .failure(.tooManyHeaders) }
                }
            } else {
                // Reject non-HTTP input (TLS handshakes, binary) without waiting for a line end:
                // the method must be token bytes. The window stays inside the line limit so the
                // verdict does not depend on how the stream was split.
                var i = scan.lines.lineStart
                let end = min(buffer.count, i + min(32, limits.maxRequestLineBytes))
                while i < end {
                    let b = buffer[i]
                    if b == HTTPBytes.space || b == HTTPBytes.cr || b == HTTPBytes.lf { break }
                    if !HTTPBytes.isTokenByte(b) { return .failure(.malformedRequestLine) }
                    i += 1
                }
                switch scan.lines.next(in: buffer, maxLength: limits.maxRequestLineBytes) {
                case .needMore: return .needMore
                case .badEnding: return .failure(.invalidLineEnding)
                case .tooLong: return .failure(.uriTooLong)
                case .line(let line):
                    if line.isEmpty {
                        // RFC 9112 §2.2: ignore empty lines before the request line (bounded).
                        if scan.lines.lineStart - scan.requestStart > limits.maxRequestLineBytes {
                            return .failure(.malformedRequestLine)
                        }
                        continue
                    }
                    scan.requestLine = line
                    scan.headersStart = scan.lines.lineStart
                }
            }
        }
    }

    private func parseHead(requestLine: Range<Int>, fields: [Range<Int>]) -> Result<Head, HTTPParseError> {
        // Request line: METHOD SP target SP version, single spaces.
        let line = buffer[requestLine]
        guard let sp1 = line.firstIndex(of: HTTPBytes.space) else { return .failure(.malformedRequestLine) }
        let afterMethod = line.index(after: sp1)
        guard let sp2 = line[afterMethod...].firstIndex(of: HTTPBytes.space) else { return .failure(.malformedRequestLine) }
        let methodBytes = line[line.startIndex..<sp1]
        let targetBytes = line[afterMethod..<sp2]
        let versionBytes = line[line.index(after: sp2)...]
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(HTTPBytes.isTokenByte) else { return .failure(.malformedRequestLine) }

        let version: HTTPVersion
        switch Self.version(versionBytes) {
        case .success(let v): version = v
        case .failure(let e): return .failure(e)
        }

        guard !targetBytes.isEmpty else { return .failure(.malformedRequestLine) }
        var ascii = true
        for b in targetBytes {
            if b >= 0x80 { ascii = false } else if b <= 0x20 || b == 0x7F { return .failure(.malformedRequestLine) }
        }
        let target: String
        if ascii {
            target = String(decoding: targetBytes, as: UTF8.self)
        } else {
            guard let utf8 = String(validating: targetBytes, as: UTF8.self) else { return .failure(.malformedRequestLine) }
            target = utf8
        }
        let method = String(decoding: methodBytes, as: UTF8.self)
        let first = targetBytes[targetBytes.startIndex]
        if first == UInt8(ascii: "/") {
            // origin-form
        } else if target == "*" {
            guard method == "OPTIONS" else { return .failure(.malformedRequestLine) }
        } else {
            let lower = target.prefix(8).lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return .failure(.malformedRequestLine) }
        }
        let (path, query) = target == "*" ? ("*", "") : HTTPServerRequest.split(target: target)

        // Header fields.
        var headers: [HTTPHeader] = []
        headers.reserveCapacity(fields.count)
        var hostCount = 0
        var contentLength: Int?
        var contentLengthTooLarge = false
        var transferCodings: [Substring]?
        var close = false
        var keepAliveToken = false
        var expectContinue = false
        for field in fields {
            guard let header = Self.field(buffer[field]) else { return .failure(.malformedHeader) }
            headers.append(header)
            let name = header.name.utf8
            if HTTPBytes.equalsIgnoringCase(name, "host") {
                hostCount += 1
            } else if HTTPBytes.equalsIgnoringCase(name, "content-length") {
                let elements = HTTPBytes.listElements(header.value)
                guard !elements.isEmpty else { return .failure(.invalidContentLength) }
                for element in elements {
                    guard element.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return .failure(.invalidContentLength) }
                    let digits = element.drop { $0 == "0" }
                    if digits.count > 15 {
                        // Larger than any limit; different huge values still conflict.
                        if let c = contentLength, c != Int.max { return .failure(.invalidContentLength) }
                        contentLength = Int.max
                        contentLengthTooLarge = true
                        continue
                    }
                    let value = Int(digits) ?? 0
                    if let c = contentLength, c != value { return .failure(.invalidContentLength) }
                    contentLength = value
                }
            } else if HTTPBytes.equalsIgnoringCase(name, "transfer-encoding") {
                transferCodings = (transferCodings ?? []) + HTTPBytes.listElements(header.value)
            } else if HTTPBytes.equalsIgnoringCase(name, "connection") {
                for token in HTTPBytes.listElements(header.value) {
                    if HTTPBytes.equalsIgnoringCase(token.utf8, "close") { close = true }
                    if HTTPBytes.equalsIgnoringCase(token.utf8, "keep-alive") { keepAliveToken = true }
                }
            } else if HTTPBytes.equalsIgnoringCase(name, "expect") {
                if HTTPBytes.equalsIgnoringCase(HTTPBytes.trimmed(Substring(header.value)).utf8, "100-continue") {
                    expectContinue = true
                }
            }
        }
        if hostCount > 1 || (version == .http11 && hostCount == 0) { return .failure(.invalidHost) }

        let framing: Framing
        if let codings = transferCodings {
            if contentLength != nil || version == .http10 { return .failure(.conflictingFraming) }
            guard !codings.isEmpty else { return .failure(.malformedHeader) }
            guard codings.count == 1, HTTPBytes.equalsIgnoringCase(codings[0].utf8, "chunked") else {
                return .failure(.unsupportedTransferEncoding)
            }
            framing = .chunked
        } else if let length = contentLength {
            if contentLengthTooLarge || length > limits.maxBodyBytes { return .failure(.bodyTooLarge) }
            framing = length == 0 ? .none : .length(length)
        } else {
            framing = .none
        }
        let keepAlive = version == .http11 ? !close : (keepAliveToken && !close)
        let hasBody: Bool
        if case .none = framing { hasBody = false } else { hasBody = true }
        return .success(Head(method: method, target: target, path: path, query: query, version: version,
                             headers: headers, keepAlive: keepAlive, framing: framing,
                             expectContinue: expectContinue && version == .http11 && hasBody))
    }

    /// `HTTP/1.1`, `HTTP/1.0`; other well-formed `HTTP/d.d` is 505, anything else 400.
    private static func version(_ bytes: ArraySlice<UInt8>) -> Result<HTTPVersion, HTTPParseError> {
        let b = Array(bytes)
        guard b.count == 8, b[0] == 0x48, b[1] == 0x54, b[2] == 0x54, b[3] == 0x50, b[4] == 0x2F, // HTTP/
              (0x30...0x39).contains(b[5]), b[6] == 0x2E, (0x30...0x39).contains(b[7]) else {
            return .failure(.malformedRequestLine)
        }
        switch (b[5], b[7]) {
        case (0x31, 0x31): return .success(.http11)
        case (0x31, 0x30): return .success(.http10)
        default: return .failure(.unsupportedVersion)
        }
    }

    /// One `name: value` line, or nil when it breaks the field grammar.
    private static func field(_ line: ArraySlice<UInt8>) -> HTTPHeader? {
        guard let colon = line.firstIndex(of: HTTPBytes.colon), colon > line.startIndex else { return nil }
        let name = line[line.startIndex..<colon]
        guard name.allSatisfy(HTTPBytes.isTokenByte) else { return nil } // also rejects obs-fold and "name :"
        var start = line.index(after: colon)
        var end = line.endIndex
        while start < end, line[start] == HTTPBytes.space || line[start] == HTTPBytes.tab { start += 1 }
        while end > start, line[end - 1] == HTTPBytes.space || line[end - 1] == HTTPBytes.tab { end -= 1 }
        let value = line[start..<end]
        guard value.allSatisfy(HTTPBytes.isFieldValueByte) else { return nil }
        return HTTPHeader(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    // MARK: - Chunked body

    private func scanChunks(_ scan: inout ChunkScan) -> Step<Int> {
        while true {
            if scan.lines.lineStart - scan.bodyStart > limits.maxChunkedWireBytes { return .failure(.bodyTooLarge) }
            switch scan.phase {
            case .size:
                switch scan.lines.next(in: buffer, maxLength: limits.maxChunkLineBytes) {
                case .needMore: return .needMore
                case .badEnding: return .failure(.invalidLineEnding)
                case .tooLong: return .failure(.malformedChunk)
                case .line(let line):
                    guard let size = Self.chunkSize(buffer[line]) else { return .failure(.malformedChunk) }
                    if size == 0 {
                        scan.phase = .trailers
                        scan.trailersStart = scan.lines.lineStart
                    } else {
                        guard size <= limits.maxBodyBytes - scan.body.count else { return .failure(.bodyTooLarge) }
                        scan.phase = .data(remaining: size)
                    }
                }
            case .data(let remaining):
                let start = scan.lines.lineStart
                let take = min(remaining, buffer.count - start)
                scan.body.append(contentsOf: buffer[start..<(start + take)])
                scan.lines = LineScanner(at: start + take)
                if take < remaining {
                    scan.phase = .data(remaining: remaining - take)
                    return .needMore
                }
                scan.phase = .dataEnd
            case .dataEnd:
                let start = scan.lines.lineStart
                if buffer.count - start >= 1, buffer[start] != HTTPBytes.cr { return .failure(.malformedChunk) }
                guard buffer.count - start >= 2 else { return .needMore }
                guard buffer[start + 1] == HTTPBytes.lf else { return .failure(.malformedChunk) }
                scan.lines = LineScanner(at: start + 2)
                scan.phase = .size
            case .trailers:
                let used = scan.lines.lineStart - scan.trailersStart
                switch scan.lines.next(in: buffer, maxLength: limits.maxHeaderBytes - used - 2) {
                case .needMore: return .needMore
                case .badEnding: return .failure(.invalidLineEnding)
                case .tooLong: return .failure(.headersTooLarge)
                case .line(let line):
                    if line.isEmpty { return .done(scan.lines.lineStart) }
                    guard Self.field(buffer[line]) != nil else { return .failure(.malformedHeader) }
                    scan.trailerCount += 1
                    if scan.trailerCount > limits.maxHeaderCount { return .failure(.tooManyHeaders) }
                }
            }
        }
    }

    /// `1*HEXDIG [BWS] [; extensions]` → size; nil when malformed or absurdly large.
    private static func chunkSize(_ line: ArraySlice<UInt8>) -> Int? {
        var size = 0
        var digits = 0
        var i = line.startIndex
        while i < line.endIndex, let d = hexValue(line[i]) {
            digits += 1
            if size > (Int.max >> 8) { return nil } // more than 14 significant hex digits
            size = size << 4 | d
            i += 1
        }
        guard digits > 0 else { return nil }
        while i < line.endIndex, line[i] == HTTPBytes.space || line[i] == HTTPBytes.tab { i += 1 }
        guard i == line.endIndex || line[i] == UInt8(ascii: ";") else { return nil }
        guard line[i...].allSatisfy(HTTPBytes.isFieldValueByte) else { return nil }
        return size
    }

    private static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: Int(b - 0x30)
        case 0x41...0x46: Int(b - 0x41 + 10)
        case 0x61...0x66: Int(b - 0x61 + 10)
        default: nil
        }
    }
}

/// Finds CRLF-terminated lines in a growing buffer, resuming where the last call stopped.
struct LineScanner: Sendable {
    enum Step { case line(Range<Int>), needMore, tooLong, badEnding }

    /// Index of the first byte of the current line.
    private(set) var lineStart: Int
    /// Index of the first byte not examined yet.
    private var scanPos: Int

    init(at index: Int) {
        lineStart = index
        scanPos = index
    }

    /// The next line (without its CRLF) whose content is at most `maxLength` bytes.
    /// One read of each byte (the previous one's CR kept in a flag, no second look back).
    mutating func next(in buffer: [UInt8], maxLength: Int) -> Step {
        buffer.withUnsafeBufferPointer { bytes in
            var i = scanPos
            let count = bytes.count
            var afterCR = i > lineStart && i <= count && bytes[i - 1] == HTTPBytes.cr
            while i < count {
                let b = bytes[i]
                if b == HTTPBytes.lf {
                    guard afterCR else { return .badEnding }
                    let line = lineStart..<(i - 1)
                    if line.count > maxLength { return .tooLong }
                    lineStart = i + 1
                    scanPos = i + 1
                    return .line(line)
                }
                if afterCR { return .badEnding }
                if b != HTTPBytes.cr, i - lineStart + 1 > maxLength { return .tooLong }
                afterCR = b == HTTPBytes.cr
                i += 1
            }
            scanPos = i
            return .needMore
        }
    }
}

extension HTTPServerRequest {
    /// The parser's initializer: path and query already split, no remote address yet.
    init(parsedMethod method: String, target: String, path: String, query: String, version: HTTPVersion,
         headers: [HTTPHeader], body: [UInt8], keepAlive: Bool) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        self.remoteAddress = ""
        self.clientAddress = ""
        self.keepAlive = keepAlive
    }
}
