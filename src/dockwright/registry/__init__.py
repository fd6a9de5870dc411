"""The registry server (`dockwright registry serve`): an OCI distribution spec v1.1 registry.

A separate application: it shares only `dockwright.errors` with the engine. Modules, bottom up:

    names      repository, tag and digest grammar (pure)
    errors     the spec's error codes, each with its HTTP status, in one table
    layout     where everything lives under --root (pure path functions)
    manifests  manifest parsing and the descriptors a manifest references (pure)
    paging     n/last pagination and Link headers (pure)
    ranges     Range / Content-Range parsing (pure)
    tokens     HS256 bearer tokens and scopes (pure)
    blobs      the global blob store: each blob once, verified, fsynced, renamed into place
    uploads    upload sessions (chunked, resumable) that end in a blob commit
    repos      per-repository links, manifests, tags, referrers; the catalog
    core       the set of stores a handler works with
    gc         online garbage collection (collect, pure plan, synchronous sweep)
    auth       htpasswd (bcrypt) files
    access     what a request needs; ACLs; basic and bearer-token authenticators
    proxy      pull-through cache of upstream registries
    metrics    Prometheus counters for /metrics
    http       a small h11 server that streams blob bodies with sendfile
    routes_*   handlers: HTTP in, storage calls, HTTP out
    app        the route table, authorization, read-only mode, error responses
    cli        argument and config-file parsing, the serve loop, the gc loop
"""

from __future__ import annotations
