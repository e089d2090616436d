/// A payload that is not the protobuf message it should be.
public struct WireError: Error, Equatable, CustomStringConvertible {
    public let messageType: String
    public let byteCount: Int

    public init(messageType: String, byteCount: Int) {
        self.messageType = messageType
        self.byteCount = byteCount
    }

    public var description: String {
        "\(byteCount) bytes do not parse as a tickgate.v1.\(messageType) protobuf message"
    }
}
