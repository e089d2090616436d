/// SHA-256 (OpenSSL does the work): for API keys stored hashed.
public enum SHA256 {
    public static func hash(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { OpenSSLDigest.sha256(UnsafeRawBufferPointer($0)) }
    }

    /// Lower-case hex, as the keys file stores it.
    public static func hex(_ text: String) -> String {
        hash(text).map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
        }.joined()
    }
}
