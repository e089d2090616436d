#!/usr/bin/env python3
"""Writes the seed corpus (Fuzz/Corpus/NAME/), committed; run again after a
wire change. Needs hpack and hyperframe (the interop venv has them)."""
import pathlib
import base64
import struct

import hpack
from hyperframe.frame import DataFrame, HeadersFrame, RstStreamFrame, WindowUpdateFrame

root = pathlib.Path(__file__).resolve().parent / "Corpus"


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field(number, payload):  # length-delimited
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def subscribe(request_id, symbols, snapshot=False, max_rate=0):
    body = varint(1 << 3) + varint(request_id) + b"".join(field(2, s.encode()) for s in symbols)
    if snapshot:
        body += varint(4 << 3) + b"\x01"
    if max_rate:
        body += varint(5 << 3) + varint(max_rate)
    return field(1, body)


def grpc(message):
    return b"\x00" + struct.pack(">I", len(message)) + message


def request(stream_id, path, body=b"", end=True, encoder=None, content_type="application/grpc", method="POST"):
    encoder = encoder or hpack.Encoder()
    headers = [(":method", method), (":scheme", "http"), (":path", path), (":authority", "gw"),
               ("content-type", content_type), ("te", "trailers")]
    h = HeadersFrame(stream_id, encoder.encode(headers))
    h.flags.add("END_HEADERS")
    d = DataFrame(stream_id, body)
    if end:
        d.flags.add("END_STREAM")
    return h.serialize() + d.serialize()


def write(name, seeds):
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(seeds):
        (d / f"seed-{i:02d}").write_bytes(seed if isinstance(seed, bytes) else seed.encode())


enc = hpack.Encoder()
write("gateway", [
    request(1, "/tickgate.v1.PriceStream/Stream", grpc(subscribe(1, ["BTC-USD", "ETH-USD"])), end=False, encoder=enc)
    + DataFrame(1, grpc(field(3, varint(1 << 3) + b"\x07"))).serialize(),
    request(1, "/tickgate.v1.PriceStream/Stream", grpc(subscribe(1, ["BTC-*", "*"], snapshot=True, max_rate=5))),
    request(1, "/tickgate.v1.PriceStream/Stream", grpc(subscribe(1, ["X-Y"]) + field(2, varint(1 << 3) + b"\x02" + field(2, b"X-Y"))),
            end=False) + RstStreamFrame(1, error_code=8).serialize(),
    request(1, "/tickgate.v1.PriceStream/GetSnapshot", grpc(field(1, b"BTC-USD"))),
    request(1, "/grpc.health.v1.Health/Check", grpc(b"")) + request(3, "/grpc.health.v1.Health/Watch", grpc(b""), end=False),
    request(1, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", grpc(field(7, b"*")) + grpc(field(4, b"tickgate.v1.Tick"))),
    request(1, "/tickgate.v1.PriceStream/Publish", grpc(field(1, b"BTC-USD"))),
    request(1, "/tickgate.v1.PriceStream/Stream", b"\x00\xff\xff\xff\xff") + WindowUpdateFrame(0, 1 << 20).serialize(),
    # Browsers over HTTP/2: gRPC-Web binary and text, SSE, the page.
    request(1, "/tickgate.v1.PriceStream/Watch", grpc(subscribe(0, ["BTC-USD", "ETH-*"], snapshot=True)), content_type="application/grpc-web+proto"),
    request(1, "/tickgate.v1.PriceStream/GetSnapshot", base64.b64encode(grpc(field(1, b"BTC-USD"))), content_type="application/grpc-web-text"),
    request(1, "/v1/ticks?symbols=BTC-USD,X-Y&snapshot=true&max_rate=5", b"", content_type="text/plain", method="GET"),
    request(1, "/", b"", content_type="text/html", method="GET"),
])
watch = grpc(subscribe(0, ["BTC-USD", "SOL-*"], snapshot=True))
write("web", [
    "GET /v1/ticks?symbols=BTC-USD,ETH-*,X-Y&snapshot=true&max_rate=5&resume=t1:BTC-USD@0:3 HTTP/1.1\r\nhost: gw\r\n\r\n",
    "GET /v1/ticks?symbols=BTC-USD HTTP/1.1\r\nhost: gw\r\nlast-event-id: t1:BTC-USD@1:9\r\n\r\nGET / HTTP/1.1\r\nhost: gw\r\n\r\n",
    b"POST /tickgate.v1.PriceStream/Watch HTTP/1.1\r\nhost: gw\r\ncontent-type: application/grpc-web+proto\r\ncontent-length: "
    + str(len(watch)).encode() + b"\r\n\r\n" + watch,
    b"POST /tickgate.v1.PriceStream/GetSnapshot HTTP/1.1\r\nhost: gw\r\ncontent-type: application/grpc-web-text\r\n"
    b"transfer-encoding: chunked\r\n\r\n10\r\n" + base64.b64encode(grpc(field(1, b"BTC-USD")))[:16] + b"\r\n0\r\n\r\n",
    "OPTIONS /tickgate.v1.PriceStream/Watch HTTP/1.1\r\nhost: gw\r\norigin: http://app.example\r\naccess-control-request-method: POST\r\n\r\n",
    "GET /static/chart.js HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n",
])
write("binance", [
    '{"e":"trade","E":1717171717000,"s":"BTCUSDT","t":12345,"p":"67000.50","q":"0.001","T":1717171717000,"m":true,"M":true}',
    '{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":2,"p":"1.0","q":"2","T":3,"m":false}}',
    '{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}',
    '{"result":null,"id":1}', '{"code":2,"msg":"Invalid request: unknown stream","id":1}',
])
write("coinbase", [
    '{"type":"match","trade_id":10,"maker_order_id":"a","taker_order_id":"b","side":"sell","size":"5.23512","price":"3765.13","product_id":"ETH-USD","sequence":50,"time":"2024-05-31T16:08:37.028459Z"}',
    '{"type":"subscriptions","channels":[{"name":"matches","product_ids":["ETH-USD"]}]}',
    '{"type":"error","message":"Failed to subscribe","reason":"BAD-PAIR is not a valid product"}',
    '{"type":"ticker","sequence":37475248783,"product_id":"ETH-USD","price":"1285.22","best_bid":"1285.04","best_ask":"1285.27","side":"buy","time":"2022-10-19T23:28:22.061769Z","trade_id":370843401,"last_size":"11.4396987"}',
])
write("kraken", [
    '{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":67000.5,"qty":1.25,"ord_type":"limit","trade_id":7,"timestamp":"2024-05-31T16:08:37.1Z"}]}',
    '{"method":"subscribe","result":{"channel":"trade","symbol":"BTC/USD"},"success":true,"req_id":1}',
    '{"channel":"ticker","type":"snapshot","data":[{"symbol":"BTC/USD","bid":67000.1,"bid_qty":0.5,"ask":67000.2,"ask_qty":1.25,"last":67000.15}]}',
    '{"channel":"heartbeat"}',
])
samples = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "samples"
write("replay", [
    (samples / "BTCUSDT-trades-2024-01-01-sample.csv").read_text()[:2000],
    (samples / "trades.csv").read_text()[:2000],
    '{"time":"2024-01-01T00:00:00Z","symbol":"BTC-USD","price":"42000.5","size":"0.1","side":"buy","trade_id":"1"}\n',
])
write("json", ['{"a":[1,2.5e3,-0.0,"\\u00e9\\ud83d\\ude00",true,false,null],"b":{"c":{}}}', '[]', '"x"', '1e400', '{"k":"v"} x'])
print(f"wrote {sum(1 for _ in root.rglob('seed-*'))} seeds under {root}")
