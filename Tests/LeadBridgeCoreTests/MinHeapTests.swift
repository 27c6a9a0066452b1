import Testing
import LeadBridgeCore

/// The one heap behind the receiver's deadlines and the emulator's settle times.
@Suite struct MinHeapTests {
    @Test func popsInTimeOrderAndOnlyWhatIsDue() {
        var heap = MinHeap<Int, String>()
        let times = [5, 3, 9, 1, 7, 3, 8, 2, 6, 4, 0, 9]
        for (i, t) in times.enumerated() { heap.push("e\(i)", at: t) }
        #expect(heap.soonest == 0)
        #expect(heap.popDue(-1) == nil)
        var due: [Int] = []
        while let (at, _) = heap.popDue(4) { due.append(at) }
        #expect(due == [0, 1, 2, 3, 3, 4])
        #expect(heap.soonest == 5)
        var rest: [Int] = []
        while let (at, _) = heap.pop() { rest.append(at) }
        #expect(rest == [5, 6, 7, 8, 9, 9])
        #expect(heap.isEmpty && heap.pop() == nil)
    }
}
