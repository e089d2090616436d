"""Market-data promises from a stock grpcio client against `tickgate serve`
processes: snapshot on subscribe, GetSnapshot, patterns, the rate cap, and
resume across a gateway process that stops and another that starts."""
import subprocess
import time

import grpc

from conftest import Stream, make_channel, start_gateway
from test_interop import subscribe


def stream_on(pb, gateway):
    channel = make_channel(gateway.address)
    return channel, Stream(pb.grpc.PriceStreamStub(channel).Stream)


def send_subscribe(pb, stream, request_id, symbols, **options):
    """Subscribe with options; returns (errors, ack, messages after the ack
    that came with it are left on the stream)."""
    stream.send(pb.pb2.ClientMessage(subscribe=pb.pb2.Subscribe(request_id=request_id, symbols=symbols, **options)))
    errors = []
    while True:
        m = stream.recv()
        assert m is not None, f"call ended before the Ack: {stream.end}"
        kind = m.WhichOneof("kind")
        if kind == "error":
            errors.append(m.error)
        elif kind == "ack":
            return errors, m.ack
        elif kind != "heartbeat":
            raise AssertionError(f"unexpected {kind} before the Ack: {m}")


def next_of(stream, kinds, timeout=15):
    """The next message of one of `kinds` (heartbeats are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kinds} within {timeout} s"
        m = stream.recv(timeout=left)
        assert m is not None, f"call ended: {stream.end}"
        kind = m.WhichOneof("kind")
        if kind in kinds:
            return m
        assert kind == "heartbeat", f"expected {kinds}, got {m}"


def ingest_args(tickgate_bin, broker, symbol, count, rate):
    return [tickgate_bin, "ingest", "--brokers", broker.bootstrap, "--symbols", symbol,
            "--count", str(count), "--rate", str(rate)]


def test_snapshot_on_subscribe_then_live(pb, gateway, ingest):
    ingest(["SNAP-USD"], count=5, rate=500)
    channel, stream = stream_on(pb, gateway)
    # The gateway has read the five ticks once a snapshot shows the fifth.
    deadline = time.monotonic() + 15
    while True:
        answer = pb.grpc.PriceStreamStub(channel).GetSnapshot(pb.pb2.SnapshotRequest(symbols=["SNAP-*"]), timeout=10)
        if answer.ticks and answer.ticks[0].sequence == 5:
            break
        assert time.monotonic() < deadline, f"GetSnapshot never showed tick 5: {answer}"
        time.sleep(0.1)
    assert [(t.symbol, t.venue, t.snapshot) for t in answer.ticks] == [("SNAP-USD", "synthetic", True)]
    assert not answer.warming_up
    errors, ack = send_subscribe(pb, stream, 1, ["SNAP-USD"], snapshot=True)
    assert not errors and list(ack.symbols) == ["SNAP-USD"]
    first = next_of(stream, ["tick"]).tick
    assert first.snapshot and first.sequence == 5 and first.kafka_offset == answer.ticks[0].kafka_offset
    stream.cancel()
    channel.close()


def test_get_snapshot_refuses_malformed_patterns(pb, gateway):
    channel = make_channel(gateway.address)
    try:
        pb.grpc.PriceStreamStub(channel).GetSnapshot(pb.pb2.SnapshotRequest(symbols=["SNAP*"]), timeout=10)
        raise AssertionError("a malformed pattern must be refused")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
    channel.close()


def test_a_pattern_announces_and_delivers_a_symbol_published_later(pb, gateway, ingest):
    channel, stream = stream_on(pb, gateway)
    errors, ack = send_subscribe(pb, stream, 1, ["PATX-*"])
    assert not errors and list(ack.symbols) == ["PATX-*"]
    ingest(["PATX-EUR"], count=3, rate=500)
    status = next_of(stream, ["symbol_status"]).symbol_status
    assert (status.symbol, status.venue, status.added) == ("PATX-EUR", "synthetic", True)
    ticks = [next_of(stream, ["tick"]).tick for _ in range(3)]
    assert [t.sequence for t in ticks] == [1, 2, 3]
    stream.cancel()
    channel.close()


def test_rate_cap_and_the_last_price_after_the_burst(pb, gateway, tickgate_bin, broker):
    channel, stream = stream_on(pb, gateway)
    errors, ack = send_subscribe(pb, stream, 1, ["CAPX-USD"], max_rate=5)
    assert not errors
    started = time.monotonic()
    subprocess.run(ingest_args(tickgate_bin, broker, "CAPX-USD", 150, 50), check=True, capture_output=True, timeout=60)
    got = []
    while not got or got[-1].sequence < 150:
        got.append(next_of(stream, ["tick"]).tick)
    elapsed = time.monotonic() - started
    assert len(got) <= elapsed * 5 * 1.1 + 1, f"{len(got)} ticks in {elapsed:.2f} s at max_rate 5"
    assert got[-1].sequence == 150, "the last price after the burst arrives"
    assert len(got) + sum(t.skipped for t in got) == 150, "every tick delivered or counted as skipped"
    stream.cancel()
    channel.close()


def test_resume_across_a_gateway_process_restart(pb, spawn, tickgate_bin, broker):
    first = start_gateway(spawn, tickgate_bin, broker.bootstrap)
    channel, stream = stream_on(pb, first)
    errors, ack = send_subscribe(pb, stream, 1, ["RESX-USD"])
    assert not errors
    feed = subprocess.Popen(ingest_args(tickgate_bin, broker, "RESX-USD", 300, 100),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    got = [next_of(stream, ["tick"]).tick for _ in range(60)]
    assert [t.sequence for t in got] == list(range(1, 61))
    kept = got[39]  # the app only kept 40 of them
    channel.close()
    assert first.stop() == 0
    # Ticks go on while no gateway runs; another process starts.
    second = start_gateway(spawn, tickgate_bin, broker.bootstrap)
    channel, stream = stream_on(pb, second)
    errors, ack = send_subscribe(pb, stream, 1, ["RESX-USD"], resume=[pb.pb2.Position(
        symbol="RESX-USD", kafka_partition=kept.kafka_partition, kafka_offset=kept.kafka_offset)])
    assert not errors and list(ack.symbols) == ["RESX-USD"]
    status = next_of(stream, ["resume_status"]).resume_status
    assert status.recovered and status.symbol == "RESX-USD", status
    resumed = []
    while not resumed or resumed[-1].sequence < 300:
        resumed.append(next_of(stream, ["tick"], timeout=30).tick)
    assert [t.sequence for t in resumed] == list(range(41, 301)), "0 gaps and 0 duplicates across the restart"
    assert feed.wait(timeout=30) == 0
    stream.cancel()
    channel.close()


class LazyStream:
    """A Stream call whose responses are read only when asked for: with no
    reader thread, a client that does not call next() reads nothing, and
    its HTTP/2 window stays closed (the conftest Stream reads eagerly)."""

    def __init__(self, stub, first):
        import queue as _queue
        self._requests = _queue.Queue()
        self._requests.put(first)
        self.call = stub.Stream(self._iter(), timeout=120)

    def _iter(self):
        while (item := self._requests.get()) is not None:
            yield item

    def next(self):
        """The next message, or None when the call ended (see `code`)."""
        try:
            return next(self.call)
        except StopIteration:
            return None
        except grpc.RpcError as e:
            self.error = e
            return None

    def close(self):
        self._requests.put(None)
        self.call.cancel()


def slow_channel(address):
    # No BDP probing: the stream's receive window stays at its 64 KiB start,
    # so a client that does not read is soon behind.
    ch = grpc.insecure_channel(address, options=[("grpc.http2.bdp_probe", 0)])
    grpc.channel_ready_future(ch).result(timeout=20)
    return ch


def test_a_client_that_stops_reading_is_conflated_then_gets_the_latest(pb, spawn, tickgate_bin, broker):
    gateway = start_gateway(spawn, tickgate_bin, broker.bootstrap, "--max-pending-bytes", "65536")
    channel = slow_channel(gateway.address)
    stream = LazyStream(pb.grpc.PriceStreamStub(channel), pb.pb2.ClientMessage(
        subscribe=pb.pb2.Subscribe(request_id=1, symbols=["SLOWX-USD"])))
    m = stream.next()
    assert m.WhichOneof("kind") == "ack", m
    # Nothing is read while 4,000 ticks (~500 KB) go by.
    subprocess.run(ingest_args(tickgate_bin, broker, "SLOWX-USD", 4000, 4000), check=True, capture_output=True, timeout=60)
    time.sleep(1)
    got = []
    while not got or got[-1].sequence < 4000:
        m = stream.next()
        assert m is not None, getattr(stream, "error", None)
        if m.WhichOneof("kind") == "tick":
            got.append(m.tick)
    sequences = [t.sequence for t in got]
    assert sequences == sorted(set(sequences)), "in order, never repeated"
    assert sum(t.skipped for t in got) > 0, "the backlog was conflated"
    assert len(got) + sum(t.skipped for t in got) == 4000, "every tick delivered or counted as skipped"
    stream.close()
    channel.close()
    gateway.stop()


def test_a_lossless_client_that_falls_behind_gets_its_position_and_resource_exhausted(pb, spawn, tickgate_bin, broker):
    gateway = start_gateway(spawn, tickgate_bin, broker.bootstrap, "--max-pending-bytes", "65536")
    channel = slow_channel(gateway.address)
    stream = LazyStream(pb.grpc.PriceStreamStub(channel), pb.pb2.ClientMessage(
        subscribe=pb.pb2.Subscribe(request_id=1, symbols=["TAPEX-USD"], lossless=True)))
    m = stream.next()
    assert m.WhichOneof("kind") == "ack", m
    subprocess.run(ingest_args(tickgate_bin, broker, "TAPEX-USD", 4000, 4000), check=True, capture_output=True, timeout=60)
    time.sleep(1)
    ticks, lagging = [], None
    while (m := stream.next()) is not None:
        kind = m.WhichOneof("kind")
        if kind == "tick":
            assert lagging is None, "nothing after the Lagging message"
            ticks.append(m.tick)
        elif kind == "lagging":
            lagging = m.lagging
    assert [t.sequence for t in ticks] == list(range(1, len(ticks) + 1)), "lossless: no tick skipped"
    assert all(t.skipped == 0 for t in ticks)
    assert lagging is not None and len(ticks) < 4000
    assert [(p.symbol, p.kafka_partition, p.kafka_offset) for p in lagging.positions] == [
        ("TAPEX-USD", ticks[-1].kafka_partition, ticks[-1].kafka_offset)], "the position is the last tick it got"
    assert stream.error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, stream.error
    stream.close()
    channel.close()
    gateway.stop()


def test_a_quiet_stream_gets_heartbeats(pb, spawn, tickgate_bin, broker):
    gateway = start_gateway(spawn, tickgate_bin, broker.bootstrap, "--heartbeat", "1")
    channel, stream = stream_on(pb, gateway)
    errors, _ = send_subscribe(pb, stream, 1, ["QUIETX-USD"])
    assert not errors
    beats = []
    while len(beats) < 2:
        m = stream.recv(timeout=5)
        assert m is not None and m.WhichOneof("kind") == "heartbeat", m
        beats.append(m.heartbeat.server_time_ns)
    assert beats[1] - beats[0] >= 900_000_000
    assert abs(beats[1] - time.time_ns()) < 5_000_000_000
    stream.cancel()
    channel.close()
    gateway.stop()


def test_a_subscription_can_start_from_a_time(pb, gateway, ingest):
    ingest(["SINCEX-USD"], count=20, rate=1000)
    since = time.time_ns() // 1_000_000
    channel, stream = stream_on(pb, gateway)
    errors, _ = send_subscribe(pb, stream, 1, ["SINCEX-USD"], since_time_ms=since - 60_000)
    assert not errors
    status = next_of(stream, ["resume_status"]).resume_status
    assert status.recovered and status.symbol == "SINCEX-USD"
    ticks = [next_of(stream, ["tick"]).tick for _ in range(20)]
    assert [t.sequence for t in ticks] == list(range(1, 21)), "every tick since a minute ago"
    stream.cancel()
    channel.close()
