"""API keys and rights, from stock grpcio: keys made with `tickgate keys new`,
a keys file reloaded on SIGHUP, UNAUTHENTICATED / PERMISSION_DENIED where the
issue says, and the connection limits."""
import json
import os
import re
import signal
import subprocess

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import Stream, make_channel, start_gateway
from test_interop import ping, read_ticks, subscribe


def new_key(tickgate_bin, name, *args):
    out = subprocess.run([tickgate_bin, "keys", "new", "--name", name, *args],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    key = re.search(r"^key:\s+(\S+)$", out, re.M).group(1)
    entry = json.loads(re.search(r"^entry:\s+(.+)$", out, re.M).group(1))
    assert key not in json.dumps(entry), "the entry holds only the hash"
    return key, entry


@pytest.fixture(scope="module")
def keys(tickgate_bin, tmp_path_factory):
    reader, reader_entry = new_key(tickgate_bin, "reader", "--subscribe", "BTC-*")
    everything, everything_entry = new_key(tickgate_bin, "everything")
    adapter, adapter_entry = new_key(tickgate_bin, "adapter", "--subscribe", "",
                                     "--publish-venues", "python-adapter", "--publish-symbols", "LINK-*")
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    entries = [reader_entry, everything_entry, adapter_entry]
    path.write_text(json.dumps({"keys": entries}))
    return dict(path=path, reader=reader, everything=everything, adapter=adapter, entries=entries)


@pytest.fixture(scope="module")
def keyed(spawn_module, tickgate_bin, broker, keys):
    gateway = start_gateway(spawn_module, tickgate_bin, broker.bootstrap, "--api-keys", str(keys["path"]))
    gateway.wait_for(r"API keys: 3 from .* \(reloaded on SIGHUP\)")
    return gateway


def auth(key):
    return [("authorization", f"Bearer {key}")]


def publish_call(pb, channel):
    return channel.stream_unary(
        "/tickgate.v1.PriceStream/Publish", request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=pb.pb2.PublishSummary.FromString)


def link_ticks(pb, count, venue="python-adapter", symbol="LINK-USD"):
    return [pb.pb2.Tick(symbol=symbol, venue=venue, sequence=n, price=pb.pb2.Decimal(mantissa=15000 + n, exponent=-3),
                        size=pb.pb2.Decimal(mantissa=1, exponent=0), side=pb.pb2.SIDE_BUY) for n in range(1, count + 1)]


def test_no_key_or_a_wrong_one_is_unauthenticated_and_health_needs_none(pb, keyed):
    channel = make_channel(keyed.address)
    for metadata in [None, auth("tgk_not_a_key"), [("authorization", "Basic dXNlcjpwdw==")]]:
        s = Stream(pb.grpc.PriceStreamStub(channel).Stream, metadata=metadata)
        code, details, _ = s.status()
        assert code == grpc.StatusCode.UNAUTHENTICATED, (metadata, code, details)
        assert "tgk_not_a_key" not in details
    with pytest.raises(grpc.RpcError) as snapshot:
        pb.grpc.PriceStreamStub(channel).GetSnapshot(pb.pb2.SnapshotRequest(symbols=["BTC-USD"]), timeout=10)
    assert snapshot.value.code() == grpc.StatusCode.UNAUTHENTICATED
    answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    channel.close()


def test_a_forbidden_symbol_is_permission_denied_and_the_stream_stays(pb, keyed, keys):
    channel = make_channel(keyed.address)
    s = Stream(pb.grpc.PriceStreamStub(channel).Stream, metadata=auth(keys["reader"]))
    errors, ack = subscribe(pb, s, 1, ["BTC-USD", "ETH-USD", "*"])
    assert list(ack.symbols) == ["BTC-USD"]
    assert [(e.code, sorted(e.symbols)) for e in errors] == [(7, ["*", "ETH-USD"])]
    ping(pb, s, 2)  # still open
    with pytest.raises(grpc.RpcError) as denied:
        pb.grpc.PriceStreamStub(channel).GetSnapshot(
            pb.pb2.SnapshotRequest(symbols=["ETH-USD"]), timeout=10, metadata=auth(keys["reader"]))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    s.cancel()
    channel.close()


def test_publish_needs_the_right(pb, keyed, keys):
    channel = make_channel(keyed.address)
    watcher = Stream(pb.grpc.PriceStreamStub(channel).Stream, metadata=auth(keys["everything"]))
    subscribe(pb, watcher, 1, ["LINK-USD"])
    publish = publish_call(pb, channel)
    for metadata, code in [(None, grpc.StatusCode.UNAUTHENTICATED), (auth(keys["reader"]), grpc.StatusCode.PERMISSION_DENIED)]:
        with pytest.raises(grpc.RpcError) as refused:
            publish(iter(link_ticks(pb, 1)), timeout=30, metadata=metadata)
        assert refused.value.code() == code
    with pytest.raises(grpc.RpcError) as wrong_symbol:
        publish(iter(link_ticks(pb, 1, symbol="BTC-USD")), timeout=30, metadata=auth(keys["adapter"]))
    assert wrong_symbol.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "may not publish python-adapter BTC-USD" in wrong_symbol.value.details()
    summary = publish(iter(link_ticks(pb, 5)), timeout=30, metadata=auth(keys["adapter"]))
    assert summary.published == 5 and summary.failed == 0
    assert [t.sequence for t in read_ticks(watcher, 5)] == [1, 2, 3, 4, 5], "only the allowed ticks reached Kafka"
    watcher.cancel()
    channel.close()


def test_without_keys_publish_is_refused_and_subscriptions_are_anonymous(pb, gateway):
    channel = make_channel(gateway.address)
    with pytest.raises(grpc.RpcError) as refused:
        publish_call(pb, channel)(iter(link_ticks(pb, 1)), timeout=30)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "--allow-anonymous-publish" in refused.value.details()
    s = Stream(pb.grpc.PriceStreamStub(channel).Stream)
    _, ack = subscribe(pb, s, 1, ["BTC-USD"])
    assert list(ack.symbols) == ["BTC-USD"]
    s.cancel()
    channel.close()


def test_sighup_reloads_the_keys_and_ends_a_removed_keys_streams(pb, spawn, tickgate_bin, broker, keys, tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": keys["entries"]}))
    gateway = start_gateway(spawn, tickgate_bin, broker.bootstrap, "--api-keys", str(path))
    channel = make_channel(gateway.address)
    s = Stream(pb.grpc.PriceStreamStub(channel).Stream, metadata=auth(keys["reader"]))
    subscribe(pb, s, 1, ["BTC-USD"])

    path.write_text("{not json")
    gateway.proc.send_signal(signal.SIGHUP)
    gateway.wait_for(r"keys file not reloaded, the previous keys stay")
    ping(pb, s, 2)

    fresh, fresh_entry = new_key(tickgate_bin, "fresh")
    path.write_text(json.dumps({"keys": [e for e in keys["entries"] if e["name"] != "reader"] + [fresh_entry]}))
    gateway.proc.send_signal(signal.SIGHUP)
    gateway.wait_for(r"reloaded 3 API key\(s\)")
    code, details, _ = s.status(timeout=10)
    assert code == grpc.StatusCode.UNAUTHENTICATED and "revoked" in details
    s2 = Stream(pb.grpc.PriceStreamStub(channel).Stream, metadata=auth(fresh))
    _, ack = subscribe(pb, s2, 1, ["ETH-USD"])
    assert list(ack.symbols) == ["ETH-USD"]
    s2.cancel()
    assert keys["reader"] not in gateway.output(), "no key in the log"
    channel.close()


def test_tickgate_subscribe_reads_the_key_from_the_environment(keyed, keys, tickgate_bin, tmp_path):
    env = dict(os.environ, TICKGATE_API_KEY=keys["everything"])
    r = subprocess.run([tickgate_bin, "subscribe", "--to", keyed.address, "--count", "1", "--snapshot", "NOPE-USD"],
                       capture_output=True, text=True, timeout=5, env=dict(os.environ, TICKGATE_API_KEY="tgk_wrong"))
    assert r.returncode == 1 and "UNAUTHENTICATED" in r.stderr, r.stderr
    key_file = tmp_path / "key"
    key_file.write_text(keys["everything"] + "\n")
    ok = subprocess.Popen([tickgate_bin, "subscribe", "--to", keyed.address, "--api-key-file", str(key_file), "BTC-USD"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            ok.wait(timeout=2)  # subscribed and waiting for ticks, not refused
    finally:
        ok.send_signal(signal.SIGINT)
        ok.wait(timeout=10)


def test_a_connection_over_the_per_address_limit_is_refused_and_the_others_stay(pb, spawn, tickgate_bin, broker):
    gateway = start_gateway(spawn, tickgate_bin, broker.bootstrap, "--max-connections-per-address", "1")
    first = make_channel(gateway.address)
    s = Stream(pb.grpc.PriceStreamStub(first).Stream)
    subscribe(pb, s, 1, ["BTC-USD"])
    second = grpc.insecure_channel(gateway.address)
    with pytest.raises(grpc.RpcError) as refused:
        pb.grpc.PriceStreamStub(second).GetSnapshot(pb.pb2.SnapshotRequest(symbols=["BTC-USD"]), timeout=5)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, refused.value
    assert refused.value.details() == "too many connections from this address"
    ping(pb, s, 2)
    s.cancel()
    second.close()
    first.close()
