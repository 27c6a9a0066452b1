import CPostgres
import FoundationEssentials
import Glibc

/// One libpq connection: confined to its owner's mutex, never shared outside it. Statements
/// are prepared once per connection and run with bound parameters (no SQL is ever built from
/// data); a lost connection is noticed, reported as `.unavailable`, and re-opened on the next
/// use, its prepared statements forgotten.
final class PostgresConnection {
    let location: PostgresLocation
    /// Session settings applied after every (re)connect (`synchronous_commit`).
    let sessionSettings: [(name: String, value: String)]
    private var conn: OpaquePointer?
    private var statements: [String: String] = [:]

    init(location: PostgresLocation, sessionSettings: [(name: String, value: String)] = []) throws(StoreError) {
        self.location = location
        self.sessionSettings = sessionSettings
        try connect()
    }

    deinit { if let conn { PQfinish(conn) } }

    /// Opens the connection (closing a broken one first).
    func connect() throws(StoreError) {
        if let old = conn { PQfinish(old); conn = nil }
        statements = [:]
        let keywords = location.parameters.map { strdup($0.keyword) } + [nil]
        let values = location.parameters.map { strdup($0.value) } + [nil]
        defer { for p in keywords + values { free(p) } }
        let opened: OpaquePointer? = keywords.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                k.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: k.count) { kp in
                    v.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: v.count) { vp in PQconnectdbParams(kp, vp, 0) }
                }
            }
        }
        guard let opened else { throw StoreError(.unavailable, "PostgreSQL \(location): out of memory while connecting") }
        guard PQstatus(opened) == CONNECTION_OK else {
            let why = scrub(PostgresLocation.firstLine(String(cString: PQerrorMessage(opened))))
            PQfinish(opened)
            throw StoreError(.unavailable, .postgresUnreachable(location: "\(location)", detail: why))
        }
        // Notices ("relation already exists, skipping") are not errors: keep them off stderr.
        PQsetNoticeProcessor(opened, { _, _ in }, nil)
        conn = opened
        for s in sessionSettings {
            _ = try query("SELECT set_config($1, $2, false)", [.text(s.name), .text(s.value)])
        }
    }

    /// True once libpq has seen the connection fail (it is re-opened before the next transaction).
    var isBroken: Bool { conn.map { PQstatus($0) != CONNECTION_OK } ?? true }

    /// Whether the server considers a transaction open on this connection.
    var inTransaction: Bool {
        guard let conn else { return false }
        let s = PQtransactionStatus(conn)
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE
    }

    /// The server process of this session (the holder shown for advisory locks).
    var backendPID: Int32 { conn.map(PQbackendPID) ?? 0 }

    func reconnectIfBroken() throws(StoreError) {
        if isBroken { try connect() }
    }

    /// Runs a statement and returns its rows. `$1`, `$2`… are bound from `values`.
    func query(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> [SQLRow] {
        let result = try execute(sql, values)
        defer { PQclear(result) }
        return Self.rows(result)
    }

    /// Runs a statement; returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> Int {
        let result = try execute(sql, values)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Several statements without parameters (migrations, transaction control).
    func exec(_ sql: String) throws(StoreError) {
        guard let conn else { throw StoreError(.unavailable, "PostgreSQL \(location): not connected") }
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        try check(result, sql)
    }

    /// The name of `sql` prepared on this connection (prepared on first use).
    private func prepared(_ conn: OpaquePointer, _ sql: String) throws(StoreError) -> String {
        if let known = statements[sql] { return known }
        let name = "lb\(statements.count + 1)"
        let result = PQprepare(conn, name, Self.numberedPlaceholders(sql), 0, nil)
        defer { PQclear(result) }
        try check(result, sql)
        statements[sql] = name
        return name
    }

    /// Calls `body` with libpq's parameter arrays for `values` (text, except blobs in binary).
    private func withParameters<T>(_ values: [SQLValue], _ body: (UnsafePointer<UnsafePointer<CChar>?>?, [Int32], [Int32]) -> T) -> T {
        var pointers: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        pointers.reserveCapacity(values.count)
        defer { for p in pointers { free(p) } }
        for v in values {
            switch v {
            case .null:
                pointers.append(nil); lengths.append(0); formats.append(0)
            case .int(let i):
                pointers.append(strdup(String(i))); lengths.append(0); formats.append(0)
            case .double(let d):
                pointers.append(strdup("\(d)")); lengths.append(0); formats.append(0)
            case .text(let t):
                pointers.append(strdup(t)); lengths.append(0); formats.append(0)
            case .blob(let b):
                let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(b.count, 1))
                b.withUnsafeBytes { raw in UnsafeMutableRawPointer(p).copyMemory(from: raw.baseAddress ?? UnsafeRawPointer(p), byteCount: b.count) }
                // strdup and allocate both end in free() (the allocator is malloc on Linux).
                pointers.append(p); lengths.append(Int32(b.count)); formats.append(1)
            }
        }
        return pointers.withUnsafeBufferPointer { pp in
            guard let base = pp.baseAddress else { return body(nil, [], []) }
            return base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: pp.count) { body($0, lengths, formats) }
        }
    }

    private func execute(_ sql: String, _ values: [SQLValue]) throws(StoreError) -> OpaquePointer {
        guard let conn else { throw StoreError(.unavailable, "PostgreSQL \(location): not connected") }
        let name = try prepared(conn, sql)
        let result = withParameters(values) { params, lengths, formats in PQexecPrepared(conn, name, Int32(values.count), params, lengths, formats, 0) }
        do throws(StoreError) { try check(result, sql) } catch {
            PQclear(result)
            throw error
        }
        guard let result else { throw StoreError(.unavailable, "PostgreSQL \(location): no result") }
        return result
    }

    /// Statements per pipeline sync: their results (a few bytes each) always fit in the
    /// socket buffers, so sending never waits for results nobody reads.
    static let pipelineDepth = 256

    /// Runs the statements in libpq's pipeline mode: all sent, then all results read, one
    /// round trip per `pipelineDepth` statements instead of one each. Returns each
    /// statement's rows in order; the first failure is thrown (the ones after it did not run;
    /// the caller's transaction is then rolled back).
    func queryAll(_ statements: [(sql: String, values: [SQLValue])]) throws(StoreError) -> [[SQLRow]] {
        guard statements.count > 1 else { return statements.isEmpty ? [] : [try query(statements[0].sql, statements[0].values)] }
        guard let conn else { throw StoreError(.unavailable, "PostgreSQL \(location): not connected") }
        var names: [String] = []
        for s in statements { names.append(try prepared(conn, s.sql)) }
        var out: [[SQLRow]] = []
        out.reserveCapacity(statements.count)
        for start in stride(from: 0, to: statements.count, by: Self.pipelineDepth) {
            let chunk = start..<min(start + Self.pipelineDepth, statements.count)
            guard PQenterPipelineMode(conn) == 1 else { throw StoreError(.misuse, "PostgreSQL \(location): cannot enter pipeline mode") }
            var failure: StoreError?
            var sent = 0
            for i in chunk {
                let values = statements[i].values, name = names[i]
                let ok = withParameters(values) { params, lengths, formats in PQsendQueryPrepared(conn, name, Int32(values.count), params, lengths, formats, 0) }
                guard ok == 1 else { break }
                sent += 1
            }
            PQpipelineSync(conn)
            for i in chunk.prefix(sent) {
                let result = PQgetResult(conn)
                if failure == nil {
                    do throws(StoreError) { try check(result, statements[i].sql); out.append(result.map(Self.rows) ?? []) } catch { failure = error }
                }
                PQclear(result)
                // Each statement's results end with a NULL.
                while let extra = PQgetResult(conn) { PQclear(extra) }
            }
            // The sync point, then the connection is idle again.
            while let r = PQgetResult(conn) {
                let status = PQresultStatus(r)
                PQclear(r)
                if status == PGRES_PIPELINE_SYNC { break }
            }
            PQexitPipelineMode(conn)
            if sent < chunk.count && failure == nil {
                failure = StoreError(.unavailable, .postgresLost(location: "\(location)", what: Self.summary(statements[chunk.lowerBound + sent].sql),
                                                                   detail: PostgresLocation.firstLine(String(cString: PQerrorMessage(conn)))))
            }
            if let failure { throw failure }
        }
        return out
    }

    /// Turns a failed result into a typed error: the server's primary message only (its
    /// DETAIL may quote row values such as lead data), the statement's first words, and a
    /// kind chosen from the SQLSTATE class.
    private func check(_ result: OpaquePointer?, _ sql: String) throws(StoreError) {
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY { return }
        let what = Self.summary(sql)
        let state = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
        var message = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "M"))) }.map { String(cString: $0) } ?? ""
        if message.isEmpty, let conn { message = PostgresLocation.firstLine(String(cString: PQerrorMessage(conn))) }
        message = scrub(message)
        if isBroken || state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03" {
            throw StoreError(.unavailable, .postgresLost(location: "\(location)", what: what, detail: message.isEmpty ? nil : message))
        }
        let kind: StoreError.Kind
        switch state {
        case let s where s.hasPrefix("23"): kind = .constraint
        case "40001", "40P01", "55P03": kind = .locked
        case "25006": kind = .readOnly
        case "42P01", "42703", "3F000": kind = .schema
        case let s where s.hasPrefix("53") || s.hasPrefix("58"): kind = .io
        default: kind = .misuse
        }
        throw StoreError(kind, "PostgreSQL \(location) (\(what)): \(message) [SQLSTATE \(state)]", sqlState: state)
    }

    /// The store's SQL is written once for both databases with `?` parameters; PostgreSQL
    /// numbers them (`$1`, `$2`…). Quoted literals, quoted names and comments are left alone;
    /// SQL already written with `$n` has no `?` and passes unchanged.
    static func numberedPlaceholders(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quote: Character?
        var lineComment = false
        var previous: Character = " "
        for ch in sql {
            if lineComment {
                if ch == "\n" { lineComment = false }
            } else if let q = quote {
                if ch == q { quote = nil }
            } else if ch == "'" || ch == "\"" {
                quote = ch
            } else if ch == "-" && previous == "-" {
                lineComment = true
            } else if ch == "?" {
                n += 1
                out += "$\(n)"
                previous = ch
                continue
            }
            out.append(ch)
            previous = ch
        }
        return out
    }

    /// The statement's first words (`INSERT INTO raw_postbacks`): where, never what.
    static func summary(_ sql: String) -> String {
        sql.split(whereSeparator: { $0 == " " || $0 == "\n" }).prefix(3).joined(separator: " ")
    }

    /// libpq never puts a password in its messages; this keeps it that way whatever a
    /// server or a future libpq says.
    func scrub(_ s: String) -> String {
        location.secrets.reduce(s) { $0.replacingAll($1, with: "***") }
    }

    static func rows(_ result: OpaquePointer) -> [SQLRow] {
        let n = PQntuples(result)
        let columns = PQnfields(result)
        guard n > 0 else { return [] }
        let names = SQLColumns((0..<columns).map { String(cString: PQfname(result, $0)) })
        let types = (0..<columns).map { PQftype(result, $0) }
        var rows: [SQLRow] = []
        rows.reserveCapacity(Int(n))
        for r in 0..<n {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columns))
            for c in 0..<columns {
                let i = Int(c)
                if PQgetisnull(result, r, c) == 1 { values.append(.null); continue }
                let raw = PQgetvalue(result, r, c)!
                switch types[i] {
                case 20, 21, 23, 26: values.append(Int64(String(cString: raw)).map(SQLValue.int) ?? .text(String(cString: raw)))
                case 700, 701, 1700: values.append(Double(String(cString: raw)).map(SQLValue.double) ?? .text(String(cString: raw)))
                case 16: values.append(.int(raw.pointee == CChar(UInt8(ascii: "t")) ? 1 : 0))
                case 17:
                    var length = 0
                    if let bytes = PQunescapeBytea(UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), &length) {
                        values.append(.blob(Array(UnsafeBufferPointer(start: bytes, count: length))))
                        PQfreemem(bytes)
                    } else {
                        values.append(.blob([]))
                    }
                default: values.append(.text(String(cString: raw)))
                }
            }
            rows.append(SQLRow(columns: names, values: values))
        }
        return rows
    }
}
