/// Base64 (RFC 4648, standard alphabet, padded) for gRPC-Web's text mode,
/// both ways and in pieces: every piece is encoded on its own (padded), and
/// the decoder takes the body in any split, padding between pieces
/// included (each 4-character group decodes on its own).
package enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Characters `count` bytes encode to.
    @inlinable
    package static func encodedLength(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Encodes `bytes` into `out`, which holds ``encodedLength(_:)`` bytes.
    package static func encode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
        var o = 0
        var i = 0
        let count = bytes.count
        alphabet.withUnsafeBufferPointer { table in
            while i + 3 <= count {
                let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                out.storeBytes(of: table[Int(v >> 18)], toByteOffset: o, as: UInt8.self)
                out.storeBytes(of: table[Int(v >> 12 & 63)], toByteOffset: o + 1, as: UInt8.self)
                out.storeBytes(of: table[Int(v >> 6 & 63)], toByteOffset: o + 2, as: UInt8.self)
                out.storeBytes(of: table[Int(v & 63)], toByteOffset: o + 3, as: UInt8.self)
                i += 3
                o += 4
            }
            let rest = count - i
            guard rest > 0 else { return }
            let v = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.storeBytes(of: table[Int(v >> 18)], toByteOffset: o, as: UInt8.self)
            out.storeBytes(of: table[Int(v >> 12 & 63)], toByteOffset: o + 1, as: UInt8.self)
            out.storeBytes(of: rest == 2 ? table[Int(v >> 6 & 63)] : UInt8(ascii: "="), toByteOffset: o + 2, as: UInt8.self)
            out.storeBytes(of: UInt8(ascii: "="), toByteOffset: o + 3, as: UInt8.self)
        }
    }

    package static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: encodedLength(bytes.count))
        bytes.withUnsafeBytes { source in out.withUnsafeMutableBytes { encode(source, into: $0.baseAddress!) } }
        return out
    }

    package struct InvalidCharacter: Error, Equatable {
        package let byte: UInt8
    }

    /// Decodes a base64 body that arrives in pieces; keeps at most three
    /// characters between pieces. Line breaks and spaces are skipped.
    package struct StreamDecoder {
        private var group: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        private var filled = 0

        package init() {}

        /// Nothing is left half-decoded.
        package var isAtGroupBoundary: Bool { filled == 0 }

        package mutating func decode(_ text: UnsafeRawBufferPointer, into out: inout [UInt8]) throws(InvalidCharacter) {
            out.reserveCapacity(out.count + text.count / 4 * 3 + 3)
            for byte in text {
                if byte == 10 || byte == 13 || byte == 32 { continue }
                guard Self.value(byte) != nil || byte == UInt8(ascii: "=") else { throw InvalidCharacter(byte: byte) }
                switch filled {
                case 0: group.0 = byte
                case 1: group.1 = byte
                case 2: group.2 = byte
                default: group.3 = byte
                }
                filled += 1
                if filled == 4 {
                    filled = 0
                    try emit(into: &out)
                }
            }
        }

        private func emit(into out: inout [UInt8]) throws(InvalidCharacter) {
            guard let a = Self.value(group.0) else { throw InvalidCharacter(byte: group.0) }
            guard let b = Self.value(group.1) else { throw InvalidCharacter(byte: group.1) }
            out.append(a << 2 | b >> 4)
            guard let c = Self.value(group.2) else {
                guard group.2 == UInt8(ascii: "="), group.3 == UInt8(ascii: "=") else { throw InvalidCharacter(byte: group.2) }
                return
            }
            out.append(b << 4 | c >> 2)
            guard let d = Self.value(group.3) else {
                guard group.3 == UInt8(ascii: "=") else { throw InvalidCharacter(byte: group.3) }
                return
            }
            out.append(c << 6 | d)
        }

        private static func value(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): return 62
            case UInt8(ascii: "/"): return 63
            default: return nil
            }
        }
    }
}
