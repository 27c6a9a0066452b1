import LeadBridgeCore

/// JSON syntax errors in Russian (the English is `JSONSyntaxProblem.english`).
extension Say {
    static func jsonSyntaxRU(_ p: JSONSyntaxProblem) -> String {
        switch p {
        case .emptyDocument: return "пустой документ: ожидалось значение JSON"
        case .textAfterValue: return "лишний текст после значения JSON"
        case .endExpectingValue: return "текст оборвался: ожидалось значение"
        case .comment: return "комментарии в JSON не допускаются"
        case .singleQuotes: return "строки пишутся в двойных кавычках"
        case .unexpectedCharacter(let c): return "неожиданный символ \(c): ожидалось значение"
        case .invalidLiteral(let w): return "неверное слово: ожидалось \(w)"
        case .tooDeep(let n): return "вложенность глубже \(n) уровней"
        case .endInObject: return "текст оборвался внутри объекта"
        case .trailingCommaInObject: return "лишняя запятая перед «}»"
        case .expectedKey: return "ожидался ключ в двойных кавычках"
        case .duplicateKey(let k): return "ключ «\(k)» повторяется"
        case .expectedColon(let k): return "после ключа «\(k)» ожидалось «:»"
        case .endExpectingCommaOrBrace: return "текст оборвался: ожидалось «,» или «}»"
        case .expectedCommaOrBrace: return "после значения ожидалось «,» или «}»"
        case .endInArray: return "текст оборвался внутри массива"
        case .trailingCommaInArray: return "лишняя запятая перед «]»"
        case .endExpectingCommaOrBracket: return "текст оборвался: ожидалось «,» или «]»"
        case .expectedCommaOrBracket: return "после значения ожидалось «,» или «]»"
        case .numberExpectedDigit: return "неверное число: ожидалась цифра"
        case .numberLeadingZero: return "неверное число: ведущий ноль"
        case .numberDigitAfterDot: return "неверное число: после «.» ожидалась цифра"
        case .numberExponent: return "неверное число: ожидался показатель степени"
        case .unterminatedString: return "незакрытая строка"
        case .lineBreakInString: return "незакрытая строка (перевод строки внутри строки)"
        case .controlCharacter(let c): return "управляющий символ \(c) внутри строки: экранируйте его"
        case .unterminatedEscape: return "незаконченная escape-последовательность"
        case .unpairedSurrogate: return "непарный суррогат в escape-последовательности \\u"
        case .invalidLowSurrogate: return "неверный младший суррогат в escape-последовательности \\u"
        case .invalidUnicodeEscape: return "неверная escape-последовательность \\u"
        case .invalidEscape(let e): return "неверная escape-последовательность \\\(e)"
        case .invalidUTF8: return "неверный UTF-8 внутри строки"
        case .incompleteUnicodeEscape: return "незаконченная escape-последовательность \\u"
        case .invalidHexDigit: return "неверная шестнадцатеричная цифра в escape-последовательности \\u"
        case .stringTooLong(let size, let limit): return "строка в \(size) байт; предел — \(limit) (см. docs/limits.md)"
        }
    }

    /// Why a report file cannot be imported, in Russian.
    static func reportErrorRU(_ p: ReportError.Problem) -> String {
        func quoted(_ a: [String]) -> String { a.map { "\"\($0)\"" }.joined(separator: ", ") }
        switch p {
        case .empty: return "файл пуст"
        case .xlsx: return "это книга Excel (XLSX), import её не читает: откройте её и сохраните как CSV (Файл → Сохранить как → CSV UTF-8), затем импортируйте CSV"
        case .xls: return "это старая книга Excel (XLS), import её не читает: откройте её и сохраните как CSV, затем импортируйте CSV"
        case .noRows: return "в файле нет строк"
        case .mapPair(let part): return "--map принимает пары РОЛЬ=СТОЛБЕЦ, например status=Статус, указано «\(part)»"
        case .mapUnknownRole(let r, let s, let roles):
            return "--map: неизвестная роль «\(r)»" + suggestion(s.map { "«\($0)»" }, .ru) + " (одна из: " + roles.joined(separator: ", ") + ")"
        case .noColumn(let names, let role, let header):
            return "нет столбца \(names.map { "«\($0)»" }.joined(separator: " или ")) для \(role); столбцы: " + quoted(header)
        case .cannotTell(let statusMissing, let header):
            return "не удаётся понять, в каком столбце \(statusMissing ? "статус" : "наш id заказа или id лида у сети") (столбцы: \(quoted(header))); укажите его через --map, например --map status=Статус,order=sub1"
        }
    }
}
