#!/usr/bin/env python3
"""The soak run's clients (scripts/soak.sh): for DURATION seconds, WORKERS
threads each play a random client against the gateway — a steady reader, a
slow reader (conflated), a staller that never reads, or a resumer that
leaves and comes back with its Kafka positions — and check every tick:
per symbol, the sequence goes up by exactly 1 + `skipped`, except across a
resume the gateway said it could not recover. Prints one JSON line of
counts; exits 1 on any gap the client was not told about."""
import json
import logging
import random
import sys
import threading
import time

import grpc

sys.path.insert(0, sys.argv[4])
from tickgate.v1 import tickgate_pb2 as pb, tickgate_pb2_grpc as pbg  # noqa: E402

logging.basicConfig(level=logging.ERROR)  # grpc's own errors, with their tracebacks, go to stderr
address, duration, workers = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
symbols = [f"SOAK{i}-USD" for i in range(8)]
stop_at = time.monotonic() + duration
lock = threading.Lock()
counts = {"sessions": 0, "ticks": 0, "skipped": 0, "resumes": 0, "not_recovered": 0, "untold_gaps": 0, "errors": 0}
examples = []


def bump(key, n=1):
    with lock:
        counts[key] += n


class Session:
    def __init__(self, channel, chosen, resume=None):
        self.requests = [pb.ClientMessage(subscribe=pb.Subscribe(request_id=1, symbols=chosen, resume=resume or []))]
        self.done = threading.Event()
        self.call = pbg.PriceStreamStub(channel).Stream(iter(self._requests()), timeout=duration + 60)

    def _requests(self):
        yield from self.requests
        self.done.wait()

    def close(self):
        self.done.set()
        self.call.cancel()


def check(last, tick, told):
    """last: symbol -> (sequence, partition, offset)."""
    prev = last.get(tick.symbol)
    if prev is not None and tick.symbol not in told:
        expected = prev[0] + 1 + tick.skipped
        if tick.sequence != expected and not tick.snapshot:
            bump("untold_gaps")
            with lock:
                if len(examples) < 5:
                    examples.append(f"{tick.symbol}: {prev[0]} then {tick.sequence} (skipped {tick.skipped})")
    told.discard(tick.symbol)
    last[tick.symbol] = (tick.sequence, tick.kafka_partition, tick.kafka_offset)
    bump("ticks")
    bump("skipped", tick.skipped)


def play(channel, rng):
    kind = rng.choice(["steady", "steady", "slow", "staller", "resumer"])
    chosen = rng.sample(symbols, 3)
    last, told = {}, set()
    session = Session(channel, chosen)
    bump("sessions")
    until = time.monotonic() + rng.uniform(2, 8)
    try:
        if kind == "staller":
            time.sleep(max(0, min(until, stop_at) - time.monotonic()))  # never reads
            return
        for message in session.call:
            if time.monotonic() > min(until, stop_at):
                break
            which = message.WhichOneof("kind")
            ticks = [message.tick] if which == "tick" else list(message.batch.ticks) if which == "batch" else []
            for tick in ticks:
                check(last, tick, told)
            if kind == "slow":
                time.sleep(0.05)
        if kind == "resumer" and last and time.monotonic() < stop_at:
            session.close()
            time.sleep(rng.uniform(0.2, 2))
            positions = [pb.Position(symbol=s, kafka_partition=p, kafka_offset=o) for s, (_, p, o) in last.items()]
            session = Session(channel, chosen, resume=positions)
            bump("resumes")
            back = time.monotonic() + rng.uniform(1, 4)
            for message in session.call:
                if time.monotonic() > min(back, stop_at):
                    break
                which = message.WhichOneof("kind")
                if which == "resume_status" and not message.resume_status.recovered:
                    bump("not_recovered")
                    told.add(message.resume_status.symbol)
                ticks = [message.tick] if which == "tick" else list(message.batch.ticks) if which == "batch" else []
                for tick in ticks:
                    check(last, tick, told)
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.CANCELLED:
            bump("errors")
            with lock:
                if len(examples) < 5:
                    examples.append(f"{kind}: {e.code()} {e.details()}")
    finally:
        session.close()


def worker(seed):
    rng = random.Random(seed)
    # A connection of its own per worker (grpcio would share one).
    channel = grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
    while time.monotonic() < stop_at:
        play(channel, rng)
    channel.close()


threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join(duration + 120)
print(json.dumps({**counts, "examples": examples}), flush=True)
sys.exit(1 if counts["untold_gaps"] or counts["errors"] else 0)
