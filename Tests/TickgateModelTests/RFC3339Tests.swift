import Testing
import TickgateModel

/// Time stamps outside what Unix nanoseconds in an Int64 hold (1677 to
/// 2262) are not time stamps: nil, never a trap (found by fuzzing).
@Suite struct RFC3339Tests {
    @Test(arguments: [
        ("2024-05-31T16:08:37.028459Z", Int64(1_717_171_717_028_459_000)),
        ("2262-04-11T23:47:16.854775807Z", Int64.max),
        ("1970-01-01T00:00:00Z", 0),
    ])
    func inRange(_ text: String, _ nanos: Int64) {
        #expect(RFC3339.nanos(text, strict: false) == nanos)
    }

    @Test(arguments: ["4048-05-31T16:08:37.028459Z", "2262-04-11T23:47:16.854775808Z", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z"])
    func outOfRangeIsNil(_ text: String) {
        #expect(RFC3339.nanos(text, strict: false) == nil)
        #expect(RFC3339.nanos(text, strict: true) == nil)
    }
}
