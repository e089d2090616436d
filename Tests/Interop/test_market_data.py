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
