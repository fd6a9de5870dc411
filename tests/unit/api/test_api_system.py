"""/version and /info shapes against the v1.45 swagger, and `-H` address parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockwright.api.routes.system import info_json, system_routes, version_json
from dockwright.api.server import ListenAddress, parse_host
from dockwright.errors import InvalidParameter
from dockwright.types.system import (
    ComponentVersion,
    RegistryIndex,
    RuntimeInfo,
    SwarmState,
    SystemInfo,
    VersionInfo,
    parse_api_version,
)

pytestmark = pytest.mark.unit

SWAGGER = Path("/work/shared/reference/engine-api-v1.45.yaml")


def swagger_properties(definition: str) -> set[str]:
    """Top-level property names of a swagger definition (a small indentation-based reader)."""
    lines = SWAGGER.read_text().splitlines()
    start = lines.index(f"  {definition}:")
    names: set[str] = set()
    in_props = False
    for line in lines[start + 1 :]:
        if line.startswith("  ") and not line.startswith("   "):
            break  # the next definition
        if line == "    properties:":
            in_props = True
        elif in_props and line.startswith("      ") and not line.startswith("       "):
            if line.strip().endswith(":"):
                names.add(line.strip()[:-1])
        elif in_props and line.startswith("    ") and not line.startswith("     "):
            in_props = False
    return names


def test_version_json_matches_swagger_and_clients():
    v = VersionInfo(
        kernel_version="6.1.0",
        git_commit="abc",
        build_time="2024-01-01T00:00:00Z",
        extra_components=(ComponentVersion("crun", "1.8.1", {"GitCommit": "x"}),),
    )
    out = version_json(v)
    assert set(out) <= swagger_properties("SystemVersion")
    assert swagger_properties("SystemVersion") - set(out) == {"Experimental"}
    assert out["ApiVersion"] == "1.45" and out["MinAPIVersion"] == "1.24"
    assert out["Version"] == "27.0.0" and out["GoVersion"] == "n/a"
    assert out["Os"] == "linux" and out["KernelVersion"] == "6.1.0"
    engine, crun = out["Components"]
    assert engine["Name"] == "Engine" and engine["Version"] == "27.0.0"
    assert engine["Details"]["ApiVersion"] == "1.45"
    assert engine["Details"]["Experimental"] == "false"
    assert crun == {"Name": "crun", "Version": "1.8.1", "Details": {"GitCommit": "x"}}
    assert version_json(VersionInfo(experimental=True))["Experimental"] is True


def test_info_json_has_every_linux_field_of_the_swagger():
    info = SystemInfo(
        id="ID1",
        name="host1",
        containers=3,
        containers_running=1,
        containers_paused=1,
        containers_stopped=1,
        images=2,
        driver_status=(("Backing Filesystem", "extfs"),),
        runtimes=(RuntimeInfo("crun", "/usr/bin/crun"), RuntimeInfo("runc", "runc", ("--x",))),
        registry_indexes=(RegistryIndex("docker.io", official=True),),
        swarm=SwarmState(),
        mem_total=1 << 30,
        ncpu=4,
    )
    out = info_json(info)
    missing = swagger_properties("SystemInfo") - set(out)
    # Windows-only, deprecated or omitted-when-unsupported fields:
    assert missing <= {"KernelMemoryTCP", "ProductLicense", "DefaultAddressPools"}
    assert set(out) <= swagger_properties("SystemInfo")
    assert out["ID"] == "ID1" and out["Name"] == "host1"
    assert (out["Containers"], out["ContainersRunning"], out["Images"]) == (3, 1, 2)
    assert out["Driver"] == "overlay2" and out["DriverStatus"] == [["Backing Filesystem", "extfs"]]
    assert out["CgroupDriver"] == "cgroupfs" and out["CgroupVersion"] == "1"
    assert out["LoggingDriver"] == "json-file" and out["OSType"] == "linux"
    assert out["Runtimes"] == {
        "crun": {"path": "/usr/bin/crun"},
        "runc": {"path": "runc", "runtimeArgs": ["--x"]},
    }
    assert out["DefaultRuntime"] == "crun"
    assert out["Swarm"]["LocalNodeState"] == "inactive"
    assert out["RegistryConfig"]["IndexConfigs"]["docker.io"]["Official"] is True
    assert out["Plugins"]["Volume"] == ["local"]
    assert (out["NCPU"], out["MemTotal"]) == (4, 1 << 30)


def test_system_routes_table():
    class Backend:
        async def version(self) -> VersionInfo:
            return VersionInfo()

        async def info(self) -> SystemInfo:
            return SystemInfo()

    table = {(r.method, r.pattern) for r in system_routes(Backend())}
    assert table == {
        ("GET", "/_ping"),
        ("HEAD", "/_ping"),
        ("GET", "/version"),
        ("GET", "/info"),
    }


def test_parse_api_version():
    assert parse_api_version("1.45") == (1, 45)
    with pytest.raises(ValueError):
        parse_api_version("1.x")


@pytest.mark.parametrize(
    ("text", "tls", "addr"),
    [
        ("unix:///run/d.sock", False, ListenAddress("unix", path="/run/d.sock")),
        ("tcp://127.0.0.1:2375", False, ListenAddress("tcp", host="127.0.0.1", port=2375)),
        ("tcp://127.0.0.1", False, ListenAddress("tcp", host="127.0.0.1", port=2375)),
        ("tcp://127.0.0.1", True, ListenAddress("tcp", host="127.0.0.1", port=2376)),
        ("tcp://:0", False, ListenAddress("tcp", host="0.0.0.0", port=0)),
        ("tcp://[::1]:80", False, ListenAddress("tcp", host="::1", port=80)),
    ],
)
def test_parse_host(text, tls, addr):
    assert parse_host(text, tls=tls) == addr


@pytest.mark.parametrize(
    "text", ["unix://rel.sock", "fd://", "http://x", "tcp://h:port", "tcp://h:1/path", "/x.sock"]
)
def test_parse_host_rejects(text):
    with pytest.raises(InvalidParameter, match="invalid host"):
        parse_host(text)
