#if canImport(Glibc)
import Glibc
#endif

/// A test CA, a server certificate it signed (localhost, 127.0.0.1), a
/// client certificate it signed, and a client certificate from another CA;
/// made with the openssl command, in a fresh directory, for each test.
public struct TestCertificates: Sendable {
    public let directory: String
    public var caFile: String { "\(directory)/ca.pem" }
    public var serverCertificate: String { "\(directory)/server.pem" }
    public var serverKey: String { "\(directory)/server.key" }
    public var clientCertificate: String { "\(directory)/client.pem" }
    public var clientKey: String { "\(directory)/client.key" }
    public var strangerCertificate: String { "\(directory)/stranger.pem" }
    public var strangerKey: String { "\(directory)/stranger.key" }
    /// From the test CA, for 127.0.0.1, but expired yesterday.
    public var expiredCertificate: String { "\(directory)/expired.pem" }
    public var expiredKey: String { "\(directory)/expired.key" }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static func make() throws -> TestCertificates {
        let directory = "/tmp/tickgate-certs-\(UInt64.random(in: 0...UInt64.max))"
        let d = directory
        let script = """
            set -e; mkdir -p \(d); cd \(d)
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=tickgate-test-ca -keyout ca.key -out ca.pem
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=stranger-ca -keyout sca.key -out sca.pem
            sign() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=$1 -keyout $1.key -out $1.csr
                     printf "subjectAltName=$3\\n" > $1.ext
                     openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial -days ${4:-1} -extfile $1.ext -out $1.pem; }
            sign server ca DNS:localhost,IP:127.0.0.1
            sign client ca DNS:client
            sign stranger sca DNS:stranger
            sign expired ca DNS:localhost,IP:127.0.0.1 -1
            """
        let status = system("(\(script)) >/dev/null 2>&1")
        guard status == 0 else { throw Failure(description: "openssl could not make the test certificates (\(status))") }
        return TestCertificates(directory: directory)
    }

    public func remove() {
        _ = system("rm -rf \(directory)")
    }
}
