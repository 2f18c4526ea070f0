extension Array {
    /// The first `count` elements of `sorted(by: areInIncreasingOrder)`, in that order, in
    /// O(n + count log count) expected time: a quickselect (median-of-three pivots) moves the
    /// best `count` to the front, then only they are sorted. `areInIncreasingOrder` must be a
    /// strict total order (break ties by a unique key) for the result to be the full sort's
    /// prefix exactly; the ranking's candidate lists are, by slot.
    package func sortedPrefix(_ count: Int, by areInIncreasingOrder: (Element, Element) -> Bool) -> [Element] {
        best(count, by: areInIncreasingOrder).sorted(by: areInIncreasingOrder)
    }

    /// The same elements as `sortedPrefix(count, by:)`, in no particular order: for a caller
    /// that needs the set alone (the ranking's shortlist, put in slot order next), the sort of
    /// the kept ones is skipped.
    package func best(_ count: Int, by areInIncreasingOrder: (Element, Element) -> Bool) -> [Element] {
        guard count > 0 else { return [] }
        guard count < self.count else { return self }
        if count.saturatingProduct(16) <= self.count { return heapPrefix(count, by: areInIncreasingOrder) }
        var a = self
        var lo = 0, hi = a.count - 1
        let target = count - 1 // the element that belongs at this index, and all better before it
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            // Median of three to the end as the pivot.
            if areInIncreasingOrder(a[mid], a[lo]) { a.swapAt(mid, lo) }
            if areInIncreasingOrder(a[hi], a[lo]) { a.swapAt(hi, lo) }
            if areInIncreasingOrder(a[mid], a[hi]) { a.swapAt(mid, hi) }
            let pivot = a[hi]
            var store = lo
            for i in lo ..< hi where areInIncreasingOrder(a[i], pivot) {
                a.swapAt(i, store)
                store += 1
            }
            a.swapAt(store, hi)
            if store == target { break }
            if store < target { lo = store + 1 } else { hi = store - 1 }
        }
        return Array(a[0 ..< count])
    }

    /// `best` for a few of many (the ranking's best 100 of 5,000 candidates): one pass keeping
    /// the best `count` so far in a heap whose root is the worst of them, so that most elements
    /// cost one comparison with the root (quickselect compares and moves every element several
    /// times). The same elements for a strict total order.
    private func heapPrefix(_ count: Int, by areInIncreasingOrder: (Element, Element) -> Bool) -> [Element] {
        var heap = Array(self[0 ..< count])
        // Max-heap under the order: a parent sorts after its children.
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var worst = i
                if l < count && areInIncreasingOrder(heap[worst], heap[l]) { worst = l }
                if r < count && areInIncreasingOrder(heap[worst], heap[r]) { worst = r }
                if worst == i { return }
                heap.swapAt(i, worst)
                i = worst
            }
        }
        for i in stride(from: count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        for x in self[count...] where areInIncreasingOrder(x, heap[0]) {
            heap[0] = x
            siftDown(0)
        }
        return heap
    }
}
