"""Grammar of `build` / `image build` (docker's legacy builder flags)."""

from __future__ import annotations

from dockwright.cli.flags import Flag
from dockwright.cli.spec_common import B, L, S
from dockwright.cli.spec_common import cmd as _c

BUILD = _c(
    "build",
    "build [OPTIONS] PATH | URL | -",
    "Build an image from a Dockerfile",
    "cmd_build:build",
    Flag("add-host", "", L, help="Add a custom host-to-IP mapping (host:ip)", type_name="list"),
    Flag("build-arg", "", L, help="Set build-time variables", type_name="list"),
    Flag("cache-from", "", L, help="Images to consider as cache sources", type_name="strings"),
    Flag("file", "f", S, "", "Name of the Dockerfile (Default is 'PATH/Dockerfile')", "string"),
    Flag("force-rm", "", B, help="Always remove intermediate containers"),
    Flag("iidfile", "", S, "", "Write the image ID to the file", "string"),
    Flag("label", "", L, help="Set metadata for an image", type_name="list"),
    Flag("network", "", S, "default", "Set the networking mode for the RUN instructions"),
    Flag("no-cache", "", B, help="Do not use cache when building the image"),
    Flag("platform", "", S, "", "Set platform if server is multi-platform capable", "string"),
    Flag("progress", "", S, "auto", "Set type of progress output (auto, plain, tty)", "string"),
    Flag("pull", "", B, help="Always attempt to pull a newer version of the image"),
    Flag("quiet", "q", B, help="Suppress the build output and print image ID on success"),
    Flag("rm", "", B, True, "Remove intermediate containers after a successful build"),
    Flag(
        "secret",
        "",
        L,
        help='Secret to expose to the build (format: "id=mysecret[,src=/local/secret]")',
        type_name="stringArray",
    ),
    Flag("shm-size", "", S, "", "Size of /dev/shm", "bytes"),
    Flag(
        "ssh",
        "",
        L,
        help='SSH agent socket or keys to expose to the build (format: "default|<id>[=<socket>|<key>[,<key>]]")',
        type_name="stringArray",
    ),
    Flag(
        "tag", "t", L, help="Name and optionally a tag in the 'name:tag' format", type_name="list"
    ),
    Flag("target", "", S, "", "Set the target build stage to build.", "string"),
    min_args=1,
    max_args=1,
)

BUILDER = [
    _c(
        "prune",
        "prune [OPTIONS]",
        "Remove build cache (and RUN --mount=type=cache directories)",
        "cmd_builder:prune",
        Flag("all", "a", B, help="Remove all unused build cache, not just dangling ones"),
        Flag("filter", "", L, help='Provide filter values (e.g. "until=24h")', type_name="filter"),
        Flag("force", "f", B, help="Do not prompt for confirmation"),
        Flag("keep-storage", "", S, "", "Amount of disk space to keep for cache", "bytes"),
        max_args=0,
    ),
    _c(
        "cache",
        "cache ls | export [-o FILE] [ID...] | import FILE|-",
        "Manage RUN --mount=type=cache directories (export/import for CI runners)",
        "cmd_builder:cache",
        Flag("output", "o", S, "", "Write the export to a file, instead of STDOUT", "string"),
        min_args=1,
    ),
]
