"""A stock Kafka client (kcat) against `tickgate broker` and `tickgate ingest`:
the embedded broker speaks real Kafka, and ingest writes what it claims."""
import re
import shutil
import socket
import subprocess

import pytest

from conftest import start_broker

SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD", "DOGE-USD"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kcat(*args):
    # Not a skip: scripts/test.sh installs kcat, so its absence is a failure.
    assert shutil.which("kcat"), "kcat is not installed (apt-get install kcat)"
    r = subprocess.run(["kcat", *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"kcat {' '.join(args)} failed ({r.returncode}):\n{r.stderr}"
    return r.stdout


@pytest.fixture(scope="module")
def kafka(spawn_module, tickgate_bin):
    port = free_port()
    b = start_broker(spawn_module, tickgate_bin, partitions=3, port=port)
    assert b.bootstrap == f"127.0.0.1:{port}"
    return b.bootstrap


def test_kcat_sees_the_topic_and_every_tick(kafka, ingest):
    metadata = kcat("-b", kafka, "-L", "-t", "ticks", "-m", "10")
    assert re.search(r'topic "ticks" with 3 partitions', metadata), metadata

    ingest(SYMBOLS, count=1000, rate=20000, brokers=kafka)

    # -e: exit at the end of every partition, so these reads are bounded.
    offsets = kcat("-b", kafka, "-C", "-t", "ticks", "-o", "beginning", "-e", "-q", "-f", "%o\n").splitlines()
    assert len(offsets) == 1000
    keys = kcat("-b", kafka, "-C", "-t", "ticks", "-o", "beginning", "-e", "-q", "-f", "%k\n").splitlines()
    assert len(keys) == 1000
    assert set(keys) == set(SYMBOLS)  # keyed by symbol, every symbol used



def test_replay_of_the_bundled_binance_sample_lands_in_kafka(kafka, tickgate_bin):
    """`tickgate ingest --feed replay` of the bundled Binance trade file: every
    line becomes one Kafka message keyed by the canonical symbol."""
    from conftest import REPO
    before = len(kcat("-b", kafka, "-C", "-t", "ticks", "-o", "beginning", "-e", "-q", "-f", "%o\n").splitlines())
    sample = REPO / "scripts/samples/BTCUSDT-trades-2024-01-01-sample.csv"
    proc = subprocess.run(
        [tickgate_bin, "ingest", "--brokers", kafka, "--feed", "replay", "--file", str(sample), "--speed", "max"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "published 300, skipped 0 bad line(s), dropped 0 duplicate(s); delivered 300, failed 0" in proc.stdout
    keys = kcat("-b", kafka, "-C", "-t", "ticks", "-o", "beginning", "-e", "-q", "-f", "%k\n").splitlines()
    assert len(keys) == before + 300
    assert keys.count("BTC-USDT") == 300  # partitions interleave: count, do not slice
