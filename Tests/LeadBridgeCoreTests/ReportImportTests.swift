import Testing
import LeadBridgeCore

/// Reading a network's downloaded lead report: encodings told from the bytes, any delimiter,
/// quoted fields with line breaks, columns found from the usual Russian and English header
/// words, `--map` and the spec's `report` block, and what could not be read.
@Suite struct ReportImportTests {
    static func plan(_ text: String, network: String = "apileads", map: [ReportRole: String] = [:]) throws -> ReportPlan {
        try ReportImport.plan(text: text, encoding: .utf8, spec: Fixtures.spec(network), defaults: Fixtures.library.defaults, map: map)
    }

    @Test(arguments: [
        // (text, delimiter)
        ("ID лида;sub1;Статус;Выплата\n901;A-1;Принят;12,50\n902;A-2;Отклонен;0\n", ";"),
        ("id,sub1,status,payout\n901,A-1,approved,12.50\n902,A-2,rejected,0\n", ","),
        ("id\tsub1\tstatus\tpayout\r\n901\tA-1\tapproved\t12.50\r\n902\tA-2\trejected\t0\r\n", "tab"),
        ("id|sub1|status|payout\r901|A-1|approved|12.50\r902|A-2|rejected|0\r", "|"),
    ])
    func dialects(text: String, delimiter: String) throws {
        let p = try Self.plan(text)
        #expect(p.delimiter == delimiter)
        #expect(p.entries.map(\.orderId) == ["A-1", "A-2"])
        #expect(p.entries.map(\.externalId) == ["901", "902"])
        #expect(p.entries.map(\.status) == [.approved, .cancelled])
        #expect(p.entries.first?.payout == "12.50")
        #expect(p.skipped.isEmpty)
    }

    @Test func quotedFieldsWithDelimitersQuotesAndLineBreaks() throws {
        let text = "\"ID лида\";\"Sub ID 1\";\"Статус\";\"Комментарий\";\"Выплата\"\n"
            + "\"901\";\"A-1\";\"Холд\";\"перезвонить; после 18:00\nвторой номер \"\"рабочий\"\"\";\"\"\n"
            + "\"902\";\"A-2\";\"Треш\";\"\";\"\"\n"
        let p = try Self.plan(text)
        #expect(p.entries.count == 2)
        #expect(p.entries[0].comment == "перезвонить; после 18:00\nвторой номер \"рабочий\"")
        #expect(p.entries[0].status == .pending && p.entries[0].detail == "hold")
        #expect(p.entries[1].line == 4, "the second row starts on line 4 (the comment spans two lines)")
        #expect(p.entries[1].status == .trash)
    }

    @Test func titleLinesBeforeTheHeaderAndTotalsAreSkipped() throws {
        let text = "Отчёт по лидам за 01.01.2026 — 31.01.2026\n\nДата;ID заказа;SubID;Статус заказа;Вознаграждение, руб.\n"
            + "01.01.2026;555;A-1;Подтвержден;1 250,00 ₽\n;;;Итого;1 250,00\n"
        let p = try Self.plan(text)
        #expect(p.headerLine == 3)
        #expect(p.columns.name(.external) == "ID заказа" && p.columns.name(.order) == "SubID" && p.columns.name(.payout) == "Вознаграждение, руб.")
        #expect(p.entries.count == 1)
        #expect(p.entries[0].payout == "1250.00" && p.entries[0].currency == "RUB")
        #expect(p.skipped.map(\.line) == [5])
    }

    @Test func unknownColumnsNameWhatIsMissingAndMapFixesIt() throws {
        let text = "Лид;Метка клиента;Итог обзвона\n901;A-1;approved\n"
        #expect(throws: ReportError.self) { try Self.plan(text) }
        do { _ = try Self.plan(text) } catch let e as ReportError {
            #expect(e.message.contains("status") && e.message.contains("--map") && e.message.contains("\"Итог обзвона\""), "\(e)")
        }
        let p = try Self.plan(text, map: [.status: "итог обзвона", .order: "Метка клиента"])
        #expect(p.entries.first?.orderId == "A-1" && p.entries.first?.status == .approved)
        #expect(throws: ReportError.self) { try Self.plan(text, map: [.status: "Нет такой"]) }
    }

    @Test func mapArguments() throws {
        #expect(try ReportColumns.parseMap(["status=Статус,order=sub1", "external = ID лида"]) == [.status: "Статус", .order: "sub1", .external: "ID лида"])
        #expect(throws: ReportError.self) { try ReportColumns.parseMap(["stauts=Статус"]) }
        #expect(throws: ReportError.self) { try ReportColumns.parseMap(["status"]) }
    }

    @Test func unknownWordsAreReportedNeverGuessed() throws {
        let p = try Self.plan("id;sub1;status\n1;A-1;teleported\n2;A-2;teleported\n3;A-3;approved\n")
        #expect(p.entries.map(\.status) == [nil, nil, .approved])
        #expect(p.unknownWords.map(\.word) == ["teleported"] && p.unknownWords.first?.rows == 2)
    }

    @Test func theSpecReportBlockNamesColumnsAndWords() throws {
        let spec = """
        {"id": "demo", "name": "Demo", "statuses": {"approved": ["ok"]},
         "report": {"columns": {"order": ["Наш номер"], "status": "Решение"}, "statuses": {"approved": ["Зачтено"], "trash": ["Брак"]}}}
        """
        let lib = Fixtures.load(["Networks/demo.json": spec])
        #expect(lib.errors.isEmpty, "\(lib.errors)")
        let p = try ReportImport.plan(text: "Наш номер,Решение,status\nA-1,Зачтено,x\nA-2,Брак,x\nA-3,ok,x\n", encoding: .utf8,
                                      spec: try #require(lib.spec("demo")), defaults: lib.defaults)
        #expect(p.columns.name(.status) == "Решение")
        #expect(p.entries.map(\.status) == [.approved, .trash, .approved])
    }

    @Test(arguments: [
        ([0xEF, 0xBB, 0xBF, 0x61], ReportEncoding.utf8BOM),
        ([0xFF, 0xFE, 0x61, 0x00], .utf16LE),
        ([0xFE, 0xFF, 0x00, 0x61], .utf16BE),
        ([0x61, 0x00, 0x3B, 0x00, 0x62, 0x00, 0x0A, 0x00], .utf16LE),
        (Array("id;Статус\n".utf8), .utf8),
        ([0x69, 0x64, 0x3B, 0xD1, 0xF2, 0xE0, 0xF2, 0xF3, 0xF1, 0x0A], .windows1251),  // "id;Статус" in Windows-1251
    ] as [([UInt8], ReportEncoding)])
    func encodings(bytes: [UInt8], expected: ReportEncoding) throws {
        #expect(try ReportFile.encoding(of: bytes) == expected)
    }

    @Test func spreadsheetsAndEmptyFilesAreRefusedWithWhatToDo() {
        for bytes: [UInt8] in [[0x50, 0x4B, 0x03, 0x04, 0x14], [0xD0, 0xCF, 0x11, 0xE0, 0xA1], []] {
            do { _ = try ReportFile.encoding(of: bytes); Issue.record("accepted \(bytes)") } catch {
                #expect(error.message.contains(bytes.isEmpty ? "empty" : "save it as CSV"), "\(error)")
            }
        }
    }
}
