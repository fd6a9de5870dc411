"""Every command's grammar (docker's usage lines, flags and aliases) and where it is handled.

Keys are canonical paths ("container run"); `ROUTES` maps what users type to them, so
`docker run`, `docker container run` and `docker container ls`/`ps` share one definition.
Handlers are "module:function" strings, imported only when the command runs.
"""

from __future__ import annotations

from dockwright.cli.flags import Command, Flag

S, N, L, B = "str", "int", "list", "bool"
FORMAT = Flag("format", "", S, "", "Format output using a custom template", "string")
FORMAT_F = Flag("format", "f", S, "", "Format output using a custom template", "string")
FILTER = Flag(
    "filter", "f", L, help="Filter output based on conditions provided", type_name="filter"
)
PRUNE_FILTER = Flag(
    "filter", "", L, help='Provide filter values (e.g. "until=<timestamp>")', type_name="filter"
)
SIGNAL = Flag("signal", "s", S, "", "Signal to send to the container")
TIMEOUT = Flag("timeout", "t", N, None, "Seconds to wait before killing the container", "int")
DETACH_KEYS = Flag("detach-keys", "", S, "", "Override the key sequence for detaching a container")
M = "dockwright.cli."


def _c(name: str, usage: str, summary: str, handler: str, *flags: Flag, **kw: object) -> Command:
    return Command(name, usage, summary, flags, M + handler, **kw)  # type: ignore[arg-type]


def _lazy(name: str, usage: str, summary: str, handler: str, flags: str, **kw: object) -> Command:
    """A command whose (many) flags live in spec_run and load only when it runs."""
    return Command(name, usage, summary, M + flags, M + handler, **kw)  # type: ignore[arg-type]


_CONTAINER = [
    _lazy(
        "run",
        "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
        "Create and run a new container from an image",
        "cmd_run:run",
        "spec_run:RUN_FLAGS",
        interspersed=False,
        min_args=1,
    ),
    _lazy(
        "create",
        "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
        "Create a new container",
        "cmd_run:create",
        "spec_run:CREATE_FLAGS",
        interspersed=False,
        min_args=1,
    ),
    _c(
        "start",
        "start [OPTIONS] CONTAINER [CONTAINER...]",
        "Start one or more stopped containers",
        "cmd_run:start",
        Flag("attach", "a", B, help="Attach STDOUT/STDERR and forward signals"),
        Flag("checkpoint", "", S, "", "Restore from this checkpoint"),
        Flag("checkpoint-dir", "", S, "", "Use a custom checkpoint storage directory"),
        DETACH_KEYS,
        Flag("interactive", "i", B, help="Attach container's STDIN"),
        min_args=1,
    ),
    _c(
        "attach",
        "attach [OPTIONS] CONTAINER",
        "Attach local standard input, output, and error streams to a running container",
        "cmd_run:attach",
        DETACH_KEYS,
        Flag("no-stdin", "", B, help="Do not attach STDIN"),
        Flag("sig-proxy", "", B, True, "Proxy all received signals to the process"),
        min_args=1,
        max_args=1,
    ),
    _c(
        "exec",
        "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
        "Execute a command in a running container",
        "cmd_exec:exec_",
        Flag("detach", "d", B, help="Detached mode: run command in the background"),
        DETACH_KEYS,
        Flag("env", "e", L, help="Set environment variables"),
        Flag("env-file", "", L, help="Read in a file of environment variables"),
        Flag("interactive", "i", B, help="Keep STDIN open even if not attached"),
        Flag("privileged", "", B, help="Give extended privileges to the command"),
        Flag("tty", "t", B, help="Allocate a pseudo-TTY"),
        Flag("user", "u", S, "", "Username or UID (format: <name|uid>[:<group|gid>])"),
        Flag("workdir", "w", S, "", "Working directory inside the container"),
        interspersed=False,
        min_args=2,
    ),
    _c(
        "stop",
        "stop [OPTIONS] CONTAINER [CONTAINER...]",
        "Stop one or more running containers",
        "cmd_lifecycle:stop",
        SIGNAL,
        TIMEOUT,
        Flag("time", "", N, None, "", hidden=True),
        min_args=1,
    ),
    _c(
        "kill",
        "kill [OPTIONS] CONTAINER [CONTAINER...]",
        "Kill one or more running containers",
        "cmd_lifecycle:kill",
        SIGNAL,
        min_args=1,
    ),
    _c(
        "restart",
        "restart [OPTIONS] CONTAINER [CONTAINER...]",
        "Restart one or more containers",
        "cmd_lifecycle:restart",
        SIGNAL,
        TIMEOUT,
        Flag("time", "", N, None, "", hidden=True),
        min_args=1,
    ),
    _c(
        "rm",
        "rm [OPTIONS] CONTAINER [CONTAINER...]",
        "Remove one or more containers",
        "cmd_lifecycle:rm",
        Flag("force", "f", B, help="Force the removal of a running container (uses SIGKILL)"),
        Flag("link", "l", B, help="Remove the specified link"),
        Flag("volumes", "v", B, help="Remove anonymous volumes associated with the container"),
        min_args=1,
    ),
    _c(
        "ls",
        "ps [OPTIONS]",
        "List containers",
        "cmd_ps:ps",
        Flag("all", "a", B, help="Show all containers (default shows just running)"),
        FILTER,
        FORMAT,
        Flag("last", "n", N, -1, "Show n last created containers (includes all states)"),
        Flag("latest", "l", B, help="Show the latest created container (includes all states)"),
        Flag("no-trunc", "", B, help="Don't truncate output"),
        Flag("quiet", "q", B, help="Only display container IDs"),
        Flag("size", "s", B, help="Display total file sizes"),
        max_args=0,
    ),
    _c(
        "logs",
        "logs [OPTIONS] CONTAINER",
        "Fetch the logs of a container",
        "cmd_logs:logs",
        Flag("details", "", B, help="Show extra details provided to logs"),
        Flag("follow", "f", B, help="Follow log output"),
        Flag("since", "", S, "", "Show logs since timestamp or relative (e.g. 42m for 42 minutes)"),
        Flag("tail", "n", S, "all", "Number of lines to show from the end of the logs"),
        Flag("timestamps", "t", B, help="Show timestamps"),
        Flag(
            "until", "", S, "", "Show logs before a timestamp or relative (e.g. 42m for 42 minutes)"
        ),
        min_args=1,
        max_args=1,
    ),
    _c(
        "inspect",
        "inspect [OPTIONS] CONTAINER [CONTAINER...]",
        "Display detailed information on one or more containers",
        "cmd_inspect:container_inspect",
        FORMAT_F,
        Flag("size", "s", B, help="Display total file sizes"),
        min_args=1,
    ),
    _c(
        "top",
        "top CONTAINER [ps OPTIONS]",
        "Display the running processes of a container",
        "cmd_query:top",
        interspersed=False,
        min_args=1,
    ),
    _c(
        "wait",
        "wait CONTAINER [CONTAINER...]",
        "Block until one or more containers stop, then print their exit codes",
        "cmd_lifecycle:wait",
        min_args=1,
    ),
    _c(
        "cp",
        "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|- | SRC_PATH|- CONTAINER:DEST_PATH",
        "Copy files/folders between a container and the local filesystem",
        "cmd_cp:cp",
        Flag("archive", "a", B, help="Archive mode (copy all uid/gid information)"),
        Flag("follow-link", "L", B, help="Always follow symbol link in SRC_PATH"),
        Flag("quiet", "q", B, help="Suppress progress output during copy"),
        min_args=2,
        max_args=2,
    ),
    _c(
        "diff",
        "diff CONTAINER",
        "Inspect changes to files or directories on a container's filesystem",
        "cmd_query:diff",
        min_args=1,
        max_args=1,
    ),
    _c(
        "export",
        "export [OPTIONS] CONTAINER",
        "Export a container's filesystem as a tar archive",
        "cmd_cp:export",
        Flag("output", "o", S, "", "Write to a file, instead of STDOUT"),
        min_args=1,
        max_args=1,
    ),
    _c(
        "rename",
        "rename CONTAINER NEW_NAME",
        "Rename a container",
        "cmd_lifecycle:rename",
        min_args=2,
        max_args=2,
    ),
    _c(
        "pause",
        "pause CONTAINER [CONTAINER...]",
        "Pause all processes within one or more containers",
        "cmd_lifecycle:pause",
        min_args=1,
    ),
    _c(
        "unpause",
        "unpause CONTAINER [CONTAINER...]",
        "Unpause all processes within one or more containers",
        "cmd_lifecycle:unpause",
        min_args=1,
    ),
    _lazy(
        "update",
        "update [OPTIONS] CONTAINER [CONTAINER...]",
        "Update configuration of one or more containers",
        "cmd_lifecycle:update",
        "spec_run:UPDATE_FLAGS",
        min_args=1,
    ),
    _c(
        "stats",
        "stats [OPTIONS] [CONTAINER...]",
        "Display a live stream of container(s) resource usage statistics",
        "cmd_stats:stats",
        Flag("all", "a", B, help="Show all containers (default shows just running)"),
        FORMAT,
        Flag("no-stream", "", B, help="Disable streaming stats and only pull the first result"),
        Flag("no-trunc", "", B, help="Do not truncate output"),
    ),
    _c(
        "port",
        "port CONTAINER [PRIVATE_PORT[/PROTO]]",
        "List port mappings or a specific mapping for the container",
        "cmd_query:port",
        min_args=1,
        max_args=2,
    ),
    _c(
        "prune",
        "prune [OPTIONS]",
        "Remove all stopped containers",
        "cmd_lifecycle:prune",
        PRUNE_FILTER,
        Flag("force", "f", B, help="Do not prompt for confirmation"),
        max_args=0,
    ),
    _c(
        "commit",
        "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
        "Create a new image from a container's changes",
        "cmd_image:commit",
        Flag("author", "a", S, "", 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'),
        Flag("change", "c", L, help="Apply Dockerfile instruction to the created image"),
        Flag("message", "m", S, "", "Commit message"),
        Flag("pause", "p", B, True, "Pause container during commit"),
        min_args=1,
        max_args=2,
    ),
]

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
        "bootstrap [OPTIONS] busybox",
        "Build a base image offline (busybox from Debian's busybox-static)",
        "cmd_bootstrap:bootstrap",
        Flag("tag", "", S, "", "Name and tag of the image (default NAME:latest)"),
        Flag("busybox", "", S, "/bin/busybox", "The static busybox binary to use"),
        min_args=1,
        max_args=1,
    ),
]

_SYSTEM = [
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

COMMANDS: dict[str, Command] = {
    **{f"container {c.name}": c for c in _CONTAINER},
    **{f"image {c.name}": c for c in _IMAGE},
    **{f"system {c.name}": c for c in _SYSTEM},
}

_SHORTCUTS = {
    "ps": "container ls",
    "images": "image ls",
    "rmi": "image rm",
    "tag": "image tag",
    "history": "image history",
    "import": "image import",
    "version": "system version",
    "info": "system info",
    "events": "system events",
    "inspect": "system inspect",
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
    "image remove": "image rm",
}

ROUTES: dict[str, str] = {
    **{k: k for k in COMMANDS if k not in ("system version", "system inspect")},
    **_SHORTCUTS,
    **{name: f"container {name}" for name in _CONTAINER_SHORT},
    **_ALIASES,
}

GROUPS = {"container": "Manage containers", "image": "Manage images", "system": "Manage Docker"}

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
