"""Pure planning for container creation: merge the request with the image config and validate."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from dockwright.errors import InvalidParameter
from dockwright.runtime.seccomp import check_security_opts
from dockwright.types.container import ContainerConfig, HealthConfig, HostSettings, MountSpec

NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RESTART_NAMES = ("", "no", "always", "unless-stopped", "on-failure")


def validate_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise InvalidParameter(
            f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )
    return name.lstrip("/")


def merge_env(
    image_env: list[str] | tuple[str, ...], request_env: tuple[str, ...]
) -> tuple[str, ...]:
    """Image env first, request entries override by key; keeps first-seen order."""
    merged: dict[str, str] = {}
    for entry in (*image_env, *request_env):
        key = entry.split("=", 1)[0]
        if not key:
            raise InvalidParameter(f"invalid environment variable: {entry}")
        merged[key] = entry
    return tuple(merged.values())


def merge_config(request: ContainerConfig, image: dict[str, Any]) -> ContainerConfig:
    """Apply Docker's rules: the request's values win; an Entrypoint override drops the image Cmd."""
    entrypoint = request.entrypoint
    cmd = request.cmd
    if entrypoint is None:
        entrypoint = tuple(image.get("Entrypoint") or ()) or None
        if cmd is None:
            cmd = tuple(image.get("Cmd") or ()) or None
    elif entrypoint in ((), ("",)):
        entrypoint = None
    env = merge_env(image.get("Env") or [], request.env)
    if not any(e.startswith("PATH=") for e in env):
        env = (DEFAULT_PATH, *env)
    labels = {**(image.get("Labels") or {}), **request.labels}
    health = request.healthcheck or _image_health(image.get("Healthcheck"))
    return replace(
        request,
        entrypoint=entrypoint,
        cmd=cmd,
        env=env,
        working_dir=request.working_dir or image.get("WorkingDir") or "",
        user=request.user or image.get("User") or "",
        labels=labels,
        stop_signal=request.stop_signal or image.get("StopSignal") or None,
        healthcheck=health,
        exposed_ports=tuple(sorted({*request.exposed_ports, *(image.get("ExposedPorts") or {})})),
        volumes=tuple(sorted({*request.volumes, *(image.get("Volumes") or {})})),
        on_build=tuple(image.get("OnBuild") or ()),
    )


def _image_health(raw: dict[str, Any] | None) -> HealthConfig | None:
    if not raw or not raw.get("Test"):
        return None
    return HealthConfig(
        test=tuple(raw["Test"]),
        interval=raw.get("Interval", 0),
        timeout=raw.get("Timeout", 0),
        retries=raw.get("Retries", 0),
        start_period=raw.get("StartPeriod", 0),
    )


def command_line(config: ContainerConfig) -> tuple[str, tuple[str, ...]]:
    """Path and Args as Docker reports them; no command at all is a 400."""
    argv = (*(config.entrypoint or ()), *(config.cmd or ()))
    if not argv:
        raise InvalidParameter("no command specified")
    return argv[0], tuple(argv[1:])


def parse_bind(spec: str) -> MountSpec:
    """`/host:/ctr[:ro|rw|z|Z|shared|slave|private|rshared|rslave|rprivate,…]` (named volumes are later)."""
    parts = spec.split(":")
    if len(parts) < 2 or len(parts) > 3 or not parts[0] or not parts[1]:
        raise InvalidParameter(f"invalid volume specification: '{spec}'")
    source, target = parts[0], parts[1]
    if not source.startswith("/"):
        raise InvalidParameter(
            f"invalid volume specification: '{spec}': named volumes are not supported yet"
        )
    if not target.startswith("/"):
        raise InvalidParameter(
            f"invalid volume specification: '{spec}': invalid mount config: "
            f"invalid mount path: '{target}' mount path must be absolute"
        )
    read_only, propagation = False, ""
    for opt in parts[2].split(",") if len(parts) == 3 else []:
        if opt in ("ro", "rw"):
            read_only = opt == "ro"
        elif opt in ("shared", "rshared", "slave", "rslave", "private", "rprivate"):
            propagation = opt
        elif opt in ("z", "Z", "nocopy", "consistent", "cached", "delegated"):
            continue
        else:
            raise InvalidParameter(f"invalid volume specification: '{spec}': invalid mode: {opt}")
    return MountSpec("bind", target, source, read_only, propagation, create_source=True)


def tmpfs_mounts(tmpfs: dict[str, str]) -> list[MountSpec]:
    """HostConfig.Tmpfs {"/run": "rw,size=64m,mode=1777"}."""
    mounts = []
    for target, opts in tmpfs.items():
        size, mode, read_only = 0, 0, False
        for opt in filter(None, opts.split(",")):
            key, _, value = opt.partition("=")
            if key == "size":
                size = parse_size(value)
            elif key == "mode":
                mode = int(value, 8)
            elif key == "ro":
                read_only = True
        mounts.append(
            MountSpec("tmpfs", target, "tmpfs", read_only, tmpfs_size=size, tmpfs_mode=mode)
        )
    return mounts


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([bkmgt]?)b?", text.strip().lower())
    if not match:
        raise InvalidParameter(f"invalid size: '{text}'")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def all_mounts(host: HostSettings) -> list[MountSpec]:
    """Binds, Mounts and Tmpfs as one list; duplicate targets are a 400 like Docker's."""
    mounts = [parse_bind(b) for b in host.binds] + list(host.mounts) + tmpfs_mounts(host.tmpfs)
    seen: set[str] = set()
    for m in mounts:
        if not m.target.startswith("/"):
            raise InvalidParameter(f"invalid mount config: mount path must be absolute: {m.target}")
        target = m.target.rstrip("/") or "/"
        if target in seen:
            raise InvalidParameter(f"Duplicate mount point: {target}")
        seen.add(target)
        if m.type not in ("bind", "tmpfs"):
            raise InvalidParameter(f"mount type {m.type} is not supported yet")
    return mounts


def validate_host(host: HostSettings, runtimes: dict[str, str]) -> None:
    if host.restart_policy.name not in RESTART_NAMES:
        raise InvalidParameter(f"invalid restart policy '{host.restart_policy.name}'")
    if host.auto_remove and host.restart_policy.name not in ("", "no"):
        raise InvalidParameter("can't create 'AutoRemove' container with restart policy")
    if host.restart_policy.maximum_retry_count < 0:
        raise InvalidParameter("invalid restart policy: maximum retry count can't be negative")
    if host.runtime and host.runtime not in runtimes:
        raise InvalidParameter(f"unknown or invalid runtime name: {host.runtime}")
    res = host.resources
    if res.memory and res.memory < 6 * 1024 * 1024:
        raise InvalidParameter("Minimum memory limit allowed is 6MB")
    if res.memory_swap > 0 and res.memory and res.memory_swap < res.memory:
        raise InvalidParameter(
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        )
    if res.nano_cpus and (res.cpu_period or res.cpu_quota):
        raise InvalidParameter("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    all_mounts(host)
    check_security_opts(host.security_opt)


def hosts_file(hostname: str, domainname: str, extra: tuple[str, ...], host_net: bool) -> str:
    """/etc/hosts as Docker writes it for a container without a bridge address."""
    lines = [
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "ff00::0\tip6-mcastprefix",
        "ff02::1\tip6-allnodes",
        "ff02::2\tip6-allrouters",
    ]
    for entry in extra:
        name, _, addr = entry.partition(":")
        if not name or not addr:
            raise InvalidParameter(f'invalid argument "{entry}" for "--add-host" flag')
        lines.append(f"{addr}\t{name}")
    if not host_net:
        fqdn = f"{hostname}.{domainname}" if domainname else hostname
        names = f"{fqdn} {hostname}" if domainname else hostname
        lines.append(f"127.0.1.1\t{names}")
    return "\n".join(lines) + "\n"


def resolv_conf(
    host_text: str, dns: tuple[str, ...], search: tuple[str, ...], options: tuple[str, ...]
) -> str:
    """The host's resolv.conf with --dns/--dns-search/--dns-option overrides applied."""
    kept = []
    for line in host_text.splitlines():
        word = line.split(maxsplit=1)[0] if line.split() else ""
        if (word == "nameserver" and dns) or (word in ("search", "domain") and search):
            continue
        if word == "options" and options:
            continue
        kept.append(line)
    kept += [f"nameserver {d}" for d in dns]
    if search:
        kept.append("search " + " ".join(search))
    if options:
        kept.append("options " + " ".join(options))
    return "\n".join(kept) + "\n"


def with_swap_default(host: HostSettings) -> HostSettings:
    """dockerd's default: a memory limit without a swap limit allows as much swap again."""
    r = host.resources
    if r.memory > 0 and r.memory_swap == 0:
        return replace(host, resources=replace(r, memory_swap=2 * r.memory))
    return host
