import Foundation

/// `tickgate serve` in a process of its own, so its CPU and memory are
/// measured apart from the broker, the feeder and the load client.
final class GatewayProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let logPath: String
    var pid: Int32 { process.processIdentifier }

    private init(process: Process, port: Int, logPath: String) {
        self.process = process
        self.port = port
        self.logPath = logPath
    }

    /// Starts the gateway (pinned to `cpu` with taskset when given) and
    /// waits for its "listening" line.
    static func launch(
        executable: String, brokers: String, topic: String, threads: Int, cpu: Int?, logPath: String, extraArguments: [String] = []
    ) async throws -> GatewayProcess {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        var arguments = [executable, "serve", "--brokers", brokers, "--topic", topic, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--threads", String(threads)] + extraArguments
        if let cpu, FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
            arguments = ["-c", String(cpu)] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            arguments.removeFirst()
        }
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: logPath, encoding: .utf8),
               let range = text.range(of: "gateway listening on 127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return GatewayProcess(process: process, port: port, logPath: logPath) }
            }
            if !process.isRunning {
                throw BenchError.gateway("exited early: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw BenchError.timeout("the gateway did not start listening within 30 s (log: \(logPath))")
    }

    var stats: ProcessStats? { ProcessStats.read(pid: pid) }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
