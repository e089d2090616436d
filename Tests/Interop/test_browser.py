"""The live page (GET /) in headless Chromium against `tickgate demo`: rows
with exact prices that keep moving, latency percentiles, removing a symbol
(the page reopens its SSE stream with a resume token), no JavaScript errors.

A screenshot of the page as the test left it is saved to
.build/test-output/browser/live-page.png, whether the test passed or not.
Skipped only when Chromium or its driver is not installed (scripts/test.sh
installs both: chromium, chromium-driver).
"""
import os
import re
import socket
import time
import urllib.request
from decimal import Decimal

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import REPO, STARTUP_TIMEOUT

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DEBIAN_CHART_JS = "/usr/share/javascript/chart.js/chart.min.js"  # libjs-chart.js
SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD"]
SCREENSHOT = REPO / ".build/test-output/browser/live-page.png"
WAIT = 30  # seconds for any one condition on the page

# The demo prints the page's address: "live page (browser)    http://HOST:PORT/".
PAGE_URL = re.compile(r"live page \(browser\)\s+(?P<url>http://[^\s/]+)/")
DECIMAL = re.compile(r"^\d+(\.\d+)?$")
SIGNED_DECIMAL = re.compile(r"^[+−]?\d+(\.\d+)?$")
MILLISECONDS = re.compile(r"^-?\d+\.\d{3}$")

# One read of every row, by the selectors the page promises to keep.
ROWS_JS = """
return [...document.querySelectorAll('tr.tick-row')].map(r => ({
  symbol: r.dataset.symbol, venue: r.dataset.venue,
  price: r.querySelector('td.price').textContent,
  change: r.querySelector('td.change').textContent,
  sequence: r.querySelector('td.sequence').textContent}));
"""


def wait_for_port(address, timeout=STARTUP_TIMEOUT):
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"nothing accepts connections on {address} after {timeout} s")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def demo(spawn_module, tickgate_bin):
    """`tickgate demo` on a free port; its page's base URL (no trailing /)."""
    p = spawn_module([tickgate_bin, "demo", "--listen", "127.0.0.1:0", "--symbols", ",".join(SYMBOLS),
               "--rate", "30", "--duration", "600"])
    base = p.wait_for(PAGE_URL.pattern).group("url")
    wait_for_port(base.removeprefix("http://"))
    yield base
    p.stop()  # not left running for the rest of the session


@pytest.fixture(scope="module")
def driver():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        if os.environ.get("TICKGATE_REQUIRE_BROWSER"):  # scripts/test.sh installs them: a skip would hide the test
            pytest.fail(f"{' and '.join(missing)} not installed")
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900",
                "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # A driver path given: Selenium Manager (which would download) is not run.
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    d.set_page_load_timeout(WAIT)
    d.set_script_timeout(WAIT)
    yield d
    d.quit()


def rows(driver):
    return {(r["symbol"], r["venue"]): r for r in driver.execute_script(ROWS_JS)}


def until(driver, condition, message, timeout=WAIT):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: condition(), message)
    except TimeoutException:
        pass  # failed below, outside the handler, so that the report is one traceback
    pytest.fail(f"{message} within {timeout} s; rows: {rows(driver)}; state: "
                f"{driver.find_element(By.ID, 'state').text!r}; notices: "
                f"{driver.find_element(By.ID, 'notices').text!r}")


def wait_until_all_advance(driver, before):
    """Waits until every row of `before` shows a higher sequence; fails at
    once if a sequence ever goes down. Returns the rows then."""
    def advanced():
        now = rows(driver)
        for key, old in before.items():
            if key not in now:
                continue
            assert int(now[key]["sequence"]) >= int(old["sequence"]), \
                f"{key}: sequence went down from {old['sequence']} to {now[key]['sequence']}"
        if all(key in now and int(now[key]["sequence"]) > int(old["sequence"]) for key, old in before.items()):
            return now
        return None
    return until(driver, advanced, f"sequences of {sorted(before)} did not all go up")


def latency(driver, hop, stat):
    return driver.find_element(By.CSS_SELECTOR, f'#latency td[data-hop="{hop}"][data-stat="{stat}"]').text


def test_page_and_chart_library_are_served(demo):
    with urllib.request.urlopen(f"{demo}/", timeout=10) as r:
        assert r.status == 200
        assert r.headers.get_content_type() == "text/html", r.headers
        page = r.read().decode()
    assert '<script src="/static/chart.js"></script>' in page
    with urllib.request.urlopen(f"{demo}/static/chart.js", timeout=10) as r:
        assert r.status == 200
        assert r.headers.get_content_type() in ("text/javascript", "application/javascript"), r.headers
        assert b"Chart" in r.read(4096)


def test_live_page_streams_prices_latency_and_removes_a_symbol(demo, driver):
    driver.get(f"{demo}/?symbols={','.join(SYMBOLS)}")
    try:
        # Rows for the three symbols, each with an exact price and a sequence.
        def have_rows():
            now = rows(driver)
            ok = {r["symbol"] for r in now.values() if DECIMAL.match(r["price"]) and r["sequence"].isdigit()}
            return now if ok >= set(SYMBOLS) else None
        first = until(driver, have_rows, f"no rows with prices for all of {SYMBOLS}")
        assert {symbol for symbol, _ in first} == set(SYMBOLS), first
        for r in first.values():
            assert SIGNED_DECIMAL.match(r["change"]), r
        until(driver, lambda: driver.find_element(By.ID, "state").get_attribute("data-state") == "live",
              "the connection state is not live")

        # Prices keep coming: every row's sequence goes up, twice, never down.
        second = wait_until_all_advance(driver, first)
        wait_until_all_advance(driver, second)

        # Latency percentiles of what the page received.
        until(driver, lambda: all(MILLISECONDS.match(latency(driver, "e2e", stat)) for stat in ("p50", "p99")),
              "no end-to-end p50/p99 in the latency panel")
        p50, p99 = (float(latency(driver, "e2e", stat)) for stat in ("p50", "p99"))
        assert p50 <= p99, (p50, p99)
        until(driver, lambda: int(driver.find_element(By.ID, "e2e-chart").get_attribute("data-points") or 0) >= 3,
              "the end-to-end latency chart did not get a point a second")

        if os.path.exists(DEBIAN_CHART_JS):
            assert driver.execute_script("return document.body.dataset.charts") == "chartjs", \
                "the page fell back to SVG charts: /static/chart.js did not define window.Chart"

        # Removing ETH-USD: its row goes at once, the others go on updating
        # over the new stream, and ETH-USD does not come back.
        driver.find_element(By.CSS_SELECTOR, 'button.remove[data-symbol="ETH-USD"]').click()
        until(driver, lambda: not driver.find_elements(By.CSS_SELECTOR, 'tr.tick-row[data-symbol="ETH-USD"]'),
              "the ETH-USD row is still there after removing ETH-USD")
        rest = {key: r for key, r in rows(driver).items() if key[0] != "ETH-USD"}
        assert {symbol for symbol, _ in rest} == {"BTC-USD", "SOL-USD"}, rest
        after = wait_until_all_advance(driver, rest)
        wait_until_all_advance(driver, after)
        assert not any(symbol == "ETH-USD" for symbol, _ in rows(driver)), rows(driver)
        assert not driver.find_elements(By.CSS_SELECTOR, 'button.remove[data-symbol="ETH-USD"]')
        assert "symbols=BTC-USD,SOL-USD" in driver.current_url, driver.current_url
        until(driver, lambda: driver.find_element(By.ID, "state").get_attribute("data-state") == "live",
              "the connection state is not live after removing a symbol")
    finally:
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOT))

    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, "JavaScript errors in the browser console:\n" + "\n".join(e["message"] for e in severe)


def test_page_computes_changes_with_exact_decimals(demo, driver):
    # The page's own fixed-point helpers (BigInt): floating point would give
    # 0.30000000000000004-style digits or lose the 17th significant one.
    driver.get(f"{demo}/?symbols=BTC-USD")
    cases = [("0.3", "0.1"), ("67012.25", "67012.2500001"), ("12345678901234567.89", "12345678901234567.88"),
             ("0.00000001", "0"), ("100", "99.995"), ("1E-8", "2e-8")]
    got = driver.execute_script(
        "return arguments[0].map(([a, b]) => { const d = decSub(dec(a), dec(b)), p = decPct(d, dec(b));"
        " return [decStr(d, true), p ? decStr(p, true) : null]; });", cases)
    for (a, b), (change, pct) in zip(cases, got):
        diff = Decimal(a) - Decimal(b)
        assert Decimal(change.replace("−", "-")) == diff, (a, b, change)
        if Decimal(b) != 0:
            want = (diff * 100 / Decimal(b)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
            assert Decimal(pct.replace("−", "-")) == want, (a, b, pct)
        else:
            assert pct is None, (a, b, pct)
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, "JavaScript errors in the browser console:\n" + "\n".join(e["message"] for e in severe)
