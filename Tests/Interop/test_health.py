"""The standard grpc.health.v1 service, from grpcio's own health client
(grpcio-health-checking): what load balancers and probes ask."""
import signal

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import make_channel, start_gateway


def test_check_serving_and_not_found(gateway):
    channel = make_channel(gateway.address)
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ["", "tickgate.v1.PriceStream"]:
        answer = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING, service
    try:
        stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
        raise AssertionError("an unknown service must be NOT_FOUND")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.NOT_FOUND, e
    channel.close()


def test_watch_hears_not_serving_when_the_gateway_drains(spawn, tickgate_bin, broker):
    gateway = start_gateway(spawn, tickgate_bin, broker.bootstrap)
    channel = make_channel(gateway.address)
    stub = health_pb2_grpc.HealthStub(channel)
    watch = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=30)
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    gateway.proc.send_signal(signal.SIGTERM)
    assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
    try:
        for _ in watch:
            pass
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.UNAVAILABLE, e
    assert gateway.proc.wait(timeout=15) == 0
    channel.close()
