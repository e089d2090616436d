"""Fixtures for the interop suite: a stock grpcio client against the real
`tickgate` binary, with an embedded Kafka broker in between.

Every wait is bounded, and every process started here is stopped at the end
of the session (SIGTERM, then SIGKILL), whether the tests pass or not.
"""
import ctypes
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import importlib
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 20   # seconds for a process to print its ready line
STOP_TIMEOUT = 5       # seconds between SIGTERM and SIGKILL
CALL_TIMEOUT = 60      # deadline of every gRPC call: a wedged server fails, never hangs
RECV_TIMEOUT = 10      # longest wait for one server message


# ---- generated stubs -------------------------------------------------------

@pytest.fixture(scope="session")
def pb(tmp_path_factory):
    """tickgate_pb2 / tickgate_pb2_grpc, generated from Protos/ into a temp
    dir so that stubs are never committed and never stale."""
    out = tmp_path_factory.mktemp("stubs")
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"--proto_path={REPO / 'Protos'}",
         f"--python_out={out}", f"--grpc_python_out={out}", "tickgate/v1/tickgate.proto"],
        check=True, timeout=60)
    sys.path.insert(0, str(out))
    return SimpleNamespace(
        pb2=importlib.import_module("tickgate.v1.tickgate_pb2"),
        grpc=importlib.import_module("tickgate.v1.tickgate_pb2_grpc"))


# ---- tickgate processes ----------------------------------------------------

@pytest.fixture(scope="session")
def tickgate_bin():
    path = Path(os.environ.get("TICKGATE_BIN", REPO / ".build/debug/tickgate"))
    if not path.is_absolute():
        path = REPO / path
    if not os.access(path, os.X_OK):
        pytest.fail(f"tickgate binary not found at {path} (build it or set TICKGATE_BIN)")
    return str(path)


_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # PR_SET_PDEATHSIG: if pytest itself is killed (no teardown runs), the
    # kernel still stops its children instead of leaving them listening.
    _libc.prctl(1, signal.SIGTERM)


class Process:
    """A child process whose stdout+stderr are collected by a thread, so that
    ready lines can be awaited with a timeout and shown when a test fails."""

    def __init__(self, args):
        self.args = args
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True, bufsize=1,
                                     preexec_fn=_die_with_parent)
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def output(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_for(self, pattern, timeout=STARTUP_TIMEOUT):
        """The first match of `pattern` in the output; fails if the process
        exits or nothing matches within `timeout` seconds."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if m := regex.search(line):
                        return m
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    break
                self.cond.wait(min(left, 0.2))
        pytest.fail(f"{' '.join(self.args)}: no line matching {pattern!r} "
                    f"(exit code {self.proc.poll()}); output:\n{self.output()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        return self.proc.returncode


def _spawner():
    """Starts processes; stops all of them (newest first: gateways before
    the broker they read) when the fixture using it ends."""
    started = []

    def start(args):
        p = Process(args)
        started.append(p)
        return p

    yield start
    for p in reversed(started):
        p.stop()


# One spawner per scope, so that a process lives exactly as long as what
# started it: a test's gateways stop when the test ends. (With one
# session-wide spawner, the session broker served every gateway ever
# started until the end: late in a fresh-clone CI run dozens of them read
# every tick, and a new gateway's ticks took over 30 s to arrive.)
@pytest.fixture
def spawn():
    yield from _spawner()


@pytest.fixture(scope="module")
def spawn_module():
    yield from _spawner()


@pytest.fixture(scope="session")
def spawn_session():
    yield from _spawner()


def start_broker(spawn, tickgate_bin, partitions, port=None):
    args = [tickgate_bin, "broker", "--partitions", str(partitions)]
    if port is not None:
        args += ["--port", str(port)]
    p = spawn(args)
    p.bootstrap = p.wait_for(r"bootstrap: (\S+:\d+)").group(1)
    return p


def start_gateway(spawn, tickgate_bin, bootstrap, *extra):
    # The gateway resolves the live end of every partition before printing
    # this line, so anything produced afterwards is delivered.
    p = spawn([tickgate_bin, "serve", "--brokers", bootstrap, "--listen", "127.0.0.1:0",
               "--metrics-listen", "127.0.0.1:0", *extra])
    m = p.wait_for(r"gateway listening on (\S+):(\d+) ")
    p.address = f"{m.group(1)}:{m.group(2)}"
    p.metrics_url = p.wait_for(r"metrics on (http://\S+/metrics)").group(1)
    return p


@pytest.fixture(scope="session")
def broker(spawn_session, tickgate_bin):
    return start_broker(spawn_session, tickgate_bin, partitions=6)


@pytest.fixture(scope="session")
def gateway(spawn_session, tickgate_bin, broker):
    """A gateway that accepts any well-formed symbol."""
    return start_gateway(spawn_session, tickgate_bin, broker.bootstrap)


@pytest.fixture
def ingest(tickgate_bin, broker):
    """Runs `tickgate ingest` to completion; returns the published count."""
    def run(symbols, count, rate=2000, seed=42, brokers=None):
        args = [tickgate_bin, "ingest", "--brokers", brokers or broker.bootstrap,
                "--symbols", ",".join(symbols), "--count", str(count),
                "--rate", str(rate), "--seed", str(seed)]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"ingest failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
        m = re.search(r"published (\d+) ticks .*delivered (\d+), failed (\d+)", r.stdout)
        assert m, f"no summary line in ingest output:\n{r.stdout}"
        assert (int(m.group(1)), int(m.group(2)), int(m.group(3))) == (count, count, 0), r.stdout
        return count
    return run


# ---- gRPC client side ------------------------------------------------------

def make_channel(address):
    # Unlimited sizes on the client, so that the server's own limit is what
    # an oversize message meets.
    ch = grpc.insecure_channel(address, options=[
        ("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)])
    grpc.channel_ready_future(ch).result(timeout=STARTUP_TIMEOUT)
    return ch


@pytest.fixture
def channel(gateway):
    ch = make_channel(gateway.address)
    yield ch
    ch.close()


class Stream:
    """One bidi call, driven by queues: send() never blocks, recv() waits at
    most `timeout` seconds. `end` holds the final status once the call ends."""

    _HALF_CLOSE = object()

    def __init__(self, multicallable, metadata=None):
        self._requests = queue.Queue()
        self._responses = queue.Queue()
        self.end = None  # grpc.RpcError (or the call itself, for OK) once ended
        self.call = multicallable(self._request_iter(), timeout=CALL_TIMEOUT, metadata=metadata)
        threading.Thread(target=self._pump, daemon=True).start()

    def _request_iter(self):
        while (item := self._requests.get()) is not self._HALF_CLOSE:
            yield item

    def _pump(self):
        try:
            for message in self.call:
                self._responses.put(message)
            self._responses.put(("end", self.call))
        except grpc.RpcError as e:
            self._responses.put(("end", e))

    def send(self, message):
        self._requests.put(message)

    def half_close(self):
        self._requests.put(self._HALF_CLOSE)

    def recv(self, timeout=RECV_TIMEOUT):
        """The next server message, or None once the call has ended."""
        if self.end is not None:
            return None
        try:
            item = self._responses.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no server message within {timeout} s")
        if isinstance(item, tuple) and item[0] == "end":
            self.end = item[1]
            return None
        return item

    def status(self, timeout=RECV_TIMEOUT):
        """Waits for the call to end; returns (code, details). Messages that
        arrive first are returned too, as a list."""
        rest = []
        while (m := self.recv(timeout)) is not None:
            rest.append(m)
        return self.end.code(), self.end.details(), rest

    def cancel(self):
        self._requests.put(self._HALF_CLOSE)
        self.call.cancel()


@pytest.fixture
def open_stream(channel, pb):
    """Opens PriceStream/Stream calls (typed, or via any multicallable);
    cancels whatever is still open at the end of the test."""
    opened = []

    def open_(multicallable=None):
        s = Stream(multicallable or pb.grpc.PriceStreamStub(channel).Stream)
        opened.append(s)
        return s

    yield open_
    for s in opened:
        s.cancel()
