import pytest

from dockwright.engine.containers.plan import (
    command_line,
    hosts_file,
    merge_config,
    parse_bind,
    parse_size,
    resolv_conf,
    validate_host,
    validate_name,
)
from dockwright.errors import InvalidParameter
from dockwright.types.container import ContainerConfig, HostSettings, Resources, RestartPolicy

pytestmark = pytest.mark.unit

IMAGE = {"Cmd": ["sh"], "Entrypoint": None, "Env": ["PATH=/bin", "A=1"], "WorkingDir": "/srv"}


def test_request_cmd_overrides_image_cmd_and_env_merges_by_key():
    cfg = merge_config(ContainerConfig(image="b", cmd=("echo", "hi"), env=("A=2", "B=3")), IMAGE)
    assert cfg.cmd == ("echo", "hi")
    assert cfg.env == ("PATH=/bin", "A=2", "B=3")
    assert cfg.working_dir == "/srv"
    assert command_line(cfg) == ("echo", ("hi",))


def test_entrypoint_override_drops_image_cmd():
    image = {**IMAGE, "Entrypoint": ["/init"], "Cmd": ["--serve"]}
    cfg = merge_config(ContainerConfig(image="b", entrypoint=("top",)), image)
    assert (cfg.entrypoint, cfg.cmd) == (("top",), None)
    cfg = merge_config(ContainerConfig(image="b"), image)
    assert command_line(cfg) == ("/init", ("--serve",))


def test_empty_entrypoint_resets_and_default_path_is_added():
    cfg = merge_config(
        ContainerConfig(image="b", entrypoint=("",), cmd=("ls",)), {"Entrypoint": ["x"]}
    )
    assert cfg.entrypoint is None
    assert cfg.env[0].startswith("PATH=/usr/local/sbin")


def test_no_command_is_invalid():
    with pytest.raises(InvalidParameter, match="no command specified"):
        command_line(merge_config(ContainerConfig(image="b"), {}))


@pytest.mark.parametrize("name", ["web", "/web", "a1_b.c-d"])
def test_valid_names(name):
    assert validate_name(name) == name.lstrip("/")


@pytest.mark.parametrize("name", ["", "a", "-x", "a b", "x/y"])
def test_invalid_names(name):
    with pytest.raises(InvalidParameter, match="Invalid container name"):
        validate_name(name)


def test_bind_parsing():
    m = parse_bind("/src:/dst:ro,rshared")
    assert (m.source, m.target, m.read_only, m.propagation) == ("/src", "/dst", True, "rshared")
    with pytest.raises(InvalidParameter, match="invalid mode"):
        parse_bind("/a:/b:bogus")
    with pytest.raises(InvalidParameter, match="must be absolute"):
        parse_bind("/a:b")


def test_sizes():
    assert parse_size("64m") == 64 << 20
    assert parse_size("1g") == 1 << 30
    assert parse_size("100") == 100
    with pytest.raises(InvalidParameter):
        parse_size("lots")


def test_host_validation():
    validate_host(HostSettings(), {"crun": "/x"})
    bad = [
        HostSettings(restart_policy=RestartPolicy("sometimes")),
        HostSettings(auto_remove=True, restart_policy=RestartPolicy("always")),
        HostSettings(runtime="kata"),
        HostSettings(resources=Resources(memory=1024)),
        HostSettings(binds=("/a:/x", "/b:/x")),
    ]
    for host in bad:
        with pytest.raises(InvalidParameter):
            validate_host(host, {"crun": "/x"})


def test_hosts_file_has_localhost_extra_hosts_and_own_name():
    text = hosts_file("abc", "", ("db:10.0.0.5",), host_net=False)
    assert "127.0.0.1\tlocalhost" in text
    assert "10.0.0.5\tdb" in text
    assert text.endswith("127.0.1.1\tabc\n")
    with pytest.raises(InvalidParameter):
        hosts_file("abc", "", ("nocolon",), host_net=False)


def test_resolv_conf_overrides():
    host = "nameserver 1.1.1.1\nsearch lan\noptions ndots:2\n"
    assert resolv_conf(host, (), (), ()) == host
    out = resolv_conf(host, ("9.9.9.9",), ("corp",), ())
    assert "1.1.1.1" not in out and "nameserver 9.9.9.9" in out and "search corp" in out
    assert "options ndots:2" in out


def test_swap_defaults_to_twice_the_memory():
    from dockwright.engine.containers.plan import with_swap_default

    host = with_swap_default(HostSettings(resources=Resources(memory=64 << 20)))
    assert host.resources.memory_swap == 128 << 20
    kept = with_swap_default(HostSettings(resources=Resources(memory=64 << 20, memory_swap=-1)))
    assert kept.resources.memory_swap == -1
