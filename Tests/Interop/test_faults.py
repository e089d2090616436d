"""Kafka faults at the gateway, across separate processes: `tickgate broker
--outage AFTER:FOR` takes every broker down while a feed adapter publishes
and a grpcio client subscribes. The stream stays open, the symbol goes
stale and fresh again, health says NOT_SERVING meanwhile, and every tick
published arrives exactly once, in order (checked by sequence number)."""
import subprocess
import threading
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import Stream, make_channel, start_broker, start_gateway
from test_interop import subscribe


def test_an_outage_loses_nothing_end_to_end(pb, spawn, tickgate_bin):
    broker = spawn([tickgate_bin, "broker", "--partitions", "2", "--outage", "4s:6s"])
    broker.bootstrap = broker.wait_for(r"bootstrap: (\S+:\d+)").group(1)
    gateway = start_gateway(spawn, tickgate_bin, broker.bootstrap, "--stale-after", "1.5")
    channel = make_channel(gateway.address)
    s = Stream(pb.grpc.PriceStreamStub(channel).Stream)
    subscribe(pb, s, 1, ["OUT-USD"])
    health, changed = [], threading.Condition()
    watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""), timeout=120)

    def follow():
        try:
            for m in watch:
                with changed:
                    health.append(m.status)
                    changed.notify_all()
        except grpc.RpcError:
            pass  # cancelled at the end of the test
    threading.Thread(target=follow, daemon=True).start()

    count = 2400  # 200/s for 12 s: before, through and after the outage
    ingest = subprocess.run(
        [tickgate_bin, "ingest", "--brokers", broker.bootstrap, "--symbols", "OUT-USD", "--rate", "200",
         "--count", str(count), "--connect-timeout", "30"], capture_output=True, text=True, timeout=120)
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    broker.wait_for(r"outage over")

    sequences, statuses = [], []
    deadline = time.monotonic() + 60
    while len(sequences) < count and time.monotonic() < deadline:
        m = s.recv(timeout=30)
        assert m is not None, f"the stream ended: {s.end}"
        kind = m.WhichOneof("kind")
        if kind == "tick":
            sequences.append(m.tick.sequence)
        elif kind == "batch":
            sequences += [t.sequence for t in m.batch.ticks]
        elif kind == "symbol_status":
            statuses.append(m.symbol_status.stale)
    assert sequences == list(range(1, count + 1)), f"{len(sequences)} ticks; first wrong at {next((i for i, q in enumerate(sequences) if q != i + 1), None)}"
    assert True in statuses and statuses[statuses.index(True):].count(False) >= 1, f"stale then fresh: {statuses}"
    # SERVING comes back with the next good watermark refresh (every 2 s, and
    # librdkafka's reconnect backoff can add seconds), not with the first tick.
    with changed:
        changed.wait_for(lambda: health[-1:] == [health_pb2.HealthCheckResponse.SERVING], timeout=30)
    assert health_pb2.HealthCheckResponse.NOT_SERVING in health and health[-1] == health_pb2.HealthCheckResponse.SERVING, health
    s.cancel()
    watch.cancel()
    channel.close()
