"""A stock grpcio client (not Tickgate's own) against `tickgate serve`:
the wire contract of Protos/tickgate/v1/tickgate.proto, end to end through
Kafka, plus the gRPC-level failures every conforming server must report."""
import time
from collections import defaultdict

import grpc
import pytest

from conftest import Stream, make_channel, start_gateway

SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD", "DOGE-USD",
           "ADA-USD", "AVAX-USD", "LINK-USD", "DOT-USD", "LTC-USD"]
SUBSET = ["BTC-USD", "SOL-USD", "DOGE-USD"]
FOUR_MIB = 4 * 1024 * 1024


def subscribe(pb, stream, request_id, symbols):
    """Sends a Subscribe; returns (errors, ack), reading up to the Ack."""
    stream.send(pb.pb2.ClientMessage(subscribe=pb.pb2.Subscribe(request_id=request_id, symbols=symbols)))
    errors = []
    while True:
        m = stream.recv()
        assert m is not None, f"call ended before the Ack: {stream.end}"
        kind = m.WhichOneof("kind")
        if kind == "error":
            assert m.error.request_id == request_id
            errors.append(m.error)
        elif kind == "ack":
            assert m.ack.request_id == request_id
            return errors, m.ack
        else:
            pytest.fail(f"unexpected {kind} before the Ack: {m}")


def ping(pb, stream, nonce):
    """Round trip; returns (pong, messages that arrived before it)."""
    sent = time.time_ns()
    stream.send(pb.pb2.ClientMessage(ping=pb.pb2.Ping(nonce=nonce, client_time_ns=sent)))
    before = []
    while (m := stream.recv()) is not None:
        if m.WhichOneof("kind") == "pong":
            assert (m.pong.nonce, m.pong.client_time_ns) == (nonce, sent)
            return m.pong, before
        before.append(m)
    pytest.fail(f"call ended before the Pong: {stream.end}")


def read_ticks(stream, count, timeout=30):
    """Exactly `count` ticks (anything else on the stream fails the test)."""
    deadline = time.monotonic() + timeout
    ticks = []
    while len(ticks) < count:
        left = deadline - time.monotonic()
        assert left > 0, f"only {len(ticks)} of {count} ticks within {timeout} s"
        m = stream.recv(timeout=left)
        assert m is not None, f"call ended after {len(ticks)} of {count} ticks: {stream.end}"
        if m.WhichOneof("kind") == "heartbeat":
            continue  # a quiet stream's keep-alive, not data
        if m.WhichOneof("kind") == "batch":
            ticks.extend(m.batch.ticks)
        else:
            assert m.WhichOneof("kind") == "tick", f"expected a tick, got {m}"
            ticks.append(m.tick)
    return ticks


def sequences(ticks):
    by_symbol = defaultdict(list)
    for t in ticks:
        by_symbol[t.symbol].append(t.sequence)
    return by_symbol


def check_tick(t):
    assert t.venue == "synthetic"
    # Exact decimals, never floats: mantissa × 10^exponent, both positive.
    for d in (t.price, t.size):
        assert d.mantissa > 0 and -18 <= d.exponent <= 18, t
    assert t.HasField("price") and t.HasField("size")
    assert t.side in (0, 1, 2)
    # Hops t1..t4 are filled and in order; t2 is Kafka's millisecond stamp.
    t1, t2, t3, t4 = t.publish_time_ns, t.kafka_time_ms, t.gateway_receive_time_ns, t.gateway_dispatch_time_ns
    assert t1 and t2 and t3 and t4, t
    assert t1 <= t3 <= t4, t
    assert abs(t2 * 1_000_000 - t1) < 1_000_000_000, t
    if t.venue_time_ns:
        assert t.venue_time_ns <= t1, t
    assert 0 <= t.kafka_partition < 6 and t.kafka_offset >= 0, t


def test_ticks_flow_in_order_to_subscribers(pb, open_stream, ingest):
    everything, subset = open_stream(), open_stream()
    errors, ack = subscribe(pb, everything, 1, SYMBOLS)
    assert not errors and sorted(ack.symbols) == sorted(SYMBOLS)
    errors, ack = subscribe(pb, subset, 7, SUBSET)
    assert not errors and sorted(ack.symbols) == sorted(SUBSET)

    published = ingest(SYMBOLS, count=600, rate=2000)

    # The stream subscribed to all ten sees every tick published, each
    # symbol's sequence running 1, 2, 3, … with no gap, in Kafka order.
    all_ticks = read_ticks(everything, published)
    per_symbol = sequences(all_ticks)
    assert set(per_symbol) <= set(SYMBOLS)
    for symbol, seqs in per_symbol.items():
        assert seqs == list(range(1, len(seqs) + 1)), f"{symbol}: {seqs}"
    last_offset = {}
    for t in all_ticks:
        check_tick(t)
        assert t.kafka_offset > last_offset.get(t.kafka_partition, -1), t
        last_offset[t.kafka_partition] = t.kafka_offset

    # The subset stream sees exactly those symbols' ticks, nothing else.
    expected = sum(len(per_symbol[s]) for s in SUBSET)
    assert all(per_symbol[s] for s in SUBSET), "the feed skipped a subscribed symbol"
    sub_ticks = read_ticks(subset, expected)
    assert sequences(sub_ticks) == {s: per_symbol[s] for s in SUBSET}
    for t in sub_ticks:
        check_tick(t)
    # Nothing more is queued for it: a Ping's Pong comes next.
    _, extra = ping(pb, subset, 99)
    assert extra == []


def test_unknown_method_is_unimplemented(channel):
    nope = channel.unary_unary("/tickgate.v1.PriceStream/Nope",
                               request_serializer=lambda x: x, response_deserializer=lambda x: x)
    with pytest.raises(grpc.RpcError) as e:
        nope(b"", timeout=10)
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_payload_that_is_not_protobuf_is_internal(channel, open_stream):
    raw = channel.stream_stream("/tickgate.v1.PriceStream/Stream",
                                request_serializer=lambda x: x, response_deserializer=lambda x: x)
    s = open_stream(raw)
    s.send(b"\xff\xff\xff\xff")  # a truncated varint tag
    # The request side stays open: only the parse error may end the call.
    code, details, rest = s.status()
    assert code == grpc.StatusCode.INTERNAL, (code, details)
    assert details.startswith("error parsing request proto"), details
    assert rest == []


def test_refused_symbols_get_errors_and_the_stream_lives_on(pb, open_stream):
    s = open_stream()
    errors, ack = subscribe(pb, s, 3, ["btc_usd", "FOO-BAR"])
    assert [(e.code, list(e.symbols)) for e in errors] == [(3, ["btc_usd"])]
    assert errors[0].message
    # Without --symbols any well-formed symbol is accepted.
    assert list(ack.symbols) == ["FOO-BAR"]
    errors, ack = subscribe(pb, s, 4, ["ETH-USD"])
    assert not errors and list(ack.symbols) == ["ETH-USD"]
    ping(pb, s, 4)


def test_unknown_and_too_many_symbols(pb, spawn, tickgate_bin, broker, open_stream):
    # A gateway with a catalogue and a low per-stream limit.
    gw = start_gateway(spawn, tickgate_bin, broker.bootstrap,
                       "--symbols", "BTC-USD,ETH-USD,SOL-USD", "--max-subscriptions", "2")
    ch = make_channel(gw.address)
    try:
        s = open_stream(pb.grpc.PriceStreamStub(ch).Stream)
        errors, ack = subscribe(pb, s, 1, ["BTC-USD", "DOGE-USD", "btc-usd"])
        assert sorted((e.code, tuple(e.symbols)) for e in errors) == [(3, ("btc-usd",)), (5, ("DOGE-USD",))]
        assert list(ack.symbols) == ["BTC-USD"]
        errors, ack = subscribe(pb, s, 2, ["ETH-USD", "SOL-USD"])
        assert [(e.code, len(e.symbols)) for e in errors] == [(8, 1)]
        assert len(ack.symbols) == 1
        assert {errors[0].symbols[0], ack.symbols[0]} == {"ETH-USD", "SOL-USD"}
        ping(pb, s, 2)
    finally:
        ch.close()


def test_ping_pong(pb, open_stream):
    s = open_stream()
    before = time.time_ns()
    pong, extra = ping(pb, s, 0xFEEDFACE_CAFEBEEF)
    after = time.time_ns()
    assert extra == []
    # Same host, same clock: the server's time falls within the round trip.
    assert before <= pong.server_time_ns <= after, (before, pong.server_time_ns, after)


def test_half_close_without_subscriptions_ends_ok(pb, open_stream):
    s = open_stream()
    ping(pb, s, 1)
    s.half_close()
    code, details, rest = s.status()
    assert code == grpc.StatusCode.OK and rest == [], (code, details, rest)


def test_half_close_with_subscriptions_keeps_ticks_flowing(pb, open_stream, ingest):
    s = open_stream()
    _, ack = subscribe(pb, s, 1, ["HALF-CLOSE"])
    assert list(ack.symbols) == ["HALF-CLOSE"]
    s.half_close()
    ingest(["HALF-CLOSE"], count=20)
    assert [t.sequence for t in read_ticks(s, 20)] == list(range(1, 21))


def test_oversize_message_is_resource_exhausted(pb, open_stream):
    # A Subscribe just over the gateway's 4 MiB default limit.
    # Each symbol "S00000000001-USD" costs 18 bytes on the wire.
    msg = pb.pb2.ClientMessage(subscribe=pb.pb2.Subscribe(request_id=1))
    msg.subscribe.symbols.extend(f"S{i:011d}-USD" for i in range(FOUR_MIB // 18))
    while msg.ByteSize() <= FOUR_MIB:
        msg.subscribe.symbols.append(f"S{len(msg.subscribe.symbols):011d}-USD")
    assert FOUR_MIB < msg.ByteSize() <= FOUR_MIB + 18
    s = open_stream()
    s.send(msg)
    code, details, rest = s.status()
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED, (code, details)
    assert rest == []
    # The gateway is still fine for the next call.
    ping(pb, open_stream(), 5)


def test_publish_client_streaming(pb, spawn, tickgate_bin, broker):
    """A feed adapter written with stock grpcio publishes through the gateway:
    the summary comes once Kafka acknowledged every tick, and subscribers get them.
    (Who may publish is test_security's concern: this gateway lets anyone.)"""
    gateway = start_gateway(spawn, tickgate_bin, broker.bootstrap, "--allow-anonymous-publish")
    channel = make_channel(gateway.address)
    stream = Stream(pb.grpc.PriceStreamStub(channel).Stream)
    subscribe(pb, stream, 1, ["LINK-USD"])
    publish = channel.stream_unary(
        "/tickgate.v1.PriceStream/Publish",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=pb.pb2.PublishSummary.FromString)
    ticks = [pb.pb2.Tick(symbol="LINK-USD", venue="python-adapter", sequence=n,
                         price=pb.pb2.Decimal(mantissa=15000 + n, exponent=-3),
                         size=pb.pb2.Decimal(mantissa=1, exponent=0), side=pb.pb2.SIDE_BUY)
             for n in range(1, 41)]
    summary = publish(iter(ticks), timeout=30)
    assert summary.published == 40 and summary.failed == 0
    got = read_ticks(stream, 40)
    assert [t.sequence for t in got] == list(range(1, 41))
    assert got[0].price.mantissa == 15001 and got[0].price.exponent == -3
    assert all(t.venue == "python-adapter" and t.publish_time_ns > 0 for t in got)

    with pytest.raises(grpc.RpcError) as refused:
        publish(iter([pb.pb2.Tick(symbol="link_usd", venue="x", sequence=1)]), timeout=30)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    stream.cancel()
    channel.close()
