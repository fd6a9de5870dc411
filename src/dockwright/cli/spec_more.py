"""Grammar of the network commands and of the registry/archive image commands."""

from __future__ import annotations

from dockwright.cli.flags import Flag
from dockwright.cli.spec_common import FILTER, FORMAT, FORMAT_F, PRUNE_FILTER, B, L, S
from dockwright.cli.spec_common import cmd as _c

QUIET = Flag("quiet", "q", B, help="Suppress verbose output")
ALL_TAGS = Flag("all-tags", "a", B, help="Download all tagged images in the repository")
PLATFORM = Flag("platform", "", S, "", "Set platform if server is multi-platform capable")

NETWORK = [
    _c(
        "create",
        "create [OPTIONS] NETWORK",
        "Create a network",
        "cmd_network:create",
        Flag("attachable", "", B, help="Enable manual container attachment"),
        Flag("driver", "d", S, "bridge", "Driver to manage the Network"),
        Flag(
            "gateway", "", L, help="IPv4 or IPv6 Gateway for the master subnet", type_name="strings"
        ),
        Flag("internal", "", B, help="Restrict external access to the network"),
        Flag("ip-range", "", L, help="Allocate container ip from a sub-range", type_name="strings"),
        Flag("ipam-driver", "", S, "default", "IP Address Management Driver"),
        Flag("ipam-opt", "", L, help="Set IPAM driver specific options", type_name="map"),
        Flag("ipv6", "", B, help="Enable or disable IPv6 address assignment"),
        Flag("label", "", L, help="Set metadata on a network"),
        Flag("opt", "o", L, help="Set driver specific options", type_name="map"),
        Flag("scope", "", S, "", "Control the network's scope"),
        Flag("subnet", "", L, help="Subnet in CIDR format", type_name="strings"),
        min_args=1,
        max_args=1,
    ),
    _c(
        "ls",
        "ls [OPTIONS]",
        "List networks",
        "cmd_network:ls",
        FILTER,
        FORMAT,
        Flag("no-trunc", "", B, help="Do not truncate the output"),
        Flag("quiet", "q", B, help="Only display network IDs"),
        max_args=0,
    ),
    _c(
        "rm",
        "rm NETWORK [NETWORK...]",
        "Remove one or more networks",
        "cmd_network:rm",
        Flag("force", "f", B, help="Do not error if the network does not exist"),
        min_args=1,
    ),
    _c(
        "inspect",
        "inspect [OPTIONS] NETWORK [NETWORK...]",
        "Display detailed information on one or more networks",
        "cmd_network:inspect",
        FORMAT_F,
        Flag("verbose", "v", B, help="Verbose output for diagnostics"),
        min_args=1,
    ),
    _c(
        "prune",
        "prune [OPTIONS]",
        "Remove all unused networks",
        "cmd_network:prune",
        PRUNE_FILTER,
        Flag("force", "f", B, help="Do not prompt for confirmation"),
        max_args=0,
    ),
    _c(
        "connect",
        "connect [OPTIONS] NETWORK CONTAINER",
        "Connect a container to a network",
        "cmd_network:connect",
        Flag(
            "alias", "", L, help="Add network-scoped alias for the container", type_name="strings"
        ),
        Flag("ip", "", S, "", 'IPv4 address (e.g., "172.30.100.104")'),
        Flag("ip6", "", S, "", 'IPv6 address (e.g., "2001:db8::33")'),
        min_args=2,
        max_args=2,
    ),
    _c(
        "disconnect",
        "disconnect [OPTIONS] NETWORK CONTAINER",
        "Disconnect a container from a network",
        "cmd_network:disconnect",
        Flag("force", "f", B, help="Force the container to disconnect from a network"),
        min_args=2,
        max_args=2,
    ),
]

IMAGE_REGISTRY = [
    _c(
        "pull",
        "pull [OPTIONS] NAME[:TAG|@DIGEST]",
        "Download an image from a registry",
        "cmd_registry:pull",
        ALL_TAGS,
        Flag("disable-content-trust", "", B, True, "Skip image verification"),
        PLATFORM,
        QUIET,
        min_args=1,
        max_args=1,
    ),
    _c(
        "push",
        "push [OPTIONS] NAME[:TAG]",
        "Upload an image to a registry",
        "cmd_registry:push",
        Flag("all-tags", "a", B, help="Push all tags of an image to the repository"),
        Flag("disable-content-trust", "", B, True, "Skip image signing"),
        PLATFORM,
        QUIET,
        min_args=1,
        max_args=1,
    ),
    _c(
        "save",
        "save [OPTIONS] IMAGE [IMAGE...]",
        "Save one or more images to a tar archive (streamed to STDOUT by default)",
        "cmd_registry:save",
        Flag("output", "o", S, "", "Write to a file, instead of STDOUT"),
        PLATFORM,
        min_args=1,
    ),
    _c(
        "load",
        "load [OPTIONS]",
        "Load an image from a tar archive or STDIN",
        "cmd_registry:load",
        Flag("input", "i", S, "", "Read from tar archive file, instead of STDIN"),
        PLATFORM,
        Flag("quiet", "q", B, help="Suppress the load output"),
        max_args=0,
    ),
]

LOGIN = [
    _c(
        "login",
        "login [OPTIONS] [SERVER]",
        "Authenticate to a registry",
        "cmd_registry:login",
        Flag("password", "p", S, "", "Password or Personal Access Token (PAT)"),
        Flag("password-stdin", "", B, help="Take the Password or Personal Access Token from stdin"),
        Flag("username", "u", S, "", "Username"),
        max_args=1,
    ),
    _c(
        "logout",
        "logout [SERVER]",
        "Log out from a registry",
        "cmd_registry:logout",
        max_args=1,
    ),
]
