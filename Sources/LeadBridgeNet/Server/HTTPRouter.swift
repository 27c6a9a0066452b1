import LeadBridgeCore

/// Which handler answers which request, kept apart from the transport (`HTTPServer`) so each
/// part of the product adds its own routes: the receiver (postbacks, lead intake, health), and
/// later the operator console (pages, /metrics). Exact paths win over prefixes; among prefixes
/// the longest wins. A path with no route is `404`; a route without the method is `405` with `Allow`.
public struct HTTPRouter: Sendable {
    private struct Route: Sendable {
        var methods: Set<String>
        var handler: HTTPServer.Handler
    }

    private var exact: [String: [Route]] = [:]
    private var prefixes: [(prefix: String, routes: [Route])] = []
    /// Told, for every answer, the route that took the request (its exact path, or its prefix
    /// followed by `*`; `unmatched` for a 404 without a route) and the status: a request
    /// counter's labels stay few whatever paths clients send.
    public var observer: (@Sendable (_ route: String, _ status: Int) -> Void)?

    public init() {}

    /// Requests whose path is exactly `path`, with one of `methods`.
    public mutating func add(_ methods: Set<String>, path: String, _ handler: @escaping HTTPServer.Handler) {
        exact[path, default: []].append(Route(methods: methods, handler: handler))
    }

    /// Requests whose path starts with `prefix`, with one of `methods`.
    public mutating func add(_ methods: Set<String>, prefix: String, _ handler: @escaping HTTPServer.Handler) {
        if let i = prefixes.firstIndex(where: { $0.prefix == prefix }) {
            prefixes[i].routes.append(Route(methods: methods, handler: handler))
        } else {
            prefixes.append((prefix, [Route(methods: methods, handler: handler)]))
            prefixes.sort { $0.prefix.utf8.count > $1.prefix.utf8.count }
        }
    }

    /// Answers a request (an `HTTPServer.Handler`).
    public func handle(_ request: HTTPServerRequest, _ responder: HTTPResponder) {
        var responder = responder
        let routes: [Route]?
        if let r = exact[request.path] {
            routes = r
            if let observer { let label = request.path; responder = responder.observed { observer(label, $0) } }
        } else if let p = prefixes.first(where: { request.path.hasPrefix($0.prefix) }) {
            routes = p.routes
            if let observer { let label = p.prefix + "*"; responder = responder.observed { observer(label, $0) } }
        } else {
            routes = nil
            if let observer { responder = responder.observed { observer("unmatched", $0) } }
        }
        guard let routes else {
            responder.respond(.text("not found\n", status: 404))
            return
        }
        guard let route = routes.first(where: { $0.methods.contains(request.method) }) else {
            var response = HTTPServerResponse.text("method not allowed\n", status: 405)
            response.headers.append(HTTPHeader("Allow", routes.flatMap(\.methods).sorted().joined(separator: ", ")))
            responder.respond(response)
            return
        }
        route.handler(request, responder)
    }
}
