"""Prometheus text metrics at `/metrics`: requests by method, route and status; bytes served."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from dockwright.registry.http import Response

if TYPE_CHECKING:
    from dockwright.registry.core import Stores


class Metrics:
    """Counters kept in memory; cheap enough to update on every request."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.bytes_sent: Counter[str] = Counter()

    def observe(self, method: str, route: str, response: Response) -> None:
        self.requests[(method, route, response.status)] += 1
        if method != "HEAD":
            self.bytes_sent[route] += len(response.body)

    def render(self) -> str:
        lines = [
            "# HELP registry_http_requests_total HTTP requests by method, route and status.",
            "# TYPE registry_http_requests_total counter",
        ]
        for (method, route, status), count in sorted(self.requests.items()):
            lines.append(
                f'registry_http_requests_total{{method="{method}",route="{route}",'
                f'status="{status}"}} {count}'
            )
        lines += [
            "# HELP registry_http_response_bytes_total Response body bytes by route.",
            "# TYPE registry_http_response_bytes_total counter",
        ]
        for route, count in sorted(self.bytes_sent.items()):
            lines.append(f'registry_http_response_bytes_total{{route="{route}"}} {count}')
        return "\n".join(lines) + "\n"

    def response(self, stores: Stores) -> Response:
        body = self.render().encode()
        return Response(200, [("Content-Type", "text/plain; version=0.0.4")], body)


__all__ = ["Metrics"]
