"""/networks routes: parse, call the networks service, encode. No business rules here."""

from __future__ import annotations

from dockwright.api.http import Request, Response, json_response, no_content
from dockwright.api.router import Route
from dockwright.api.schema.networks import (
    network_json,
    parse_endpoint_config,
    parse_network_create,
)
from dockwright.engine.networks import NetworkService
from dockwright.errors import InvalidParameter


def network_routes(svc: NetworkService) -> list[Route]:
    async def list_(req: Request) -> Response:
        return json_response([network_json(n) for n in svc.networks(req.query.filters())])

    async def inspect(req: Request) -> Response:
        n = svc.get(req.params["id"])
        return json_response(network_json(n, svc.endpoints_of(n)))

    async def create(req: Request) -> Response:
        n = await svc.create(parse_network_create(await req.json()))
        return json_response({"Id": n.id, "Warning": ""}, status=201)

    async def remove(req: Request) -> Response:
        await svc.remove(req.params["id"])
        return no_content()

    async def prune(req: Request) -> Response:
        return json_response({"NetworksDeleted": await svc.prune(req.query.filters())})

    async def connect(req: Request) -> Response:
        body = await req.json() or {}
        if not isinstance(body, dict) or not body.get("Container"):
            raise InvalidParameter("container is required")
        ip, aliases, ip6 = parse_endpoint_config(body.get("EndpointConfig"))
        await svc.connect(req.params["id"], str(body["Container"]), ip, aliases, ip6)
        return json_response(None)

    async def disconnect(req: Request) -> Response:
        body = await req.json() or {}
        if not isinstance(body, dict) or not body.get("Container"):
            raise InvalidParameter("container is required")
        await svc.disconnect(req.params["id"], str(body["Container"]), bool(body.get("Force")))
        return json_response(None)

    return [
        Route("GET", "/networks", list_),
        Route("GET", "/networks/{id}", inspect),
        Route("POST", "/networks/create", create),
        Route("DELETE", "/networks/{id}", remove),
        Route("POST", "/networks/prune", prune, (1, 25)),
        Route("POST", "/networks/{id}/connect", connect),
        Route("POST", "/networks/{id}/disconnect", disconnect),
    ]
