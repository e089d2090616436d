"""Process-level behaviour a new user meets first: a clean error instead of
a crash when Kafka cannot be reached, and a graceful stop on SIGTERM that a
stock grpcio client sees as UNAVAILABLE (so it reconnects elsewhere)."""
import signal
import subprocess

import grpc

from conftest import Stream, make_channel, start_broker, start_gateway
from test_interop import subscribe


def test_ingest_on_unreachable_brokers_is_a_one_line_error(tickgate_bin):
    # Defect: librdkafka aborted the process ("refcnt sub-zero", exit 134)
    # because the producer's handles were destroyed twice.
    done = subprocess.run(
        [tickgate_bin, "ingest", "--brokers", "127.0.0.1:1", "--connect-timeout", "2",
         "--symbols", "BTC-USD", "--rate", "10", "--count", "5"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert "127.0.0.1:1" in errors[0]


def test_sigterm_drains_open_streams_with_unavailable_and_exits_0(pb, spawn, tickgate_bin, broker):
    gateway = start_gateway(spawn, tickgate_bin, broker.bootstrap)
    channel = make_channel(gateway.address)
    stream = Stream(pb.grpc.PriceStreamStub(channel).Stream)
    errors, ack = subscribe(pb, stream, 1, ["BTC-USD"])
    assert not errors and list(ack.symbols) == ["BTC-USD"]
    gateway.proc.send_signal(signal.SIGTERM)
    while stream.recv(timeout=15) is not None:
        pass
    assert isinstance(stream.end, grpc.RpcError), stream.end
    assert stream.end.code() == grpc.StatusCode.UNAVAILABLE
    assert stream.end.details() == "server shutting down"
    assert gateway.proc.wait(timeout=15) == 0, gateway.output()
    channel.close()


def test_sigterm_with_the_brokers_gone_still_exits_0(spawn, tickgate_bin):
    # Defect: the Kafka watch thread sat in librdkafka 2.0.2's watermark
    # query, which ignores its timeout while a leader is down (librdkafka
    # #2588), and shutdown joined that thread for ever.
    own = start_broker(spawn, tickgate_bin, partitions=3)
    gateway = start_gateway(spawn, tickgate_bin, own.bootstrap)
    assert own.stop() == 0
    gateway.wait_for(r"cannot refresh watermarks", timeout=30)
    gateway.proc.send_signal(signal.SIGTERM)
    assert gateway.proc.wait(timeout=20) == 0, gateway.output()
