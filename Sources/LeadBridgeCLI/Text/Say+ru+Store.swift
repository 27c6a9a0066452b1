import LeadBridgeCore
import LeadBridgeStore

/// A store failure as a catalog line says it: the store's problem as a value when it gave one,
/// else its text (a lower layer's, shown as it came).
enum StoreDetail: Sendable, Hashable {
    case problem(StoreProblem)
    case said(String)

    init(_ error: any Error) {
        if let e = error as? StoreError, let p = e.problem { self = .problem(p) } else { self = .said("\(error)") }
    }

    func text(_ l: Language) -> String {
        switch self {
        case .problem(let p): return l == .ru ? Say.storeProblemRU(p) : p.english
        case .said(let t): return t
        }
    }
}

/// Store failures in Russian: paths, statements and what SQLite, libpq or the server said stay
/// as they came.
extension Say {
    static func storeProblemRU(_ p: StoreProblem) -> String {
        switch p {
        case .notADatabase(let path, let d):
            return "\(path) — не база LeadBridge или повреждена (\(d)); восстановите её из резервной копии или укажите в \"store\" новый файл"
        case .locked(let path, let w): return "\(path) занята другим процессом (\(w)); повторите, когда он закончит"
        case .readOnly(let path, let d): return "\(path) доступна только для чтения (\(d))"
        case .cannotOpen(let path): return "не удаётся открыть \(path)"
        case .noWAL(let path, let got): return "\(path): не удаётся включить режим WAL (получено \(got))"
        case .noSuchFile(let path): return "нет файла \(path)"
        case .schemaNewer(let s, let v, let n, let k):
            return "у \(s) версия схемы \(v) («\(n)»), новее той, что знает этот leadbridge (\(k)): обновите leadbridge на этом хосте"
        case .schemaOlder(let s, let v, let n):
            return "у \(s) версия схемы \(v), а этому leadbridge нужна \(n): выполните 'leadbridge migrate' (один раз, с одного хоста)"
        case .migrationFailed(let v, let n, let inner, let d): return "миграция \(v) (\(n)) не удалась: " + (inner.map(storeProblemRU) ?? d)
        case .notPostgresURL: return "это не адрес PostgreSQL (он начинается с postgres:// или postgresql://)"
        case .postgresURLInvalid(let d): return "адрес PostgreSQL в \"store\" неверен: \(d)"
        case .postgresUnreachable(let l, let d): return "не удаётся подключиться к PostgreSQL \(l): \(d)"
        case .postgresLost(let l, let w, let d): return "потеряно соединение с PostgreSQL \(l) (\(w)): \(d ?? "сервер закрыл соединение")"
        case .commitUnknown(let inner, let d): return (inner.map(storeProblemRU) ?? d) + "; последняя фиксация могла примениться, а могла и нет"
        case .copyBetweenKinds: return "copy-store переносит журнал между хранилищами SQLite и PostgreSQL"
        }
    }
}
