"""gRPC over TLS from stock grpcio, with certificates made here by the
openssl command: server TLS, ALPN h2 required, mutual TLS, and the warning
for plain text on a non-loopback address."""
import signal
import socket
import ssl
import subprocess

import grpc
import pytest

from conftest import STARTUP_TIMEOUT, Stream, start_gateway
from test_interop import ping, read_ticks, subscribe

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def sign(d, name, ca, san, days="1"):
    openssl("req", *EC, "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
    (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-days", days, "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=d)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    for ca in ["ca", "other-ca"]:
        openssl("req", "-x509", *EC, "-days", "1", "-subj", f"/CN={ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.pem", cwd=d)
    sign(d, "server", "ca", "DNS:localhost,IP:127.0.0.1")
    sign(d, "client", "ca", "DNS:client")
    sign(d, "stranger", "other-ca", "DNS:stranger")
    sign(d, "expired", "ca", "DNS:localhost,IP:127.0.0.1", days="-1")
    return d


def read(path):
    return path.read_bytes()


def secure_channel(address, certs, client=None):
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(certs / "ca.pem"),
        private_key=read(certs / f"{client}.key") if client else None,
        certificate_chain=read(certs / f"{client}.pem") if client else None)
    # The certificate names localhost; connect by address and check that name.
    return grpc.secure_channel(address, credentials, options=[("grpc.ssl_target_name_override", "localhost")])


@pytest.fixture(scope="module")
def tls_gateway(spawn_module, tickgate_bin, broker, certs):
    g = start_gateway(spawn_module, tickgate_bin, broker.bootstrap,
                      "--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key"))
    g.wait_for(r"\(gRPC over TLS\)")
    return g


def test_grpcio_subscribes_over_tls(pb, tls_gateway, certs, ingest):
    channel = secure_channel(tls_gateway.address, certs)
    grpc.channel_ready_future(channel).result(timeout=STARTUP_TIMEOUT)
    s = Stream(pb.grpc.PriceStreamStub(channel).Stream)
    _, ack = subscribe(pb, s, 1, ["AVAX-USD"])
    assert list(ack.symbols) == ["AVAX-USD"]
    ingest(["AVAX-USD"], 20)
    assert [t.sequence for t in read_ticks(s, 20)] == list(range(1, 21))
    s.cancel()
    channel.close()


def test_a_client_without_alpn_h2_is_refused_with_a_log_line(tls_gateway, certs):
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.set_alpn_protocols(["http/1.1"])
    host, port = tls_gateway.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with pytest.raises(ssl.SSLError, match="NO_APPLICATION_PROTOCOL|no application protocol"):
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.recv(1)
    tls_gateway.wait_for(r"refused a TLS connection from 127\.0\.0\.1: .*")
    # No ALPN offered at all: the handshake completes, then the gateway closes.
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            try:
                assert tls.recv(1) == b""
            except (ssl.SSLError, ConnectionResetError):
                pass
    tls_gateway.wait_for(r"did not negotiate ALPN h2")


def test_tickgate_subscribe_over_tls(tls_gateway, certs, tickgate_bin):
    r = subprocess.run([tickgate_bin, "subscribe", "--to", tls_gateway.address, "--count", "1", "BTC-USD"],
                       capture_output=True, text=True, timeout=15)
    assert r.returncode == 1, "h2c to a TLS port fails"
    host, port = tls_gateway.address.rsplit(":", 1)
    p = subprocess.Popen([tickgate_bin, "subscribe", "--to", f"localhost:{port}", "--ca-file", str(certs / "ca.pem"),
                          "BTC-USD"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=2)  # connected, subscribed, waiting for ticks
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=10)
    untrusted = subprocess.run([tickgate_bin, "subscribe", "--to", f"localhost:{port}", "--tls", "BTC-USD"],
                               capture_output=True, text=True, timeout=15)
    assert untrusted.returncode == 1 and "certificate verification failed" in untrusted.stderr, untrusted.stderr


def test_mutual_tls(pb, spawn, tickgate_bin, broker, certs):
    g = start_gateway(spawn, tickgate_bin, broker.bootstrap, "--tls-cert", str(certs / "server.pem"),
                      "--tls-key", str(certs / "server.key"), "--tls-client-ca", str(certs / "ca.pem"))
    g.wait_for(r"client certificates required")
    good = secure_channel(g.address, certs, client="client")
    s = Stream(pb.grpc.PriceStreamStub(good).Stream)
    subscribe(pb, s, 1, ["BTC-USD"])
    ping(pb, s, 2)
    s.cancel()
    good.close()
    for client in [None, "stranger"]:
        channel = secure_channel(g.address, certs, client=client)
        with pytest.raises(grpc.RpcError) as refused:
            pb.grpc.PriceStreamStub(channel).GetSnapshot(pb.pb2.SnapshotRequest(symbols=["BTC-USD"]), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, (client, refused.value)
        channel.close()


def test_grpcio_refuses_an_expired_certificate(pb, spawn, tickgate_bin, broker, certs):
    g = start_gateway(spawn, tickgate_bin, broker.bootstrap,
                      "--tls-cert", str(certs / "expired.pem"), "--tls-key", str(certs / "expired.key"))
    channel = secure_channel(g.address, certs)
    with pytest.raises(grpc.RpcError) as refused:
        pb.grpc.PriceStreamStub(channel).GetSnapshot(pb.pb2.SnapshotRequest(symbols=["BTC-USD"]), timeout=5)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value
    assert "certificate" in refused.value.debug_error_string().lower() or "handshake" in refused.value.debug_error_string().lower(), \
        refused.value.debug_error_string()
    channel.close()


def test_plain_text_on_a_non_loopback_address_warns(spawn, tickgate_bin, broker):
    p = spawn([tickgate_bin, "serve", "--brokers", broker.bootstrap, "--listen", "0.0.0.0:0", "--no-metrics"])
    p.wait_for(r"without TLS: anyone on the network can read the traffic")
