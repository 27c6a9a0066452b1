import CCurl
import Glibc

/// libcurl's functions, loaded once per process on the first request. Commands that never
/// send (show, postbacks, lint, docs…) therefore never load libcurl and its library tree;
/// `Sources/CCurl/shim.h` says how.
final class CurlLibrary: @unchecked Sendable {
    // @unchecked: `api` is filled once in `load()` before the instance is shared and only read
    // afterwards; it holds C function pointers into a library that is never unloaded.
    let api: lb_curl_api
    /// `libcurl/7.88.1 OpenSSL/3.0.19 …`, for messages.
    let version: String

    private init(api: lb_curl_api, version: String) {
        self.api = api
        self.version = version
    }

    /// The process's libcurl, or why it could not be loaded.
    static let shared: Result<CurlLibrary, TransportError> = load()

    private static func load() -> Result<CurlLibrary, TransportError> {
        var api = lb_curl_api()
        var error: UnsafePointer<CChar>?
        guard lb_curl_load(&api, &error) == 0, let globalInit = api.global_init, let versionInfo = api.version_info else {
            let why = error.map { String(cString: $0) } ?? "unknown error"
            return .failure(TransportError(.invalidRequest, .libcurlMissing(detail: why), delivery: .notSent))
        }
        // With CURLOPT_NOSIGNAL libcurl leaves signals alone, so a write to a closed TLS
        // connection must not raise SIGPIPE (the CLI and the server ignore it too).
        signal(SIGPIPE, SIG_IGN)
        let rc = globalInit(3)  // CURL_GLOBAL_DEFAULT
        guard rc == CURLE_OK else {
            return .failure(TransportError(.invalidRequest, .libcurlInit(code: Int(rc.rawValue)), delivery: .notSent))
        }
        let version = versionInfo(CURLVERSION_FIRST).flatMap { $0.pointee.version.map { "libcurl/" + String(cString: $0) } } ?? "libcurl"
        return .success(CurlLibrary(api: api, version: version))
    }

    func setopt(_ easy: UnsafeMutableRawPointer, _ option: CURLoption, _ value: Int) {
        withUnsafePointer(to: api) { _ = lb_setopt_long($0, easy, option, value) }
    }

    func setopt(_ easy: UnsafeMutableRawPointer, _ option: CURLoption, _ value: UnsafeRawPointer?) {
        withUnsafePointer(to: api) { _ = lb_setopt_ptr($0, easy, option, value) }
    }

    func setopt(_ easy: UnsafeMutableRawPointer, _ option: CURLoption, _ value: String) {
        value.withCString { text in withUnsafePointer(to: api) { _ = lb_setopt_ptr($0, easy, option, text) } }
    }

    func setopt(_ easy: UnsafeMutableRawPointer, _ option: CURLoption, size value: Int64) {
        withUnsafePointer(to: api) { _ = lb_setopt_off($0, easy, option, curl_off_t(value)) }
    }

    func setopt(_ easy: UnsafeMutableRawPointer, _ option: CURLoption, callback: curl_write_callback) {
        withUnsafePointer(to: api) { _ = lb_setopt_write($0, easy, option, callback) }
    }

    func setopt(_ easy: UnsafeMutableRawPointer, prereq: curl_prereq_callback) {
        withUnsafePointer(to: api) { _ = lb_setopt_prereq($0, easy, prereq) }
    }

    func setopt(multi: UnsafeMutableRawPointer, _ option: CURLMoption, _ value: Int) {
        withUnsafePointer(to: api) { _ = lb_multi_setopt_long($0, multi, option, value) }
    }

    func setopt(multi: UnsafeMutableRawPointer, socket: curl_socket_callback, data: UnsafeRawPointer) {
        withUnsafePointer(to: api) { _ = lb_multi_setopt_socket($0, multi, socket, data) }
    }

    func setopt(multi: UnsafeMutableRawPointer, timer: curl_multi_timer_callback, data: UnsafeRawPointer) {
        withUnsafePointer(to: api) { _ = lb_multi_setopt_timer($0, multi, timer, data) }
    }

    func info(_ easy: UnsafeMutableRawPointer, long what: CURLINFO) -> Int {
        var value = 0
        _ = withUnsafePointer(to: api) { lb_getinfo_long($0, easy, what, &value) }
        return value
    }

    func info(_ easy: UnsafeMutableRawPointer, pointer what: CURLINFO) -> UnsafeMutableRawPointer? {
        var value: UnsafeMutableRawPointer?
        _ = withUnsafePointer(to: api) { lb_getinfo_ptr($0, easy, what, &value) }
        return value
    }

    func slist(_ lines: [String]) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines { list = line.withCString { api.slist_append?(list, $0) } ?? list }
        return list
    }

    func describe(_ code: CURLcode) -> String {
        api.easy_strerror?(code).map { String(cString: $0) } ?? "curl error \(code.rawValue)"
    }
}
