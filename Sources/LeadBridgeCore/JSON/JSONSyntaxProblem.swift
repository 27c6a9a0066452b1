/// What is wrong with a JSON text, as a value: worded by the edges in the user's language;
/// `english` is the stable sentence (`--json` outputs, tests).
public enum JSONSyntaxProblem: Sendable, Hashable {
    case emptyDocument
    case textAfterValue
    case endExpectingValue
    case comment
    case singleQuotes
    case unexpectedCharacter(String)
    case invalidLiteral(String)
    case tooDeep(Int)
    case endInObject
    case trailingCommaInObject
    case expectedKey
    case duplicateKey(String)
    case expectedColon(key: String)
    case endExpectingCommaOrBrace
    case expectedCommaOrBrace
    case endInArray
    case trailingCommaInArray
    case endExpectingCommaOrBracket
    case expectedCommaOrBracket
    case numberExpectedDigit
    case numberLeadingZero
    case numberDigitAfterDot
    case numberExponent
    case unterminatedString
    case lineBreakInString
    case controlCharacter(String)
    case unterminatedEscape
    case unpairedSurrogate
    case invalidLowSurrogate
    case invalidUnicodeEscape
    case invalidEscape(String)
    case invalidUTF8
    case incompleteUnicodeEscape
    case invalidHexDigit
    case stringTooLong(size: Int, limit: Int)

    public var english: String {
        switch self {
        case .emptyDocument: return "empty document: expected a JSON value"
        case .textAfterValue: return "unexpected text after the JSON value"
        case .endExpectingValue: return "unexpected end of input: expected a value"
        case .comment: return "comments are not allowed in JSON"
        case .singleQuotes: return "strings must use double quotes"
        case .unexpectedCharacter(let c): return "unexpected character \(c): expected a value"
        case .invalidLiteral(let w): return "invalid literal: expected \(w)"
        case .tooDeep(let n): return "nesting deeper than \(n) levels"
        case .endInObject: return "unexpected end of input inside an object"
        case .trailingCommaInObject: return "trailing comma before '}'"
        case .expectedKey: return "expected a key in double quotes"
        case .duplicateKey(let k): return "duplicate key \"\(k)\""
        case .expectedColon(let k): return "expected ':' after key \"\(k)\""
        case .endExpectingCommaOrBrace: return "unexpected end of input: expected ',' or '}'"
        case .expectedCommaOrBrace: return "expected ',' or '}' after a value"
        case .endInArray: return "unexpected end of input inside an array"
        case .trailingCommaInArray: return "trailing comma before ']'"
        case .endExpectingCommaOrBracket: return "unexpected end of input: expected ',' or ']'"
        case .expectedCommaOrBracket: return "expected ',' or ']' after a value"
        case .numberExpectedDigit: return "invalid number: expected a digit"
        case .numberLeadingZero: return "invalid number: leading zero"
        case .numberDigitAfterDot: return "invalid number: expected a digit after '.'"
        case .numberExponent: return "invalid number: expected an exponent"
        case .unterminatedString: return "unterminated string"
        case .lineBreakInString: return "unterminated string (line break inside a string)"
        case .controlCharacter(let c): return "control character \(c) inside a string: escape it"
        case .unterminatedEscape: return "unterminated escape"
        case .unpairedSurrogate: return "unpaired surrogate in \\u escape"
        case .invalidLowSurrogate: return "invalid low surrogate in \\u escape"
        case .invalidUnicodeEscape: return "invalid \\u escape"
        case .invalidEscape(let e): return "invalid escape \\\(e)"
        case .invalidUTF8: return "invalid UTF-8 inside a string"
        case .incompleteUnicodeEscape: return "incomplete \\u escape"
        case .invalidHexDigit: return "invalid hex digit in \\u escape"
        case .stringTooLong(let size, let limit): return "a string of \(size) bytes; the limit is \(limit) (see docs/limits.md)"
        }
    }
}
