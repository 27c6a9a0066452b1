/// Size limits the request parser enforces, so one client cannot make the receiver buffer
/// without bound. Defaults suit postbacks and lead intake; tests pass smaller values.
public struct HTTPLimits: Sendable, Hashable {
    /// Longest request line (`METHOD target HTTP/1.1`, without CRLF). Longer: 414.
    public var maxRequestLineBytes: Int
    /// Largest header section: every header line with its CRLF plus the closing CRLF. Larger: 431.
    /// Trailer fields of a chunked body have a budget of the same size of their own.
    public var maxHeaderBytes: Int
    /// Most header fields (and, separately, most trailer fields). More: 431.
    public var maxHeaderCount: Int
    /// Largest decoded body. Larger: 413 (as soon as `Content-Length` or a chunk size says so).
    public var maxBodyBytes: Int
    /// Longest chunk-size line (hex size plus extensions, without CRLF). Longer: 400.
    public var maxChunkLineBytes: Int

    public init(maxRequestLineBytes: Int = 8 * 1024, maxHeaderBytes: Int = 16 * 1024,
                maxHeaderCount: Int = 100, maxBodyBytes: Int = 1024 * 1024,
                maxChunkLineBytes: Int = 1024) {
        self.maxRequestLineBytes = max(16, maxRequestLineBytes)
        self.maxHeaderBytes = max(2, maxHeaderBytes)
        self.maxHeaderCount = max(0, maxHeaderCount)
        self.maxBodyBytes = max(0, maxBodyBytes)
        self.maxChunkLineBytes = max(1, maxChunkLineBytes)
    }

    /// Most bytes a chunked body may take on the wire (data plus chunk framing): twice the body
    /// limit plus 4 KiB. Stops a stream of one-byte chunks with long extensions. Larger: 413.
    public var maxChunkedWireBytes: Int { maxBodyBytes.multipliedReportingOverflow(by: 2).partialValue &+ 4096 }
}
