"""HTTP/2 and gRPC abuse against the real `tickgate serve`, from a raw
HTTP/2 client (python-h2 / hyperframe / hpack, nobody's here). Each test
asserts what the abuse gets, that another client is still served promptly
(a grpcio GetSnapshot within CANARY_SECONDS), and that the gateway's RSS
stays within RSS_BOUND_KIB of what it was before. README: "Abuse"."""
import os
import socket
import struct
import subprocess
import threading
import time

import grpc
import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hpack
import pytest
from hyperframe.frame import (ContinuationFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame, RstStreamFrame,
                              SettingsFrame)

from conftest import make_channel, start_gateway

CANARY_SECONDS = 2.0
RSS_BOUND_KIB = 64 * 1024
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def target(spawn_module, tickgate_bin, broker):
    """A gateway of its own (so its RSS is the abuse's alone), with the
    defaults except short handshake and idle limits, so those tests are quick."""
    g = start_gateway(spawn_module, tickgate_bin, broker.bootstrap, "--handshake-timeout", "2", "--idle-timeout", "3")
    g.host, port = g.address.rsplit(":", 1)
    g.port = int(port)
    return g


@pytest.fixture
def guarded(target, pb):
    """Yields the target; afterwards checks the canary and the RSS bound."""
    before = rss_kib(target.proc.pid)
    yield target
    assert target.proc.poll() is None, f"the gateway died:\n{target.output()}"
    canary(pb, target)
    grew = rss_kib(target.proc.pid) - before
    assert grew < RSS_BOUND_KIB, f"RSS grew by {grew} KiB"


def canary(pb, target):
    channel = make_channel(target.address)
    started = time.monotonic()
    pb.grpc.PriceStreamStub(channel).GetSnapshot(pb.pb2.SnapshotRequest(symbols=["BTC-USD"]), timeout=CANARY_SECONDS)
    took = time.monotonic() - started
    channel.close()
    assert took < CANARY_SECONDS, f"the canary took {took:.2f} s"


class Raw:
    """One raw HTTP/2 connection: h2 for the protocol, the socket for abuse."""

    def __init__(self, target, settings=None):
        self.sock = socket.create_connection((target.host, target.port), timeout=10)
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.flush()
        self.events = []
        self.closed = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            try:
                self.sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                self.closed = True

    def headers(self, path="/tickgate.v1.PriceStream/Stream", content_type="application/grpc", extra=()):
        return [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "gw"),
                ("content-type", content_type), ("te", "trailers"), *extra]

    def pump(self, until, timeout=10):
        """Reads and handles frames until `until(events)` or the close."""
        deadline = time.monotonic() + timeout
        while not until(self.events):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return False
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed = True
                return until(self.events)
            try:
                self.events += self.conn.receive_data(data)
            except h2.exceptions.ProtocolError:
                pass
            self.flush()
        return True

    def goaway(self):
        return next((e for e in self.events if isinstance(e, h2.events.ConnectionTerminated)), None)

    def trailers(self, stream_id):
        for e in self.events:
            if isinstance(e, (h2.events.TrailersReceived, h2.events.ResponseReceived)) and e.stream_id == stream_id:
                fields = dict(e.headers)
                if "grpc-status" in fields:
                    return fields
        return None

    def wait_closed(self, timeout):
        """True once the gateway closed the socket."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                if not self.sock.recv(65536):
                    return True
            except (socket.timeout, TimeoutError):
                continue
            except (ConnectionResetError, BrokenPipeError):
                return True
        return False

    def close(self):
        self.sock.close()


def frames_until(sock, until, timeout=10):
    """The server's frames, parsed with hyperframe alone (no client state
    machine to object to frames on streams it did not open itself), until
    `until(frames)` holds, the socket closes or the time runs out."""
    frames, buffer = [], b""
    deadline = time.monotonic() + timeout
    while not until(frames):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            break
        except ConnectionResetError:
            break
        if not data:
            break
        buffer += data
        while len(buffer) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(buffer[:9]))
            if len(buffer) < 9 + length:
                break
            frame.parse_body(memoryview(buffer[9:9 + length]))
            frames.append(frame)
            buffer = buffer[9 + length:]
    return frames


def goaway_of(frames):
    return next((f for f in frames if isinstance(f, GoAwayFrame)), None)


def reset_or_goaway(frames):
    return any(isinstance(f, (RstStreamFrame, GoAwayFrame)) for f in frames)


def grpc_frame(payload):
    return b"\x00" + struct.pack(">I", len(payload)) + payload


def call(target, path, body, content_type="application/grpc"):
    raw = Raw(target)
    sid = raw.conn.get_next_available_stream_id()
    raw.conn.send_headers(sid, raw.headers(path, content_type))
    raw.conn.send_data(sid, body, end_stream=True)
    raw.flush()
    raw.pump(lambda ev: any(isinstance(e, h2.events.StreamEnded) and e.stream_id == sid for e in ev)
             or any(isinstance(e, h2.events.StreamReset) for e in ev))
    raw.close()
    return raw, sid


# ---- the abuse -------------------------------------------------------------

def test_rapid_reset_gets_goaway(guarded):
    """CVE-2023-44487: streams opened and reset at once, 20,000 of them."""
    raw = Raw(guarded)
    encoder = hpack.Encoder()
    block = encoder.encode(raw.headers())
    chunk = bytearray()
    sid = 1
    for _ in range(20_000):
        frame = HeadersFrame(sid, block)
        frame.flags.add("END_HEADERS")
        chunk += frame.serialize() + RstStreamFrame(sid, error_code=8).serialize()
        block = encoder.encode(raw.headers())
        sid += 2
        if len(chunk) > 256 * 1024:
            try:
                raw.sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            chunk.clear()
    goaway = goaway_of(frames_until(raw.sock, lambda f: goaway_of(f) is not None))
    # nghttp2's own limit (Debian's 1.52 carries the CVE fix: GOAWAY
    # INTERNAL_ERROR) or the gateway's (ENHANCE_YOUR_CALM "too_many_resets"),
    # whichever counts first: both allow bursts of 1,000.
    assert goaway is not None and (goaway.error_code == 2 or (goaway.error_code, goaway.additional_data) == (11, b"too_many_resets")), goaway
    assert goaway.last_stream_id < 2 * 5000, "cut off long before 20,000"
    raw.close()


def test_settings_flood_is_cut_off(guarded):
    raw = Raw(guarded)
    flood = SettingsFrame(0).serialize() * 100_000
    try:
        raw.sock.sendall(flood)  # never reading the ACKs
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert raw.wait_closed(10), "nghttp2's outbound-ACK limit closes a flood that does not read"
    raw.close()


def test_ping_flood_is_cut_off(guarded):
    raw = Raw(guarded)
    flood = PingFrame(0, opaque_data=b"12345678").serialize() * 100_000
    try:
        raw.sock.sendall(flood)
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert raw.wait_closed(10)
    raw.close()


def test_continuation_flood(guarded):
    """HEADERS without END_HEADERS, then CONTINUATION frames without end
    (CVE-2024-27316 and kin): the block is never kept past the header limit."""
    raw = Raw(guarded)
    encoder = hpack.Encoder()
    first = HeadersFrame(1, encoder.encode(raw.headers()))
    raw.sock.sendall(first.serialize())
    filler = encoder.encode([("x-filler", "a" * 16000)])
    sent = 0
    started = time.monotonic()
    try:
        while sent < 200 * 1024 * 1024 and time.monotonic() - started < 5:
            raw.sock.sendall(ContinuationFrame(1, filler).serialize() * 16)
            sent += 16 * len(filler)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    raw.close()


def test_hpack_bomb_costs_nothing(guarded):
    raw = Raw(guarded)
    sid = raw.conn.get_next_available_stream_id()
    encoder = hpack.Encoder()
    big = ("x-bomb", "b" * 4000)
    block = encoder.encode(raw.headers() + [big])        # indexes the 4 KB field
    block += encoder.encode([big]) * 60_000              # each a 1-byte reference: 240 MB decoded
    frames = [HeadersFrame(sid, block[:16384])]
    frames += [ContinuationFrame(sid, block[i:i + 16384]) for i in range(16384, len(block), 16384)]
    frames[-1].flags.add("END_HEADERS")
    raw.sock.sendall(b"".join(f.serialize() for f in frames))
    assert reset_or_goaway(frames_until(raw.sock, reset_or_goaway)), "the stream is reset past the header-list limit"
    raw.close()


def test_an_oversized_header_field_is_refused(guarded):
    """One 1 MiB header value, in CONTINUATION frames."""
    raw = Raw(guarded)
    block = hpack.Encoder().encode(raw.headers(extra=[("x-huge", "h" * (1024 * 1024))]), huffman=False)
    frames = [HeadersFrame(1, block[:16384])]
    frames += [ContinuationFrame(1, block[i:i + 16384]) for i in range(16384, len(block), 16384)]
    frames[-1].flags.add("END_HEADERS")
    try:
        raw.sock.sendall(b"".join(f.serialize() for f in frames))
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert reset_or_goaway(frames_until(raw.sock, reset_or_goaway)), "refused past the 16 KiB header-list limit"
    raw.close()


def test_a_zero_window_reader_held_for_20_s(guarded, pb, tickgate_bin, broker):
    raw = Raw(guarded, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    sid = raw.conn.get_next_available_stream_id()
    raw.conn.send_headers(sid, raw.headers())
    symbols = ["ZW0-USD", "ZW1-USD", "ZW2-USD", "ZW3-USD"]
    message = pb.pb2.ClientMessage(subscribe=pb.pb2.Subscribe(request_id=1, symbols=symbols)).SerializeToString()
    raw.conn.send_data(sid, grpc_frame(message))
    raw.flush()
    feed = subprocess.Popen([tickgate_bin, "ingest", "--brokers", broker.bootstrap, "--symbols", ",".join(symbols),
                             "--rate", "4000", "--duration", "20"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            canary(pb, guarded)  # served while the reader holds its window shut
            time.sleep(2)
    finally:
        feed.wait(timeout=30)
    raw.close()


def test_slowloris_half_a_preface_is_closed(guarded):
    s = socket.create_connection((guarded.host, guarded.port), timeout=10)
    s.sendall(PREFACE[:12])
    started = time.monotonic()
    s.settimeout(8)
    try:
        closed = s.recv(65536) == b"" or s.recv(65536) == b""
    except ConnectionResetError:
        closed = True
    took = time.monotonic() - started
    assert closed and took < 5, f"closed={closed} after {took:.1f} s (--handshake-timeout 2)"
    s.close()


def test_slowloris_half_a_header_block_is_closed_when_idle(guarded):
    raw = Raw(guarded)
    block = hpack.Encoder().encode(raw.headers())
    raw.sock.sendall(HeadersFrame(1, block).serialize()[:20])  # a frame header and a bit
    assert raw.wait_closed(8), "no call was ever opened: the idle limit (3 s here) closes it"
    raw.close()


def test_garbage_instead_of_the_preface(guarded):
    s = socket.create_connection((guarded.host, guarded.port), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + os.urandom(4096))
    s.settimeout(5)
    data = b""
    try:
        while chunk := s.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    s.close()  # closed by the gateway (recv returned b"") within the timeout, or the test fails on socket.timeout
    # Read as HTTP/1.1 (browsers share the port): the page, then 400 for what follows.
    assert data.startswith(b"HTTP/1.1 200 ") and b"HTTP/1.1 400 Bad Request" in data


def test_a_tls_handshake_that_never_finishes(spawn, tickgate_bin, broker, tmp_path):
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=x", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    g = start_gateway(spawn, tickgate_bin, broker.bootstrap, "--tls-cert", str(cert), "--tls-key", str(key),
                      "--handshake-timeout", "2")
    host, port = g.address.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # the start of a ClientHello
    started = time.monotonic()
    s.settimeout(8)
    try:
        assert s.recv(65536) == b""
    except ConnectionResetError:
        pass
    assert time.monotonic() - started < 5
    s.close()
    g.wait_for(r"refused a TLS connection from 127\.0\.0\.1: handshake not finished within 2000 ms")


@pytest.mark.parametrize("length", [0xFFFFFFFF, 100 * 1024 * 1024])
def test_a_length_prefix_that_lies(guarded, length):
    raw, sid = call(guarded, "/tickgate.v1.PriceStream/Stream", b"\x00" + struct.pack(">I", length) + b"x" * 100)
    assert raw.trailers(sid)["grpc-status"] == "8"


def test_invalid_protobuf_and_wrong_content_type(guarded):
    raw, sid = call(guarded, "/tickgate.v1.PriceStream/Stream", grpc_frame(b"\xff\xff\xff"))
    assert raw.trailers(sid)["grpc-status"] == "13"
    raw, sid = call(guarded, "/tickgate.v1.PriceStream/Stream", grpc_frame(b""), content_type="text/plain")
    response = next(e for e in raw.events if isinstance(e, h2.events.ResponseReceived))
    assert dict(response.headers)[":status"] == "415"


def test_stream_id_reuse_is_a_connection_error(guarded):
    raw = Raw(guarded)
    encoder = hpack.Encoder()
    path = "/grpc.health.v1.Health/Check"
    for _ in range(2):  # the same stream id twice
        frame = HeadersFrame(1, encoder.encode(raw.headers(path)))
        frame.flags.add("END_HEADERS")
        frame.flags.add("END_STREAM")
        raw.sock.sendall(frame.serialize())
        time.sleep(0.2)
    goaway = goaway_of(frames_until(raw.sock, lambda f: goaway_of(f) is not None, timeout=5))
    assert goaway is not None and goaway.error_code == 5, goaway  # STREAM_CLOSED (RFC 9113 §5.1)
    raw.close()


def test_one_subscribe_with_100000_symbols(guarded, pb):
    channel = make_channel(guarded.address)
    from conftest import Stream
    s = Stream(pb.grpc.PriceStreamStub(channel).Stream)
    symbols = [f"S{i:06d}-USD" for i in range(100_000)]
    s.send(pb.pb2.ClientMessage(subscribe=pb.pb2.Subscribe(request_id=1, symbols=symbols)))
    errors, ack = [], None
    while ack is None:
        m = s.recv(timeout=20)
        assert m is not None, s.end
        if m.WhichOneof("kind") == "error":
            errors.append(m.error)
        elif m.WhichOneof("kind") == "ack":
            ack = m.ack
    assert len(ack.symbols) == 1000, "the stream's subscription limit"
    assert len(errors) == 1 and errors[0].code == 8 and len(errors[0].symbols) == 1000
    assert "99000 in all" in errors[0].message
    s.cancel()
    channel.close()


def test_500_connections_opened_and_dropped_at_once(guarded):
    def connections():
        import urllib.request
        text = urllib.request.urlopen(guarded.metrics_url, timeout=5).read().decode()
        return next(int(float(line.split()[-1])) for line in text.splitlines() if line.startswith("tickgate_connections "))
    baseline = connections()
    socks = []
    for _ in range(500):
        s = socket.create_connection((guarded.host, guarded.port), timeout=10)
        s.sendall(PREFACE + SettingsFrame(0).serialize())
        socks.append(s)
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
        s.close()
    deadline = time.monotonic() + 10
    while connections() > baseline and time.monotonic() < deadline:
        time.sleep(0.2)
    assert connections() <= baseline
