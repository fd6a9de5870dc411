from __future__ import annotations

import pytest

from dockwright.api.http import Request, Response, text_response
from dockwright.api.router import (
    MethodNotAllowed,
    Route,
    Router,
    check_version,
    compile_pattern,
    split_version,
)
from dockwright.errors import InvalidParameter, NotFound

pytestmark = pytest.mark.unit


def named(name: str):  # a distinct handler per route, so matches are identifiable
    async def handler(req: Request) -> Response:
        return text_response(name)

    handler.__name__ = name
    return handler


def docker_like_router() -> Router:
    table = [
        ("GET", "/containers/json"),
        ("POST", "/containers/create"),
        ("GET", "/containers/{id}/json"),
        ("POST", "/containers/{id}/start"),
        ("DELETE", "/containers/{id}"),
        ("GET", "/images/json"),
        ("GET", "/images/search"),
        ("GET", "/images/get"),
        ("GET", "/images/{name:path}/json"),
        ("GET", "/images/{name:path}/history"),
        ("GET", "/images/{name:path}/get"),
        ("POST", "/images/{name:path}/push"),
        ("POST", "/images/{name:path}/tag"),
        ("DELETE", "/images/{name:path}"),
        ("GET", "/_ping"),
        ("HEAD", "/_ping"),
    ]
    return Router(Route(m, p, named(f"{m} {p}")) for m, p in table)


def which(router: Router, method: str, path: str) -> tuple[str, dict[str, str]]:
    handler, params = router.match(method, path)
    return handler.__name__, params


@pytest.mark.parametrize(
    ("method", "path", "route", "params"),
    [
        ("GET", "/containers/json", "GET /containers/json", {}),
        ("GET", "/containers/abc/json", "GET /containers/{id}/json", {"id": "abc"}),
        ("POST", "/containers/abc/start", "POST /containers/{id}/start", {"id": "abc"}),
        ("DELETE", "/containers/abc", "DELETE /containers/{id}", {"id": "abc"}),
        ("GET", "/images/json", "GET /images/json", {}),
        ("GET", "/images/get", "GET /images/get", {}),
        ("GET", "/images/busybox/json", "GET /images/{name:path}/json", {"name": "busybox"}),
        (
            "GET",
            "/images/localhost:5000/a/b:tag/json",
            "GET /images/{name:path}/json",
            {"name": "localhost:5000/a/b:tag"},
        ),
        ("GET", "/images/a/json/json", "GET /images/{name:path}/json", {"name": "a/json"}),
        ("GET", "/images/x/y/history", "GET /images/{name:path}/history", {"name": "x/y"}),
        ("GET", "/images/x/y/get", "GET /images/{name:path}/get", {"name": "x/y"}),
        ("POST", "/images/r:5000/x/push", "POST /images/{name:path}/push", {"name": "r:5000/x"}),
        ("POST", "/images/x:1/tag", "POST /images/{name:path}/tag", {"name": "x:1"}),
        ("DELETE", "/images/r/x:1", "DELETE /images/{name:path}", {"name": "r/x:1"}),
    ],
)
def test_routes_match_with_params(method, path, route, params):
    assert which(docker_like_router(), method, path) == (route, params)


def test_one_segment_param_does_not_cross_slashes():
    with pytest.raises(NotFound, match="page not found"):
        docker_like_router().match("GET", "/containers/a/b/json")


def test_unknown_path_is_404_page_not_found():
    with pytest.raises(NotFound, match="page not found"):
        docker_like_router().match("GET", "/nope")
    with pytest.raises(NotFound):
        docker_like_router().match("GET", "/images")  # a path param needs at least one char


def test_known_path_with_other_method_is_405_listing_allowed_methods():
    with pytest.raises(MethodNotAllowed) as err:
        docker_like_router().match("PUT", "/containers/abc/json")
    assert err.value.allowed == ("GET",)
    with pytest.raises(MethodNotAllowed) as err:
        docker_like_router().match("GET", "/images/x:1/tag")
    assert err.value.allowed == ("DELETE", "POST")  # DELETE /images/{name:path} matches too


def test_head_falls_back_to_get_but_prefers_its_own_route():
    router = docker_like_router()
    assert which(router, "HEAD", "/images/x/json")[0] == "GET /images/{name:path}/json"
    assert which(router, "HEAD", "/_ping")[0] == "HEAD /_ping"


def test_exact_routes_win_over_patterns_regardless_of_order():
    router = Router([Route("GET", "/c/{id}", named("param")), Route("GET", "/c/json", named("x"))])
    assert which(router, "GET", "/c/json")[0] == "x"
    assert which(router, "GET", "/c/other") == ("param", {"id": "other"})


def test_one_segment_patterns_are_tried_before_path_patterns():
    router = Router(
        [Route("GET", "/i/{name:path}", named("greedy")), Route("GET", "/i/{id}/x", named("one"))]
    )
    assert which(router, "GET", "/i/a/x") == ("one", {"id": "a"})
    assert which(router, "GET", "/i/a/b/x") == ("greedy", {"name": "a/b/x"})


def test_pattern_starting_with_a_parameter():
    router = Router([Route("GET", "/{kind}/info", named("k"))])
    assert which(router, "GET", "/nodes/info") == ("k", {"kind": "nodes"})


def test_duplicate_and_relative_routes_are_refused():
    router = Router([Route("GET", "/a", named("a")), Route("GET", "/b/{x}", named("b"))])
    with pytest.raises(ValueError, match="duplicate"):
        router.add(Route("GET", "/a", named("a2")))
    with pytest.raises(ValueError, match="duplicate"):
        router.add(Route("GET", "/b/{x}", named("b2")))
    with pytest.raises(ValueError, match="must start"):
        router.add(Route("GET", "b", named("b3")))


def test_resolve_returns_the_route_with_its_min_version():
    route = Route("POST", "/build/prune", named("p"), min_version=(1, 39))
    found, params = Router([route]).resolve("POST", "/build/prune")
    assert found is route and params == {}


def test_compile_pattern_escapes_literals():
    regex = compile_pattern("/a.b/{x}")
    assert regex is not None
    assert regex.fullmatch("/a.b/1") and not regex.fullmatch("/aXb/1")
    assert compile_pattern("/plain") is None


def test_routes_lists_everything_registered():
    assert len(docker_like_router().routes()) == 16


@pytest.mark.parametrize(
    ("path", "version", "rest"),
    [
        ("/v1.45/containers/json", (1, 45), "/containers/json"),
        ("/v1.24/_ping", (1, 24), "/_ping"),
        ("/v1.40", (1, 40), "/"),
        ("/containers/json", (1, 45), "/containers/json"),
        ("/volumes/x", (1, 45), "/volumes/x"),
        ("/v1.45x/a", (1, 45), "/v1.45x/a"),
        ("/v2/a", (1, 45), "/v2/a"),
    ],
)
def test_split_version(path, version, rest):
    assert split_version(path) == (version, rest)


def test_check_version_bounds_use_dockers_messages():
    check_version((1, 45))
    check_version((1, 24))
    with pytest.raises(InvalidParameter) as err:
        check_version((1, 46))
    assert str(err.value) == (
        "client version 1.46 is too new. Maximum supported API version is 1.45"
    )
    with pytest.raises(InvalidParameter) as err:
        check_version((1, 23))
    assert str(err.value) == (
        "client version 1.23 is too old. Minimum supported API version is 1.24, "
        "please upgrade your client to a newer version"
    )


def test_check_version_route_minimum():
    check_version((1, 41), (1, 41))
    with pytest.raises(InvalidParameter, match="needs api version 1.41"):
        check_version((1, 40), (1, 41))
