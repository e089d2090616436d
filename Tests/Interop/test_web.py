"""Browsers' protocols on the gateway's own port, against the real binary:
gRPC-Web from a stock client nobody here wrote (sonora, over stubs-free
multicallables from grpcio-tools' messages), gRPC-Web checked byte by byte
against grpc/grpc PROTOCOL-WEB.md over HTTP/1.1 and HTTP/2 (binary and
base64 text), CORS, and Server-Sent Events with a resume through
Last-Event-ID across a gateway restart. README: "Browsers"."""
import asyncio
import base64
import json
import socket
import struct
import subprocess
import time

import grpc
import h2.config
import h2.connection
import h2.events
import pytest
import sonora.aio
import sonora.client

from conftest import RECV_TIMEOUT, start_broker, start_gateway
from test_security import new_key

ORIGIN = "http://app.example"


@pytest.fixture(scope="module")
def broker(spawn_module, tickgate_bin):
    """A broker of this module's own: what it holds is only what these tests
    publish (the session's broker, by the last module, holds all the
    others' ticks too, and a gateway started on it warms up from them)."""
    return start_broker(spawn_module, tickgate_bin, partitions=6)


@pytest.fixture(scope="module")
def web(spawn_module, tickgate_bin, broker):
    g = start_gateway(spawn_module, tickgate_bin, broker.bootstrap, "--cors-origin", ORIGIN, "--heartbeat", "1")
    g.host, port = g.address.rsplit(":", 1)
    g.port = int(port)
    return g


# ---- raw HTTP/1.1 ------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body, chunks):
        self.status, self.headers, self.body, self.chunks = status, headers, body, chunks

    def header(self, name):
        return self.headers.get(name.lower())


def read_response(sock, buffered=b""):
    """One HTTP/1.1 response, its chunked framing checked on the way."""
    data = buffered

    def need(n):
        nonlocal data
        while len(data) < n:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed inside a response: {data[:300]!r}"
            data += chunk

    def line():
        nonlocal data
        while b"\r\n" not in data:
            need(len(data) + 1)
        head, data = data.split(b"\r\n", 1)
        return head

    status_line = line().decode()
    assert status_line.startswith("HTTP/1.1 "), status_line
    status = int(status_line.split()[1])
    headers = {}
    while (h := line()) != b"":
        name, value = h.decode().split(":", 1)
        assert name.lower() not in headers or name.lower() == "vary", f"header {name} twice"
        headers[name.lower()] = value.strip()
    body, chunks = b"", []
    if headers.get("transfer-encoding") == "chunked":
        assert "content-length" not in headers
        while True:
            size = int(line().split(b";")[0], 16)
            need(size + 2)
            chunk, crlf, data = data[:size], data[size:size + 2], data[size + 2:]
            assert crlf == b"\r\n", "a chunk ends with CRLF"
            if size == 0:
                break
            chunks.append(chunk)
            body += chunk
    else:
        n = int(headers.get("content-length", "0"))
        need(n)
        body, data = data[:n], data[n:]
    return Response(status, headers, body, chunks), data


def http1(gateway, method, path, headers=None, body=b"", close=True):
    s = socket.create_connection((gateway.host, gateway.port), timeout=RECV_TIMEOUT)
    fields = {"host": gateway.address, **(headers or {})}
    if body:
        fields["content-length"] = str(len(body))
    if close:
        fields["connection"] = "close"
    s.sendall(f"{method} {path} HTTP/1.1\r\n".encode() + b"".join(f"{k}: {v}\r\n".encode() for k, v in fields.items())
              + b"\r\n" + body)
    response, _ = read_response(s)
    s.close()
    return response


def grpc_web_frames(body):
    """(flag, payload) frames of a gRPC-Web body."""
    frames, i = [], 0
    while i < len(body):
        assert len(body) - i >= 5, "a frame has a 5-byte header"
        flag, length = body[i], struct.unpack(">I", body[i + 1:i + 5])[0]
        frames.append((flag, body[i + 5:i + 5 + length]))
        assert len(frames[-1][1]) == length, "a frame's length says how many bytes follow"
        i += 5 + length
    return frames


def framed(message):
    payload = message.SerializeToString()
    return b"\x00" + struct.pack(">I", len(payload)) + payload


def trailers_of(frames):
    flag, block = frames[-1]
    assert flag == 0x80, "the body ends with the trailer frame"
    assert all(f == 0x00 for f, _ in frames[:-1]), "only data frames before it"
    lines = block.decode().split("\r\n")
    assert lines[-1] == "", "every trailer line ends with CRLF"
    return dict(line.split(":", 1) for line in lines[:-1])


def publish_ticks(tickgate_bin, broker, symbol, count, seed=7):
    r = subprocess.run([tickgate_bin, "ingest", "--brokers", broker.bootstrap, "--symbols", symbol,
                        "--count", str(count), "--rate", "2000", "--seed", str(seed)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def wait_snapshot(pb, gateway, symbol, sequence):
    """Until the gateway's last-value cache has `symbol` at `sequence`."""
    channel = sonora.client.insecure_web_channel(f"http://{gateway.address}")
    get = channel.unary_unary("/tickgate.v1.PriceStream/GetSnapshot", request_serializer=pb.pb2.SnapshotRequest.SerializeToString,
                              response_deserializer=pb.pb2.SnapshotResponse.FromString)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = get(pb.pb2.SnapshotRequest(symbols=[symbol]), timeout=10)
        if answer.ticks and answer.ticks[0].sequence >= sequence:
            return answer.ticks[0]
        time.sleep(0.05)
    pytest.fail(f"{symbol} never reached sequence {sequence}: last answer {answer}; gateway:\n{gateway.output()[-3000:]}")


# ---- gRPC-Web from a stock client ---------------------------------------------

def test_sonora_calls_get_snapshot_and_watch(pb, web, tickgate_bin, broker):
    publish_ticks(tickgate_bin, broker, "WEBA-USD", 20)
    last = wait_snapshot(pb, web, "WEBA-USD", 20)
    assert last.snapshot and last.price.exponent <= 0

    async def scenario():
        # sonora's asyncio client: its blocking one reads 16 KiB at a time
        # (http.client fills its whole buffer), fine for unary calls only.
        async with sonora.aio.insecure_web_channel(f"http://{web.address}") as channel:
            watch = channel.unary_stream("/tickgate.v1.PriceStream/Watch", request_serializer=pb.pb2.Subscribe.SerializeToString,
                                         response_deserializer=pb.pb2.ServerMessage.FromString)
            stream = watch(pb.pb2.Subscribe(request_id=9, symbols=["WEBA-USD"], snapshot=True), timeout=60).__aiter__()
            first = await stream.__anext__()
            assert first.WhichOneof("kind") == "ack" and list(first.ack.symbols) == ["WEBA-USD"] and first.ack.request_id == 9
            snapshot = await stream.__anext__()
            assert snapshot.tick.snapshot and snapshot.tick.sequence == 20
            # A fresh feed: sequences 1..30 again; the gateway forwards them.
            publishing = asyncio.get_running_loop().run_in_executor(None, publish_ticks, tickgate_bin, broker, "WEBA-USD", 30)
            seen = []
            async for message in stream:
                if message.WhichOneof("kind") == "tick":
                    assert not message.tick.snapshot
                    seen.append((message.tick.kafka_offset, message.tick.sequence))
                    if len(seen) == 30:
                        break
            await publishing
            offsets = [offset for offset, _ in seen]
            assert offsets == list(range(offsets[0], offsets[0] + 30)), "live ticks in Kafka order, none missed or twice"
            assert [sequence for _, sequence in seen] == list(range(1, 31))

            with pytest.raises(grpc.RpcError) as refused:
                async for _ in watch(pb.pb2.Subscribe(symbols=["not a symbol"]), timeout=10):
                    pass
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    asyncio.run(scenario())

    channel = sonora.client.insecure_web_channel(f"http://{web.address}")
    unknown = channel.unary_unary("/tickgate.v1.PriceStream/Nope", request_serializer=pb.pb2.SnapshotRequest.SerializeToString,
                                  response_deserializer=pb.pb2.SnapshotResponse.FromString)
    with pytest.raises(grpc.RpcError) as missing:
        unknown(pb.pb2.SnapshotRequest(symbols=["BTC-USD"]), timeout=10)
    assert missing.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_grpc_web_needs_the_key_when_keys_exist(pb, spawn, tickgate_bin, broker, tmp_path):
    key, entry = new_key(tickgate_bin, "browser", "--subscribe", "WEBA-*")
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [entry]}))
    g = start_gateway(spawn, tickgate_bin, broker.bootstrap, "--api-keys", str(path))
    channel = sonora.client.insecure_web_channel(f"http://{g.address}")
    get = channel.unary_unary("/tickgate.v1.PriceStream/GetSnapshot", request_serializer=pb.pb2.SnapshotRequest.SerializeToString,
                              response_deserializer=pb.pb2.SnapshotResponse.FromString)
    with pytest.raises(grpc.RpcError) as anonymous:
        get(pb.pb2.SnapshotRequest(symbols=["WEBA-USD"]), timeout=10)
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as forbidden:
        get(pb.pb2.SnapshotRequest(symbols=["BTC-USD"]), timeout=10, metadata=[("authorization", f"Bearer {key}")])
    assert forbidden.value.code() == grpc.StatusCode.PERMISSION_DENIED
    get(pb.pb2.SnapshotRequest(symbols=["WEBA-USD"]), timeout=10, metadata=[("authorization", f"Bearer {key}")])

    g.host, port = g.address.rsplit(":", 1)
    g.port = int(port)
    no_key = http1(g, "GET", "/v1/ticks?symbols=WEBA-USD")
    assert no_key.status == 401 and b"API key" in no_key.body
    for request in [f"GET /v1/ticks?symbols=WEBA-USD&api_key={key} HTTP/1.1\r\nhost: x\r\n\r\n",
                    f"GET /v1/ticks?symbols=WEBA-USD HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\n\r\n"]:
        s = socket.create_connection((g.host, g.port), timeout=RECV_TIMEOUT)
        s.sendall(request.encode())
        head = s.recv(4096)
        assert head.startswith(b"HTTP/1.1 200 ") and b"text/event-stream" in head
        s.close()
    forbidden_events = Events(g, f"symbols=BTC-USD&api_key={key}")
    kinds = []
    while (event := forbidden_events.next())[0] != "end":
        kinds.append(event[0])
    assert "refused" in kinds and json.loads(event[1])["code"] == 7, "a symbol the key may not see"
    forbidden_events.close()
    assert key not in g.output(), "no key in the log"


# ---- gRPC-Web, byte by byte ------------------------------------------------------

def test_grpc_web_binary_over_http1_by_the_spec(pb, web):
    r = http1(web, "POST", "/tickgate.v1.PriceStream/GetSnapshot",
              {"content-type": "application/grpc-web+proto", "x-grpc-web": "1", "origin": ORIGIN},
              framed(pb.pb2.SnapshotRequest(symbols=["BTC-USD"])))
    assert r.status == 200
    assert r.header("content-type") == "application/grpc-web+proto"
    assert r.header("transfer-encoding") == "chunked"
    assert r.header("access-control-allow-origin") == ORIGIN
    assert "grpc-status" in r.header("access-control-expose-headers")
    assert "grpc-status" not in r.headers, "a response with a body carries its status in the trailer frame"
    frames = grpc_web_frames(r.body)
    assert len(frames) == 2 and frames[0][0] == 0x00
    pb.pb2.SnapshotResponse.FromString(frames[0][1])
    assert trailers_of(frames) == {"grpc-status": "0"}


def test_grpc_web_text_over_http1_by_the_spec(pb, web):
    request = base64.b64encode(framed(pb.pb2.SnapshotRequest(symbols=["BTC-USD"])))
    r = http1(web, "POST", "/tickgate.v1.PriceStream/GetSnapshot",
              {"content-type": "application/grpc-web-text", "accept": "application/grpc-web-text"}, request)
    assert r.status == 200 and r.header("content-type") == "application/grpc-web-text+proto"
    alphabet = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
    assert set(r.body) <= alphabet, "the whole body is base64"
    for chunk in r.chunks:
        assert len(chunk) % 4 == 0, "each chunk is whole base64 groups"
    decoded = b"".join(base64.b64decode(chunk) for chunk in r.chunks)
    frames = grpc_web_frames(decoded)
    pb.pb2.SnapshotResponse.FromString(frames[0][1])
    assert trailers_of(frames) == {"grpc-status": "0"}

    bad = http1(web, "POST", "/tickgate.v1.PriceStream/GetSnapshot", {"content-type": "application/grpc-web-text"}, b"!!!!")
    frames = grpc_web_frames(base64.b64decode(bad.body)) if bad.body else []
    status = trailers_of(frames) if frames else bad.headers
    assert status["grpc-status"] == "13" and "base64" in status.get("grpc-message", "")


def test_errors_are_trailers_only_and_grpc_over_http1_is_refused(pb, web):
    r = http1(web, "POST", "/tickgate.v1.PriceStream/Missing", {"content-type": "application/grpc-web+proto"},
              framed(pb.pb2.SnapshotRequest()))
    assert r.status == 200 and r.header("grpc-status") == "12" and r.body == b""
    refused = http1(web, "POST", "/tickgate.v1.PriceStream/GetSnapshot", {"content-type": "application/grpc"},
                    framed(pb.pb2.SnapshotRequest()))
    assert refused.status == 415 and b"HTTP/2" in refused.body


def h2_request(gateway, headers, body=b"", end_after=3.0):
    """One request over h2c; returns (response headers, data, trailers)."""
    s = socket.create_connection((gateway.host, gateway.port), timeout=RECV_TIMEOUT)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, headers, end_stream=not body)
    if body:
        conn.send_data(sid, body, end_stream=True)
    s.sendall(conn.data_to_send())
    response, data, trailers, ended = None, b"", None, False
    deadline = time.monotonic() + end_after
    while not ended and time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        for event in conn.receive_data(chunk):
            if isinstance(event, h2.events.ResponseReceived):
                response = dict(event.headers)
            elif isinstance(event, h2.events.TrailersReceived):
                trailers = dict(event.headers)
            elif isinstance(event, h2.events.DataReceived):
                data += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, sid)
            elif isinstance(event, h2.events.StreamEnded):
                ended = True
        s.sendall(conn.data_to_send())
    s.close()
    return response, data, trailers, ended


def test_grpc_web_over_http2_binary_and_text(pb, web):
    base = [(":method", "POST"), (":scheme", "http"), (":authority", web.address),
            (":path", "/tickgate.v1.PriceStream/GetSnapshot"), ("x-grpc-web", "1")]
    body = framed(pb.pb2.SnapshotRequest(symbols=["BTC-USD"]))
    headers, data, trailers, ended = h2_request(web, base + [("content-type", "application/grpc-web+proto")], body)
    assert ended and trailers is None, "gRPC-Web sends no HTTP trailers"
    assert headers[":status"] == "200" and headers["content-type"] == "application/grpc-web+proto"
    frames = grpc_web_frames(data)
    pb.pb2.SnapshotResponse.FromString(frames[0][1])
    assert trailers_of(frames) == {"grpc-status": "0"}

    headers, data, trailers, ended = h2_request(web, base + [("content-type", "application/grpc-web-text")], base64.b64encode(body))
    assert ended and trailers is None and headers["content-type"] == "application/grpc-web-text+proto"
    frames = grpc_web_frames(base64.b64decode(data))
    assert trailers_of(frames) == {"grpc-status": "0"}


def test_cors_preflight(web):
    allowed = http1(web, "OPTIONS", "/tickgate.v1.PriceStream/Watch", {
        "origin": ORIGIN, "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-grpc-web,authorization"})
    assert allowed.status == 204
    assert allowed.header("access-control-allow-origin") == ORIGIN
    assert "POST" in allowed.header("access-control-allow-methods")
    requested = {h.strip() for h in allowed.header("access-control-allow-headers").split(",")}
    assert {"content-type", "x-grpc-web", "authorization", "grpc-timeout", "last-event-id"} <= requested
    other = http1(web, "OPTIONS", "/tickgate.v1.PriceStream/Watch", {"origin": "http://evil.example", "access-control-request-method": "POST"})
    assert other.status == 403 and "access-control-allow-origin" not in other.headers
    plain = http1(web, "POST", "/tickgate.v1.PriceStream/GetSnapshot",
                  {"content-type": "application/grpc-web+proto", "origin": "http://evil.example"}, b"\x00\x00\x00\x00\x00")
    assert "access-control-allow-origin" not in plain.headers, "no CORS grant for an origin not listed"


# ---- Server-Sent Events ----------------------------------------------------------

class Events:
    """A text/event-stream response, read event by event."""

    def __init__(self, gateway, query, headers=None):
        self.sock = socket.create_connection((gateway.host, gateway.port), timeout=RECV_TIMEOUT)
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.sock.sendall(f"GET /v1/ticks?{query} HTTP/1.1\r\nhost: {gateway.address}\r\naccept: text/event-stream\r\n{extra}\r\n".encode())
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1])
        self.headers = dict(line.decode().lower().split(": ", 1) for line in head.split(b"\r\n")[1:])
        self.text = b""

    def _until(self, mark):
        while mark not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "the event stream ended"
            self.buffer += chunk
        out, self.buffer = self.buffer.split(mark, 1)
        return out

    def _more_text(self):
        # Chunked transfer coding around the event-stream bytes.
        size = int(self._until(b"\r\n"), 16)
        while len(self.buffer) < size + 2:
            chunk = self.sock.recv(65536)
            assert chunk, "the event stream ended"
            self.buffer += chunk
        self.text += self.buffer[:size]
        self.buffer = self.buffer[size + 2:]
        return size > 0

    def next(self):
        """(event name, data, id) of the next event."""
        while b"\n\n" not in self.text:
            assert self._more_text(), "the event stream ended"
        block, self.text = self.text.split(b"\n\n", 1)
        fields = {}
        for line in block.decode().split("\n"):
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        return fields.get("event", "message"), fields.get("data"), fields.get("id"), fields

    def ticks(self, count, timeout=30):
        out, ids = [], []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            assert time.monotonic() < deadline, f"only {len(out)} ticks"
            name, data, event_id, _ = self.next()
            if name == "message" and data is not None:
                out.append(json.loads(data))
                ids.append(event_id)
        return out, ids

    def close(self):
        self.sock.close()


def test_sse_ticks_are_json_with_exact_prices_and_resume_ids(pb, web, tickgate_bin, broker):
    publish_ticks(tickgate_bin, broker, "SSEA-USD", 10)
    wait_snapshot(pb, web, "SSEA-USD", 10)
    events = Events(web, "symbols=SSEA-USD&snapshot=true", {"origin": ORIGIN})
    assert events.status == 200 and events.headers["content-type"].startswith("text/event-stream")
    assert events.headers["cache-control"] == "no-cache" and events.headers["access-control-allow-origin"] == ORIGIN
    name, _, _, fields = events.next()
    assert fields.get("retry") == "1000"
    name, data, _, _ = events.next()
    assert name == "ack" and json.loads(data) == {"symbols": ["SSEA-USD"]}
    (snapshot,), (snapshot_id,) = events.ticks(1)
    assert snapshot["snapshot"] is True and snapshot["sequence"] == 10
    publish_ticks(tickgate_bin, broker, "SSEA-USD", 5, seed=8)
    ticks, ids = events.ticks(5)
    cli = subprocess.run([tickgate_bin, "subscribe", "--to", web.address, "--snapshot", "--json", "--count", "1", "SSEA-USD"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    cli_fields = set(json.loads(cli.strip().splitlines()[-1])) - {"client_receive_time_ns", "snapshot", "skipped"}
    for tick, event_id in zip(ticks, ids):
        assert set(tick) == cli_fields, "the same fields as tickgate subscribe --json (less the client's own time)"
        assert isinstance(tick["price"], str) and isinstance(tick["size"], str), "exact decimals as strings"
        assert "snapshot" not in tick
        assert event_id == f"t1:SSEA-USD@{tick['kafka_partition']}:{tick['kafka_offset']}"
    assert [t["sequence"] for t in ticks] == [1, 2, 3, 4, 5]
    events.close()


def test_sse_heartbeats_and_bad_requests(web):
    events = Events(web, "symbols=QUIET-USD")
    assert events.next()[3] == {"retry": "1000"}
    assert events.next()[0] == "ack"
    deadline = time.monotonic() + 10
    while (name := events.next()[0]) != "heartbeat":
        assert time.monotonic() < deadline
    events.close()
    for query, reason in [("", b"symbols is required"), ("symbols=BTC-USD&max_rate=fast", b"max_rate"),
                          ("symbols=BTC-USD&colour=red", b"unknown parameter"), ("symbols=BTC-USD&resume=t2:x", b"resume token")]:
        r = http1(web, "GET", f"/v1/ticks?{query}")
        assert r.status == 400 and reason in r.body, (query, r.status, r.body)
    refused = Events(web, "symbols=bad%20symbol")
    kinds = []
    while (event := refused.next())[0] != "end":
        kinds.append(event[0])
    assert "refused" in kinds and json.loads(event[1])["code"] == 3
    refused.close()


def test_sse_resumes_through_last_event_id_across_a_gateway_restart(pb, spawn, tickgate_bin, broker):
    first = start_gateway(spawn, tickgate_bin, broker.bootstrap)
    first.host, port = first.address.rsplit(":", 1)
    first.port = int(port)
    events = Events(first, "symbols=SSER-USD")
    publish_ticks(tickgate_bin, broker, "SSER-USD", 40, seed=11)
    ticks, ids = events.ticks(40)
    assert [t["sequence"] for t in ticks] == list(range(1, 41))
    last_id = ids[-1]
    events.close()
    assert first.stop() == 0

    publish_ticks(tickgate_bin, broker, "SSER-USD", 25, seed=12)  # while no gateway runs: sequences 1..25 of a new feed
    second = start_gateway(spawn, tickgate_bin, broker.bootstrap)
    second.host, port = second.address.rsplit(":", 1)
    second.port = int(port)
    resumed = Events(second, "symbols=SSER-USD", {"last-event-id": last_id})
    status = None
    while status is None:
        name, data, _, _ = resumed.next()
        if name == "resume":
            status = json.loads(data)
    assert status["recovered"] is True and status["symbol"] == "SSER-USD"
    after, after_ids = resumed.ticks(25)
    offsets = [t["kafka_offset"] for t in after]
    last_offset = int(last_id.rsplit(":", 1)[1])
    assert offsets == list(range(last_offset + 1, last_offset + 26)), "every tick after the id, none twice"
    assert [t["sequence"] for t in after] == list(range(1, 26))
    publish_ticks(tickgate_bin, broker, "SSER-USD", 5, seed=13)
    live, _ = resumed.ticks(5)
    assert [t["kafka_offset"] for t in live] == list(range(offsets[-1] + 1, offsets[-1] + 6)), "then live, no gap"
    resumed.close()


def test_http1_keep_alive_pipelining_and_garbage(web):
    s = socket.create_connection((web.host, web.port), timeout=RECV_TIMEOUT)
    s.sendall(b"GET /nope HTTP/1.1\r\nhost: x\r\n\r\nGET / HTTP/1.1\r\nhost: x\r\n\r\n")
    first, rest = read_response(s)
    second, rest = read_response(s, rest)
    assert first.status == 404 and second.status == 200 and b"<html" in second.body.lower()
    s.sendall(b"\x00\x01garbage\r\n\r\n")
    third, _ = read_response(s, rest)
    assert third.status == 400
    s.settimeout(5)
    assert s.recv(100) == b"", "closed after a request it cannot read"
    s.close()
