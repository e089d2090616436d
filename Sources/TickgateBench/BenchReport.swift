import Foundation
import Histogram

/// The run's table, JSON, HdrHistogram percentile files and SVG plot.
public enum BenchReport {
    public static func table(_ r: BenchResult) -> String {
        let s = r.scenario
        var lines: [String] = []
        lines.append("scenario \(s.name): \(s.streams) stream(s) on \(s.connections) connection(s), \(s.symbolsPerStream) of \(s.symbols) symbols each, \(Int(s.rate)) ticks/s for \(fmt(s.durationSeconds)) s after \(fmt(s.warmupSeconds)) s warm-up\(r.tls ? ", over TLS" : "")")
        lines.append("machine: \(r.machine); load client on \(r.clientThreads) event loop(s)")
        lines.append("")
        lines.append(pad("hop", 52) + ["p50", "p90", "p99", "p99.9", "max"].map { pad($0, 11, right: true) }.joined() + pad("count", 11, right: true))
        for latency in r.latencies {
            let values = [latency.p50Micros, latency.p90Micros, latency.p99Micros, latency.p999Micros, latency.maxMicros]
            lines.append(pad(latency.hop, 52) + values.map { pad(micros($0), 11, right: true) }.joined() + pad(String(latency.count), 11, right: true))
        }
        lines.append("")
        lines.append("published \(Int(r.publishedPerSecond)) ticks/s (\(r.publishedTicks) in all); deliveries arriving in the window \(Int(r.deliveriesPerSecond))/s of \(Int(r.offeredDeliveriesPerSecond))/s offered")
        if let cpu = r.gatewayCPUSeconds, let per = r.gatewayMicrosPerDelivery {
            lines.append("gateway CPU \(fmt(cpu)) s over \(fmt(s.durationSeconds)) s = \(String(format: "%.3f", per)) µs per delivery (user+sys, /proc)")
        }
        if let peak = r.gatewayPeakRSSKiB {
            let perConnection = r.gatewayRSSPerConnectionKiB.map { String(format: "%.1f KiB", $0) } ?? "-"
            lines.append("gateway peak RSS \(peak / 1024) MiB; RSS per connection \(perConnection)")
        }
        lines.append("correctness: lost \(r.lost), duplicated \(r.duplicated), out of order \(r.outOfOrder), unexpected \(r.unexpected), unstamped \(r.unstamped), request errors \(r.requestErrors)")
        return lines.joined(separator: "\n")
    }

    /// Writes result.json, one .hgrm per hop and latency.svg into `directory`.
    public static func write(_ result: BenchResult, _ histograms: HopHistograms, to directory: String) throws -> [String] {
        var written: [String] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = directory + "/result.json"
        try encoder.encode(result).write(to: URL(fileURLWithPath: json))
        written.append(json)
        for hop in Hop.allCases {
            guard let histogram = histograms.byHop[hop], histogram.totalCount > 0 else { continue }
            var text = ""
            histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1000)
            let path = directory + "/\(hop.shortName).hgrm"
            try ("# \(hop.rawValue), values in microseconds\n" + text).write(toFile: path, atomically: true, encoding: .utf8)
            written.append(path)
        }
        let svg = directory + "/latency.svg"
        try plot(histograms, title: "Tickgate \(result.scenario.name): latency by percentile").write(toFile: svg, atomically: true, encoding: .utf8)
        written.append(svg)
        return written
    }

    /// Percentile curves on a log "nines" axis, latency in milliseconds.
    static func plot(_ histograms: HopHistograms, title: String) -> String {
        let width = 900.0, height = 520.0, left = 70.0, right = 250.0, top = 40.0, bottom = 50.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let maxNines = 4.0  // up to 99.99 %
        let percentiles: [Double] = stride(from: 0.0, through: maxNines, by: 0.05).map { 100 * (1 - pow(10, -$0)) }
        let hops = Hop.allCases.filter { ($0 != .producerToKafka) && (histograms.byHop[$0]?.totalCount ?? 0) > 0 }
        var maxMillis = 0.001
        for hop in hops {
            let h = histograms.byHop[hop]!
            maxMillis = max(maxMillis, Double(h.valueAtPercentile(100 * (1 - pow(10, -maxNines)))) / 1e6)
        }
        let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(left)\" y=\"24\" font-size=\"15\">\(escape(title))</text>\n"
        // Axes and grid.
        for nine in 0...Int(maxNines) {
            let x = left + plotWidth * Double(nine) / maxNines
            let label = nine == 0 ? "0%" : String(format: "%g%%", 100 * (1 - pow(10, -Double(nine))))
            svg += "<line x1=\"\(x)\" y1=\"\(top)\" x2=\"\(x)\" y2=\"\(top + plotHeight)\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(x)\" y=\"\(top + plotHeight + 18)\" text-anchor=\"middle\">\(label)</text>\n"
        }
        for step in 0...5 {
            let value = maxMillis * Double(step) / 5
            let y = top + plotHeight - plotHeight * Double(step) / 5
            svg += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + plotWidth)\" y2=\"\(y)\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(String(format: "%.2f", value))</text>\n"
        }
        svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(height - 8)\" text-anchor=\"middle\">percentile</text>\n"
        svg += "<text x=\"16\" y=\"\(top + plotHeight / 2)\" transform=\"rotate(-90 16 \(top + plotHeight / 2))\" text-anchor=\"middle\">latency (ms)</text>\n"
        for (index, hop) in hops.enumerated() {
            let h = histograms.byHop[hop]!
            let points = percentiles.enumerated().map { i, p -> String in
                let x = left + plotWidth * (Double(i) * 0.05) / maxNines
                let y = top + plotHeight - plotHeight * min(1, Double(h.valueAtPercentile(p)) / 1e6 / maxMillis)
                return String(format: "%.1f,%.1f", x, y)
            }
            let color = colors[index % colors.count]
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
            let ly = top + 10 + Double(index) * 18
            svg += "<line x1=\"\(left + plotWidth + 12)\" y1=\"\(ly)\" x2=\"\(left + plotWidth + 32)\" y2=\"\(ly)\" stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            svg += "<text x=\"\(left + plotWidth + 38)\" y=\"\(ly + 4)\">\(escape(hop.shortName))</text>\n"
        }
        return svg + "</svg>\n"
    }

    static func micros(_ value: Double) -> String {
        value >= 1000 ? String(format: "%.2f ms", value / 1000) : String(format: "%.0f µs", value)
    }

    static func fmt(_ value: Double) -> String { String(format: "%g", value) }

    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        guard text.count < width else { return text + " " }
        let fill = String(repeating: " ", count: width - text.count)
        return right ? fill + text : text + fill
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
