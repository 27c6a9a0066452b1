/// Things to do at a time, soonest first: a binary min-heap (the receiver's connection
/// deadlines, the emulator's settle times). One implementation of the sift-up and sift-down.
public struct MinHeap<Time: Comparable, Element> {
    private var items: [(at: Time, element: Element)] = []

    public init() {}

    public var isEmpty: Bool { items.isEmpty }
    /// The soonest time in the heap.
    public var soonest: Time? { items.first?.at }

    public mutating func push(_ element: Element, at: Time) {
        items.append((at, element))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].at < items[parent].at else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    /// The soonest entry, removed.
    public mutating func pop() -> (at: Time, element: Element)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, items[l].at < items[m].at { m = l }
                if r < items.count, items[r].at < items[m].at { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }

    /// The soonest entry whose time has come (at or before `now`), removed; nil when none is.
    public mutating func popDue(_ now: Time) -> (at: Time, element: Element)? {
        guard let t = soonest, t <= now else { return nil }
        return pop()
    }
}

extension MinHeap: Sendable where Time: Sendable, Element: Sendable {}
