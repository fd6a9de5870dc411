"""What client and daemon share of a build context sync (a dockwright extension). Pure.

engine/builds/ctxsync.py has the protocol: the build request names the session an offer
(`POST /build/context`) opened in this header.
"""

from __future__ import annotations

HEADER = "X-Dockwright-Context-Session"
OFFER_PATH = "/build/context"
