extension Array {
    /// The first `count` elements of `sorted(by: areInIncreasingOrder)`, in that order, in
    /// O(n + count log count) expected time: a quickselect (median-of-three pivots) moves the
    /// best `count` to the front, then only they are sorted. `areInIncreasingOrder` must be a
    /// strict total order (break ties by a unique key) for the result to be the full sort's
    /// prefix exactly; the ranking's candidate lists are, by slot.
    package func sortedPrefix(_ count: Int, by areInIncreasingOrder: (Element, Element) -> Bool) -> [Element] {
        guard count > 0 else { return [] }
        guard count < self.count else { return sorted(by: areInIncreasingOrder) }
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
        return Array(a[0 ..< count]).sorted(by: areInIncreasingOrder)
    }
}
