/// The stream ids a server's peer has opened, as ranges of consecutive
/// client ids (clients step by 2, so one range is the usual case). nghttp2
/// keeps no closed streams here, so it cannot tell a HEADERS frame for an
/// id below the highest one opened that was never opened (an idle stream
/// implicitly closed: a PROTOCOL_ERROR, RFC 9113 §5.1.1) from trailers for
/// a stream it reset (legitimate); this can. Bounded: past `maxRanges` the
/// oldest are forgotten, and an id there is given the benefit of the doubt.
struct ClientStreamIDs {
    private(set) var highest: Int32 = 0
    private var ranges: [ClosedRange<Int32>] = []
    /// Ids up to this one are no longer remembered.
    private var forgottenThrough: Int32 = 0
    static let maxRanges = 1024
    /// Streams whose END_STREAM the client sent, most recent ones: any
    /// frame after it but PRIORITY (and WINDOW_UPDATE, RST_STREAM) is a
    /// STREAM_CLOSED connection error (RFC 9113 §5.1); reusing such an id
    /// for a new request is the common case.
    private var ended: Set<Int32> = []
    private var endedOrder: [Int32] = []
    private var endedNext = 0
    static let maxEnded = 1024

    /// The client sent END_STREAM on `id`.
    mutating func endStream(on id: Int32) {
        guard ended.insert(id).inserted else { return }
        if endedOrder.count < Self.maxEnded {
            endedOrder.append(id)
        } else {
            ended.remove(endedOrder[endedNext])
            endedOrder[endedNext] = id
            endedNext = (endedNext + 1) % Self.maxEnded
        }
    }

    /// A HEADERS frame on `id` after the client ended it.
    func isEnded(_ id: Int32) -> Bool { ended.contains(id) }

    /// A HEADERS frame opens (or continues) `id`. False when it is a
    /// protocol error: an id at or below the highest opened that was never
    /// opened itself.
    mutating func headers(on id: Int32) -> Bool {
        if id > highest {
            if let last = ranges.last, last.upperBound == highest, id == highest + 2 {
                ranges[ranges.count - 1] = last.lowerBound...id
            } else {
                ranges.append(id...id)
                if ranges.count > Self.maxRanges {
                    forgottenThrough = ranges[ranges.count - Self.maxRanges - 1].upperBound
                    ranges.removeFirst(ranges.count - Self.maxRanges)
                }
            }
            highest = id
            return true
        }
        if id <= forgottenThrough { return true }  // forgotten: assume it was opened
        return ranges.contains { $0.contains(id) && ($0.lowerBound - id) % 2 == 0 }
    }
}
