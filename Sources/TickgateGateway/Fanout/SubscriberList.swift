import TickgateHTTP2

/// A subscriber whose live deliveries go straight into its pending queue.
protocol DeliveryTarget: AnyObject {
    var pendingRef: Unmanaged<PendingBytes> { get }
}

/// The subscribers of one (venue, symbol) on one event loop. Not
/// thread-safe by design: only its loop touches it, so delivery takes no lock.
///
/// Members are held unretained: whoever adds one keeps it alive and
/// removes it before releasing it (a gateway stream removes itself from
/// every list when it closes). Iterating then costs no reference counting.
/// Each member's pending queue is kept beside it, so a delivery can reach
/// the queue without loading the member (one cache miss less per delivery).
/// Adding and removing a member is O(1) (an index per member, swap-remove).
final class SubscriberList<Subscriber: DeliveryTarget> {
    struct Member {
        let subscriber: Unmanaged<Subscriber>
        let pending: Unmanaged<PendingBytes>
    }

    #if DEBUG
    private(set) var members: ContiguousArray<Member> = []
    #else
    @exclusivity(unchecked) private(set) var members: ContiguousArray<Member> = []
    #endif
    /// Where each member sits in `members`.
    private var slots: [ObjectIdentifier: Int] = [:]

    var count: Int { members.count }
    var isEmpty: Bool { members.isEmpty }
    var list: [Subscriber] { members.map { $0.subscriber.takeUnretainedValue() } }

    @inline(__always)
    func forEach(_ body: (Subscriber) -> Void) {
        members.withUnsafeBufferPointer { buffer in
            for member in buffer { member.subscriber._withUnsafeGuaranteedRef(body) }
        }
    }

    /// Each member with its queue, both unretained.
    @inline(__always)
    func forEachMember(_ body: (Unmanaged<Subscriber>, Unmanaged<PendingBytes>) -> Void) {
        members.withUnsafeBufferPointer { buffer in
            for member in buffer { body(member.subscriber, member.pending) }
        }
    }

    func contains(_ subscriber: Subscriber) -> Bool {
        slots[ObjectIdentifier(subscriber)] != nil
    }

    /// False if it was there already.
    @discardableResult
    func insert(_ subscriber: Subscriber) -> Bool {
        let id = ObjectIdentifier(subscriber)
        guard slots[id] == nil else { return false }
        slots[id] = members.count
        members.append(Member(subscriber: .passUnretained(subscriber), pending: subscriber.pendingRef))
        return true
    }

    /// False if it was not there. The last member takes its place.
    @discardableResult
    func remove(_ subscriber: Subscriber) -> Bool {
        guard let index = slots.removeValue(forKey: ObjectIdentifier(subscriber)) else { return false }
        let last = members.removeLast()
        if index < members.count {
            members[index] = last
            slots[ObjectIdentifier(last.subscriber.takeUnretainedValue())] = index
        }
        return true
    }
}
