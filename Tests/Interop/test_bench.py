"""`tickgate bench` end to end: its own embedded broker, the gateway as a
child process, the load client. Checks counts and files, never speed."""
import subprocess


def test_bench_tiny_runs_with_a_child_gateway(tmp_path, tickgate_bin):
    out = tmp_path / "bench"
    proc = subprocess.run(
        [tickgate_bin, "bench", "--scenario", "tiny", "--duration", "1", "--warmup", "0.3",
         "--no-pin", "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lost 0, duplicated 0, out of order 0, unexpected 0, unstamped 0, request errors 0" in proc.stdout
    runs = list(out.iterdir())
    assert len(runs) == 1
    names = {p.name for p in runs[0].iterdir()}
    assert {"result.json", "latency.svg", "t1-t5.hgrm", "t3-t5.hgrm", "kafka-floor.hgrm", "gateway.log"} <= names
