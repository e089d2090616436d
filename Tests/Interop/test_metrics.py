"""GET /metrics on the gateway's own HTTP/1.1 port: Prometheus text format,
and the values move when ticks flow."""
import re
import urllib.request

from test_interop import read_ticks, subscribe

SYMBOLS = ["BTC-USD", "ETH-USD"]


def scrape(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


def value(text, name, labels=""):
    """Sum of every sample of `name` whose labels contain `labels`."""
    total = 0.0
    found = False
    for line in text.splitlines():
        m = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", line)
        if m and labels in (m.group(1) or ""):
            total += float(m.group(2))
            found = True
    assert found, f"{name}{{{labels}}} not in:\n{text}"
    return total


def test_metrics_move_with_traffic(pb, gateway, open_stream, ingest):
    before = scrape(gateway.metrics_url)
    stream = open_stream()
    subscribe(pb, stream, 1, SYMBOLS)
    during = scrape(gateway.metrics_url)
    assert value(during, "tickgate_streams") >= 1
    assert value(during, "tickgate_subscriptions") >= 2

    published = ingest(SYMBOLS, count=200, rate=2000)
    read_ticks(stream, published)
    after = scrape(gateway.metrics_url)

    def grew(name, by, labels=""):
        old = value(before, name, labels) if name in before else 0.0
        assert value(after, name, labels) - old >= by, name

    grew("tickgate_ticks_consumed_total", published)
    grew("tickgate_deliveries_total", published)
    grew("tickgate_hop_latency_seconds_count", published, 'hop="t1_publish_to_t3_gateway_receive"')
    assert value(after, "tickgate_consumer_lag") >= 0
    assert value(after, "tickgate_connections") >= 1
    stream.cancel()


def test_unknown_path_is_404(gateway):
    try:
        urllib.request.urlopen(gateway.metrics_url.replace("/metrics", "/nope"), timeout=10)
        raise AssertionError("expected 404")
    except urllib.error.HTTPError as error:
        assert error.code == 404


def test_feed_adapter_metrics(tickgate_bin, broker):
    """`tickgate ingest --metrics-listen`: the adapter's counts, per venue, and
    per-symbol staleness, while it runs."""
    import subprocess
    import time
    proc = subprocess.Popen(
        [tickgate_bin, "ingest", "--brokers", broker.bootstrap, "--symbols", "BTC-USD,ETH-USD",
         "--rate", "200", "--duration", "6", "--metrics-listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            m = re.search(r"metrics on (http://\S+/metrics)", line)
            if m:
                url = m.group(1)
        assert url, "ingest never printed its metrics address"
        time.sleep(2)
        text = scrape(url)
        assert value(text, "tickgate_feed_delivered_total", 'venue="synthetic"') > 0
        assert value(text, "tickgate_feed_delivery_failures_total") == 0
        staleness = value(text, "tickgate_feed_symbol_staleness_seconds", 'symbol="BTC-USD"')
        assert 0 <= staleness < 5
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
