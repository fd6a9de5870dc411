"""Every command's grammar (docker's usage lines, flags and aliases) and where it is handled.

Keys are canonical paths ("container run"); `ROUTES` maps what users type to them, so
`docker run`, `docker container run` and `docker container ls`/`ps` share one definition.
Handlers are "module:function" strings, imported only when the command runs.
"""

from __future__ import annotations

from dockwright.cli.flags import Command, Flag
from dockwright.cli.spec_build import BUILD, BUILDER
from dockwright.cli.spec_common import (
    FILTER,
    FORMAT,
    FORMAT_F,
    PRUNE_FILTER,
    B,
    L,
    S,
)
from dockwright.cli.spec_common import cmd as _c
from dockwright.cli.spec_container import CONTAINER as _CONTAINER
from dockwright.cli.spec_more import IMAGE_REGISTRY, LOGIN, NETWORK

_IMAGE = [
    _c(
        "ls",
        "images [OPTIONS] [REPOSITORY[:TAG]]",
        "List images",
        "cmd_image:images",
        Flag("all", "a", B, help="Show all images (default hides intermediate images)"),
        Flag("digests", "", B, help="Show digests"),
        FILTER,
        FORMAT,
        Flag("no-trunc", "", B, help="Don't truncate output"),
        Flag("quiet", "q", B, help="Only show image IDs"),
        Flag("tree", "", B, help="List multi-platform images as a tree (EXPERIMENTAL)"),
        max_args=1,
    ),
    _c(
        "tag",
        "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
        "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
        "cmd_image:tag",
        min_args=2,
        max_args=2,
    ),
    _c(
        "rm",
        "rmi [OPTIONS] IMAGE [IMAGE...]",
        "Remove one or more images",
        "cmd_image:rmi",
        Flag("force", "f", B, help="Force removal of the image"),
        Flag("no-prune", "", B, help="Do not delete untagged parents"),
        min_args=1,
    ),
    _c(
        "history",
        "history [OPTIONS] IMAGE",
        "Show the history of an image",
        "cmd_image:history",
        FORMAT,
        Flag("human", "H", B, True, "Print sizes and dates in human readable format", convert=None),
        Flag("no-trunc", "", B, help="Don't truncate output"),
        Flag("quiet", "q", B, help="Only show image IDs"),
        min_args=1,
        max_args=1,
    ),
    _c(
        "inspect",
        "inspect [OPTIONS] IMAGE [IMAGE...]",
        "Display detailed information on one or more images",
        "cmd_inspect:image_inspect",
        FORMAT_F,
        min_args=1,
    ),
    _c(
        "import",
        "import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
        "Import the contents from a tarball to create a filesystem image",
        "cmd_bootstrap:import_",
        Flag("change", "c", L, help="Apply Dockerfile instruction to the created image"),
        Flag("message", "m", S, "", "Set commit message for imported image"),
        Flag("platform", "", S, "", "Set platform if server is multi-platform capable"),
        min_args=1,
        max_args=2,
    ),
    _c(
        "prune",
        "prune [OPTIONS]",
        "Remove unused images",
        "cmd_image:prune",
        Flag("all", "a", B, help="Remove all unused images, not just dangling ones"),
        PRUNE_FILTER,
        Flag("force", "f", B, help="Do not prompt for confirmation"),
        max_args=0,
    ),
    _c(
        "bootstrap",
        "bootstrap [OPTIONS] busybox|debian:SUITE",
        "Build a base image: busybox offline, debian:SUITE with debootstrap",
        "cmd_bootstrap:bootstrap",
        Flag("tag", "", S, "", "Name and tag of the image (default NAME:latest)"),
        Flag("busybox", "", S, "/bin/busybox", "The static busybox binary to use"),
        Flag("mirror", "", S, "", "Debian mirror (default: the first one in the apt sources)"),
        min_args=1,
        max_args=1,
    ),
]

_SYSTEM = [
    _c(
        "df",
        "df [OPTIONS]",
        "Show docker disk usage",
        "cmd_df:df",
        FORMAT,
        Flag("verbose", "v", B, help="Show detailed information on space usage"),
        max_args=0,
    ),
    _c(
        "prune",
        "prune [OPTIONS]",
        "Remove unused data",
        "cmd_prune:system_prune",
        Flag("all", "a", B, help="Remove all unused images not just dangling ones"),
        PRUNE_FILTER,
        Flag("force", "f", B, help="Do not prompt for confirmation"),
        Flag("volumes", "", B, help="Prune anonymous volumes"),
        max_args=0,
    ),
    _c(
        "version",
        "version [OPTIONS]",
        "Show the Docker version information",
        "cmd_system:version",
        FORMAT_F,
        max_args=0,
    ),
    _c(
        "info",
        "info [OPTIONS]",
        "Display system-wide information",
        "cmd_system:info",
        FORMAT_F,
        max_args=0,
    ),
    _c(
        "events",
        "events [OPTIONS]",
        "Get real time events from the server",
        "cmd_system:events",
        FILTER,
        FORMAT,
        Flag("since", "", S, "", "Show all events created since timestamp"),
        Flag("until", "", S, "", "Stream events until this timestamp"),
        max_args=0,
    ),
    _c(
        "inspect",
        "inspect [OPTIONS] NAME|ID [NAME|ID...]",
        "Return low-level information on Docker objects",
        "cmd_inspect:inspect",
        FORMAT_F,
        Flag("size", "s", B, help="Display total file sizes if the type is container"),
        Flag("type", "", S, "", "Only inspect objects of the given type"),
        min_args=1,
    ),
]

_CONTEXT = [
    _c(
        "create",
        "create [OPTIONS] CONTEXT",
        "Create a context",
        "cmd_context:create",
        Flag("description", "", S, "", "Description of the context"),
        Flag("docker", "", S, "", "set the docker endpoint", "stringToString"),
        min_args=1,
        max_args=1,
    ),
    _c(
        "ls",
        "ls [OPTIONS]",
        "List contexts",
        "cmd_context:ls",
        FORMAT,
        Flag("quiet", "q", B, help="Only show context names"),
        max_args=0,
    ),
    _c(
        "use",
        "use CONTEXT",
        "Set the current docker context",
        "cmd_context:use",
        min_args=1,
        max_args=1,
    ),
    _c(
        "rm",
        "rm CONTEXT [CONTEXT...]",
        "Remove one or more contexts",
        "cmd_context:rm",
        Flag("force", "f", B, help="Force the removal of a context in use"),
        min_args=1,
    ),
    _c(
        "inspect",
        "inspect [OPTIONS] [CONTEXT] [CONTEXT...]",
        "Display detailed information on one or more contexts",
        "cmd_context:inspect",
        FORMAT_F,
    ),
    _c("show", "show", "Print the name of the current context", "cmd_context:show", max_args=0),
]

_COMPLETION = _c(
    "completion",
    "completion bash|zsh",
    "Generate the autocompletion script for the specified shell",
    "cmd_completion:completion",
    min_args=1,
    max_args=1,
)

COMMANDS: dict[str, Command] = {
    **{f"container {c.name}": c for c in _CONTAINER},
    **{f"image {c.name}": c for c in _IMAGE},
    **{f"system {c.name}": c for c in _SYSTEM},
    **{f"context {c.name}": c for c in _CONTEXT},
    **{f"image {c.name}": c for c in IMAGE_REGISTRY},
    "image build": BUILD,
    **{f"builder {c.name}": c for c in BUILDER},
    **{f"network {c.name}": c for c in NETWORK},
    **{f"system {c.name}": c for c in LOGIN},
    "completion": _COMPLETION,
}

# Commands docker has only at the top level (`docker login`, not `docker system login`).
_TOP_ONLY = ("system version", "system inspect", "system login", "system logout")

_SHORTCUTS = {
    "ps": "container ls",
    "build": "image build",
    "images": "image ls",
    "rmi": "image rm",
    "tag": "image tag",
    "history": "image history",
    "import": "image import",
    "version": "system version",
    "info": "system info",
    "events": "system events",
    "inspect": "system inspect",
    "pull": "image pull",
    "push": "image push",
    "save": "image save",
    "load": "image load",
    "login": "system login",
    "logout": "system logout",
}
_CONTAINER_SHORT = (
    "run",
    "create",
    "start",
    "attach",
    "exec",
    "stop",
    "kill",
    "restart",
    "rm",
    "logs",
    "top",
    "wait",
    "cp",
    "diff",
    "export",
    "rename",
    "pause",
    "unpause",
    "update",
    "stats",
    "port",
    "commit",
)
_ALIASES = {
    "container list": "container ls",
    "container ps": "container ls",
    "container remove": "container rm",
    "image list": "image ls",
    "context list": "context ls",
    "context remove": "context rm",
    "image remove": "image rm",
    "network list": "network ls",
    "network remove": "network rm",
}

ROUTES: dict[str, str] = {
    **{k: k for k in COMMANDS if k not in _TOP_ONLY},
    **_SHORTCUTS,
    **{name: f"container {name}" for name in _CONTAINER_SHORT},
    **_ALIASES,
}

GROUPS = {
    "builder": "Manage builds",
    "container": "Manage containers",
    "context": "Manage contexts",
    "image": "Manage images",
    "network": "Manage networks",
    "system": "Manage Docker",
}

GLOBAL = Command(
    "",
    "[OPTIONS] COMMAND [ARG...]",
    "A self-sufficient runtime for containers",
    (
        Flag("config", "", S, "", "Location of client config files"),
        Flag("context", "c", S, "", "Name of the context to use to connect to the daemon"),
        Flag("debug", "D", B, help="Enable debug mode"),
        Flag("host", "H", L, help="Daemon socket to connect to"),
        Flag("log-level", "l", S, "info", "Set the logging level"),
        Flag("tls", "", B, help="Use TLS; implied by --tlsverify"),
        Flag("tlscacert", "", S, "", "Trust certs signed only by this CA"),
        Flag("tlscert", "", S, "", "Path to TLS certificate file"),
        Flag("tlskey", "", S, "", "Path to TLS key file"),
        Flag("tlsverify", "", B, help="Use TLS and verify the remote"),
        Flag("version", "v", B, help="Print version information and quit"),
    ),
    interspersed=False,
)


def resolve(words: list[str]) -> tuple[str | None, list[str]]:
    """The canonical command for the leading words, and the words left for its parser."""
    if len(words) >= 2 and f"{words[0]} {words[1]}" in ROUTES:
        return ROUTES[f"{words[0]} {words[1]}"], words[2:]
    if words and words[0] in ROUTES:
        return ROUTES[words[0]], words[1:]
    return None, words
