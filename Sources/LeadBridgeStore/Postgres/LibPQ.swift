import CPostgres
import Glibc

// libpq is loaded on the first use, not at start-up: linked, it would bring its library tree
// (libssl, Kerberos, LDAP, GnuTLS…; about 4 ms) into every command, the catalog commands
// included, which never open a ledger. So the CPostgres module map has no `link` line, and the
// libpq functions this module calls are the same-named forwarders below, which shadow the C
// declarations here. A new libpq call needs a forwarder (the link step names it otherwise:
// "undefined reference to `PQ…'").

/// libpq, opened once with dlopen.
enum LibPQ {
    // nonisolated(unsafe): written once by the lazy initialiser of a `let`, only read after.
    nonisolated(unsafe) static let handle: UnsafeMutableRawPointer? = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL)
    static let missing = "libpq (libpq.so.5) cannot be loaded; install the Debian package libpq5"

    static func function<T>(_ name: String, _: T.Type) -> T? {
        guard let handle, let pointer = dlsym(handle, name) else { return nil }
        return unsafeBitCast(pointer, to: T.self)
    }

    /// For functions reached only through a connection or result, which exist only when
    /// libpq loaded: a missing symbol is a broken installation.
    static func required<T>(_ name: String, _ type: T.Type) -> T {
        guard let f = function(name, type) else { fatalError("\(missing): \(name) not found") }
        return f
    }

    typealias Conn = OpaquePointer?
    typealias Result = OpaquePointer?
    typealias CString = UnsafeMutablePointer<CChar>?
    typealias Strings = UnsafePointer<UnsafePointer<CChar>?>?

    static let connectdbParams = function("PQconnectdbParams", (@convention(c) (Strings, Strings, Int32) -> Conn).self)
    static let conninfoParse = function("PQconninfoParse", (@convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<CString>?) -> UnsafeMutablePointer<PQconninfoOption>?).self)
    static let freemem = function("PQfreemem", (@convention(c) (UnsafeMutableRawPointer?) -> Void).self)
    static let conninfoFree = required("PQconninfoFree", (@convention(c) (UnsafeMutablePointer<PQconninfoOption>?) -> Void).self)
    static let clear = required("PQclear", (@convention(c) (Result) -> Void).self)
    static let finish = required("PQfinish", (@convention(c) (Conn) -> Void).self)
    static let status = required("PQstatus", (@convention(c) (Conn) -> ConnStatusType).self)
    static let errorMessage = required("PQerrorMessage", (@convention(c) (Conn) -> CString).self)
    static let resultErrorField = required("PQresultErrorField", (@convention(c) (Result, Int32) -> CString).self)
    static let execPrepared = required("PQexecPrepared", (@convention(c) (Conn, UnsafePointer<CChar>?, Int32, Strings, UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32) -> Result).self)
    static let prepare = required("PQprepare", (@convention(c) (Conn, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32, UnsafePointer<Oid>?) -> Result).self)
    static let exec = required("PQexec", (@convention(c) (Conn, UnsafePointer<CChar>?) -> Result).self)
    static let unescapeBytea = required("PQunescapeBytea", (@convention(c) (UnsafePointer<UInt8>?, UnsafeMutablePointer<Int>?) -> UnsafeMutablePointer<UInt8>?).self)
    static let transactionStatus = required("PQtransactionStatus", (@convention(c) (Conn) -> PGTransactionStatusType).self)
    static let setNoticeProcessor = required("PQsetNoticeProcessor", (@convention(c) (Conn, PQnoticeProcessor?, UnsafeMutableRawPointer?) -> PQnoticeProcessor?).self)
    static let resultStatus = required("PQresultStatus", (@convention(c) (Result) -> ExecStatusType).self)
    static let ntuples = required("PQntuples", (@convention(c) (Result) -> Int32).self)
    static let nfields = required("PQnfields", (@convention(c) (Result) -> Int32).self)
    static let getvalue = required("PQgetvalue", (@convention(c) (Result, Int32, Int32) -> CString).self)
    static let getisnull = required("PQgetisnull", (@convention(c) (Result, Int32, Int32) -> Int32).self)
    static let ftype = required("PQftype", (@convention(c) (Result, Int32) -> Oid).self)
    static let fname = required("PQfname", (@convention(c) (Result, Int32) -> CString).self)
    static let cmdTuples = required("PQcmdTuples", (@convention(c) (Result) -> CString).self)
    static let backendPID = required("PQbackendPID", (@convention(c) (Conn) -> Int32).self)
    static let enterPipelineMode = required("PQenterPipelineMode", (@convention(c) (Conn) -> Int32).self)
    static let exitPipelineMode = required("PQexitPipelineMode", (@convention(c) (Conn) -> Int32).self)
    static let pipelineSync = required("PQpipelineSync", (@convention(c) (Conn) -> Int32).self)
    static let sendQueryPrepared = required("PQsendQueryPrepared", (@convention(c) (Conn, UnsafePointer<CChar>?, Int32, Strings, UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32) -> Int32).self)
    static let getResult = required("PQgetResult", (@convention(c) (Conn) -> Result).self)
}

// The forwarders, with the C signatures as Swift imports them (results discardable, as C's are). Without libpq a connection
// attempt gets nil (PQconnectdbParams) and a URL parse gets nil with the reason (PQconninfoParse).

@discardableResult func PQconnectdbParams(_ keywords: UnsafePointer<UnsafePointer<CChar>?>!, _ values: UnsafePointer<UnsafePointer<CChar>?>!, _ expandDbname: Int32) -> OpaquePointer! {
    LibPQ.connectdbParams?(keywords, values, expandDbname)
}
@discardableResult func PQconninfoParse(_ conninfo: UnsafePointer<CChar>!, _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> UnsafeMutablePointer<PQconninfoOption>! {
    guard let parse = LibPQ.conninfoParse else {
        errmsg?.pointee = strdup(LibPQ.missing)
        return nil
    }
    return parse(conninfo, errmsg)
}
func PQfreemem(_ ptr: UnsafeMutableRawPointer!) {
    if let free = LibPQ.freemem { free(ptr) } else { Glibc.free(ptr) }  // our own strdup when libpq is missing
}
func PQconninfoFree(_ connOptions: UnsafeMutablePointer<PQconninfoOption>!) { LibPQ.conninfoFree(connOptions) }
func PQclear(_ res: OpaquePointer!) { LibPQ.clear(res) }
func PQfinish(_ conn: OpaquePointer!) { LibPQ.finish(conn) }
@discardableResult func PQstatus(_ conn: OpaquePointer!) -> ConnStatusType { LibPQ.status(conn) }
@discardableResult func PQerrorMessage(_ conn: OpaquePointer!) -> UnsafeMutablePointer<CChar>! { LibPQ.errorMessage(conn) }
@discardableResult func PQresultErrorField(_ res: OpaquePointer!, _ fieldcode: Int32) -> UnsafeMutablePointer<CChar>! { LibPQ.resultErrorField(res, fieldcode) }
func PQexecPrepared(_ conn: OpaquePointer!, _ stmtName: UnsafePointer<CChar>!, _ nParams: Int32, _ paramValues: UnsafePointer<UnsafePointer<CChar>?>!,
                    _ paramLengths: UnsafePointer<Int32>!, _ paramFormats: UnsafePointer<Int32>!, _ resultFormat: Int32) -> OpaquePointer! {
    LibPQ.execPrepared(conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat)
}
@discardableResult func PQprepare(_ conn: OpaquePointer!, _ stmtName: UnsafePointer<CChar>!, _ query: UnsafePointer<CChar>!, _ nParams: Int32, _ paramTypes: UnsafePointer<Oid>!) -> OpaquePointer! {
    LibPQ.prepare(conn, stmtName, query, nParams, paramTypes)
}
@discardableResult func PQexec(_ conn: OpaquePointer!, _ query: UnsafePointer<CChar>!) -> OpaquePointer! { LibPQ.exec(conn, query) }
@discardableResult func PQunescapeBytea(_ strtext: UnsafePointer<UInt8>!, _ retbuflen: UnsafeMutablePointer<Int>!) -> UnsafeMutablePointer<UInt8>! { LibPQ.unescapeBytea(strtext, retbuflen) }
@discardableResult func PQtransactionStatus(_ conn: OpaquePointer!) -> PGTransactionStatusType { LibPQ.transactionStatus(conn) }
@discardableResult func PQsetNoticeProcessor(_ conn: OpaquePointer!, _ proc: PQnoticeProcessor!, _ arg: UnsafeMutableRawPointer!) -> PQnoticeProcessor! {
    LibPQ.setNoticeProcessor(conn, proc, arg)
}
@discardableResult func PQresultStatus(_ res: OpaquePointer!) -> ExecStatusType { LibPQ.resultStatus(res) }
@discardableResult func PQntuples(_ res: OpaquePointer!) -> Int32 { LibPQ.ntuples(res) }
@discardableResult func PQnfields(_ res: OpaquePointer!) -> Int32 { LibPQ.nfields(res) }
@discardableResult func PQgetvalue(_ res: OpaquePointer!, _ tupNum: Int32, _ fieldNum: Int32) -> UnsafeMutablePointer<CChar>! { LibPQ.getvalue(res, tupNum, fieldNum) }
@discardableResult func PQgetisnull(_ res: OpaquePointer!, _ tupNum: Int32, _ fieldNum: Int32) -> Int32 { LibPQ.getisnull(res, tupNum, fieldNum) }
@discardableResult func PQftype(_ res: OpaquePointer!, _ fieldNum: Int32) -> Oid { LibPQ.ftype(res, fieldNum) }
@discardableResult func PQfname(_ res: OpaquePointer!, _ fieldNum: Int32) -> UnsafeMutablePointer<CChar>! { LibPQ.fname(res, fieldNum) }
@discardableResult func PQcmdTuples(_ res: OpaquePointer!) -> UnsafeMutablePointer<CChar>! { LibPQ.cmdTuples(res) }
@discardableResult func PQbackendPID(_ conn: OpaquePointer!) -> Int32 { LibPQ.backendPID(conn) }
@discardableResult func PQenterPipelineMode(_ conn: OpaquePointer!) -> Int32 { LibPQ.enterPipelineMode(conn) }
@discardableResult func PQexitPipelineMode(_ conn: OpaquePointer!) -> Int32 { LibPQ.exitPipelineMode(conn) }
@discardableResult func PQpipelineSync(_ conn: OpaquePointer!) -> Int32 { LibPQ.pipelineSync(conn) }
@discardableResult func PQsendQueryPrepared(_ conn: OpaquePointer!, _ stmtName: UnsafePointer<CChar>!, _ nParams: Int32, _ paramValues: UnsafePointer<UnsafePointer<CChar>?>!,
                                            _ paramLengths: UnsafePointer<Int32>!, _ paramFormats: UnsafePointer<Int32>!, _ resultFormat: Int32) -> Int32 {
    LibPQ.sendQueryPrepared(conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat)
}
@discardableResult func PQgetResult(_ conn: OpaquePointer!) -> OpaquePointer! { LibPQ.getResult(conn) }
