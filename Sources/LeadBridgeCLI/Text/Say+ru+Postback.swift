import LeadBridgeCore

/// What is wrong with an incoming postback, in Russian: one wording per `PostbackProblem`
/// case (the English is `PostbackProblem.english`, what the receiver answers the network).
extension Say {
    static func postbackProblemRU(_ p: PostbackProblem) -> String {
        switch p {
        case .invalidPercentEncoding: return "неверное %-кодирование"
        case .notUTF8AfterDecoding: return "после %-декодирования — не UTF-8"
        case .controlCharacters: return "содержит управляющие символы"
        case .givenTwice(let a, let b): return "указано дважды с разными значениями (\"\(a)\" и \"\(b)\")"
        case .unsubstitutedMacro(let m): return "неподставленный макрос \(m): сеть его не заполнила"
        case .tooLong(let limit): return "длиннее \(plural(limit, "символа", "символов", "символов"))"
        case .noId: return "нет ни oid (наш номер заказа), ни eid (id лида в сети)"
        case .noStatus: return "статус не указан"
        case .notACurrency(let v): return "должен быть трёхбуквенным кодом валюты, например USD, указано \"\(v)\""
        case .notAReasonCode(let v): return "должен быть числовым кодом причины, указано \"\(v)\""
        case .unknownStatusWord(let w, let n):
            return "неизвестное слово статуса \"\(w)\" для \(n): добавьте его в statuses спецификации или в списки постбека sta/stc/stt/stw/sth"
        case .notAnAmount(let v): return "должно быть десятичной суммой меньше 1e9, указано \"\(v)\""
        case .bodyNotAJSONObject: return "тело в JSON — не объект JSON"
        case .bodyNotUTF8: return "тело — не UTF-8"
        }
    }
}
