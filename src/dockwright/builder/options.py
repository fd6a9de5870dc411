"""The options of one build, as `POST /build` gives them. Pure data."""

from __future__ import annotations

from dataclasses import dataclass, field

from dockwright.types.buildssh import SshForward


@dataclass(frozen=True)
class BuildOptions:
    dockerfile: str = "Dockerfile"
    tags: tuple[str, ...] = ()
    build_args: dict[str, str] = field(default_factory=dict)
    target: str = ""
    no_cache: bool = False
    quiet: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    remove: bool = True  # rm: remove intermediate containers after a successful step
    force_remove: bool = False  # forcerm: also after a failed one
    network_mode: str = "default"  # for RUN containers
    extra_hosts: tuple[str, ...] = ()
    shm_size: int = 0
    cache_from: tuple[str, ...] = ()  # images whose build history may serve as cache
    pull: bool = False  # refresh FROM images from their registry before building
    platform: str = ""  # os/arch[/variant] the FROM images must match
    # build secrets by id (`--secret`), mounted by `RUN --mount=type=secret`; never in a layer,
    # the history, the cache key, or a repr that could reach a log
    secrets: dict[str, bytes] = field(default_factory=dict, repr=False)
    # the client's SSH agent forwarding session (`--ssh`), for `RUN --mount=type=ssh`
    ssh: SshForward | None = None
    # a context sync session (engine/builds/ctxsync.py): the body holds only what changed
    context_session: str = ""
