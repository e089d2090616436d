#!/usr/bin/env bash
# A throwaway app package that depends on this repository by version, as an
# app developer's would (`.package(url: …, from: "0.1.0")`), resolves and
# builds against the TickgateClient product. It uses the committed HEAD,
# cloned and tagged 0.1.0 in a temporary folder (nothing is tagged here).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --no-hardlinks . "$work/tickgate"
git -C "$work/tickgate" -c user.email=ci@tickgate -c user.name=ci tag -a 0.1.0 -m "consumer check" >/dev/null
mkdir -p "$work/app/Sources/App"
cat > "$work/app/Package.swift" <<SWIFT
// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "app",
    platforms: [.macOS(.v15)],
    dependencies: [.package(url: "file://$work/tickgate", from: "0.1.0")],
    targets: [
        .executableTarget(
            name: "App",
            dependencies: [.product(name: "TickgateClient", package: "tickgate")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
    ]
)
SWIFT
cat > "$work/app/Sources/App/main.swift" <<'SWIFT'
import TickgateClient

// Compiles against the public API; connecting to a port nobody listens on
// must fail with a clear error, not crash.
do {
    _ = try await TickgateConnection.connect(host: "127.0.0.1", port: 1, connectTimeout: .seconds(2))
    print("unexpected: connected")
} catch {
    print("consumer ok: \(error)")
}
SWIFT
echo "==> consumer package: swift build (depends on tickgate from: 0.1.0)"
(cd "$work/app" && swift build 2>&1 | tail -3 && swift run -q App)
