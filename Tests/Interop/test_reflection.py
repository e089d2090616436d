"""Server reflection from grpcio-reflection's own client (what grpcurl and
grpc_cli do): the services, then each method's request and response types
resolved from the descriptors the gateway serves; v1alpha through the
stock client, v1 with the same messages on the v1 path."""
import grpc
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from conftest import make_channel


def test_the_stock_reflection_client_resolves_every_method(gateway):
    channel = make_channel(gateway.address)
    database = ProtoReflectionDescriptorDatabase(channel)
    services = set(database.get_services())
    assert {"tickgate.v1.PriceStream", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection"} <= services
    pool = DescriptorPool(database)
    price_stream = pool.FindServiceByName("tickgate.v1.PriceStream")
    methods = {m.name: (m.input_type.full_name, m.output_type.full_name, m.client_streaming, m.server_streaming)
               for m in price_stream.methods}
    assert methods["Stream"] == ("tickgate.v1.ClientMessage", "tickgate.v1.ServerMessage", True, True)
    assert methods["GetSnapshot"][2:] == (False, False)
    tick = pool.FindMessageTypeByName("tickgate.v1.Tick")
    assert "price" in tick.fields_by_name and tick.fields_by_name["price"].message_type.full_name == "tickgate.v1.Decimal"
    channel.close()


def test_v1_answers_on_its_own_path(gateway):
    channel = make_channel(gateway.address)
    info = channel.stream_stream(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
    requests = [reflection_pb2.ServerReflectionRequest(list_services=""),
                reflection_pb2.ServerReflectionRequest(file_containing_symbol="tickgate.v1.NoSuchThing")]
    answers = list(info(iter(requests), timeout=10))
    assert len(answers) == 2
    assert "tickgate.v1.PriceStream" in [s.name for s in answers[0].list_services_response.service]
    assert answers[1].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
    assert answers[1].original_request.file_containing_symbol == "tickgate.v1.NoSuchThing"
    channel.close()
