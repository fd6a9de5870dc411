"""RUN --mount / --network parsing (BuildKit's grammar and messages), the secrets header codec,
and the pure helpers of cache mounts and mount stubs."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dockwright.builder.cache import content_digest
from dockwright.builder.mounts import (
    RunMount,
    parse_mount,
    parse_ram,
    resolve,
    run_mounts,
    run_network,
    step_flags,
)
from dockwright.builder.parser import parse
from dockwright.engine.builds.cachemounts import CacheMounts, cache_key
from dockwright.engine.builds.mounts import context_entries, missing_secrets, remove_stubs
from dockwright.errors import DockwrightError, InvalidParameter, NotFound
from dockwright.types import buildsecrets

pytestmark = pytest.mark.unit


def run_ins(text: str):
    return parse(f"FROM x\n{text}\n").instructions[1]


# --- parse_mount: every option ---------------------------------------------------------------


def test_default_type_is_bind_and_read_only():
    m = resolve(parse_mount("target=/src"), "/")
    assert (m.type, m.target, m.readonly) == ("bind", "/src", True)


@pytest.mark.parametrize("key", ["target", "dst", "destination"])
def test_target_aliases(key):
    assert parse_mount(f"type=cache,{key}=/c").target == "/c"


@pytest.mark.parametrize("key", ["source", "src"])
def test_source_aliases(key):
    assert parse_mount(f"{key}=lib,target=/l").source == "lib"


def test_from_id_sharing_mode_uid_gid():
    m = parse_mount("type=cache,id=pip,target=/c,from=base,sharing=locked,mode=0700,uid=10,gid=20")
    assert (m.id, m.from_, m.sharing, m.mode, m.uid, m.gid) == ("pip", "base", "locked", 0o700,
                                                                10, 20)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "readonly"),
    [("ro", True), ("readonly", True), ("rw", False), ("readwrite", False),
     ("ro=false", False), ("readonly=true", True), ("rw=1", False), ("readwrite=F", True)],
)  # fmt: skip
def test_readonly_forms(text, readonly):
    assert resolve(parse_mount(f"type=bind,target=/t,{text}"), "/").readonly is readonly


def test_read_only_defaults_per_type():
    assert resolve(parse_mount("type=cache,target=/c"), "/").readonly is False
    assert resolve(parse_mount("type=tmpfs,target=/t"), "/").readonly is False
    assert resolve(parse_mount("type=secret,id=s"), "/").readonly is True


def test_tmpfs_size():
    assert parse_mount("type=tmpfs,target=/t,size=64m").size == 64 << 20
    assert parse_ram("size", "1.5g") == int(1.5 * (1 << 30))
    assert parse_ram("size", "100") == 100


def test_secret_required_forms():
    assert parse_mount("type=secret,id=s,required").required is True
    assert parse_mount("type=secret,id=s,required=true").required is True
    assert parse_mount("type=secret,id=s,required=false").required is False


def test_values_expand_but_from_does_not():
    ins = run_ins("RUN --mount=type=cache,target=$DIR,id=${ID:-x} true")
    (m,) = run_mounts(ins, {"DIR": "/cache"}, "\\", "/")
    assert (m.target, m.id) == ("/cache", "x")
    with pytest.raises(InvalidParameter, match="'from' doesn't support variable expansion"):
        parse_mount("type=bind,from=$STAGE,target=/t")


def test_csv_quoting():
    assert parse_mount('type=bind,"source=a,b",target=/t').source == "a,b"


def test_keys_and_types_are_case_insensitive():
    m = parse_mount("TYPE=CACHE,Target=/c,SHARING=Private")
    assert (m.type, m.target, m.sharing) == ("cache", "/c", "private")


# --- resolve: defaults that depend on the stage -----------------------------------------------


def test_relative_target_uses_workdir():
    assert resolve(parse_mount("type=cache,target=cache"), "/app").target == "/app/cache"


def test_cache_id_defaults_to_target_and_sharing_to_shared():
    m = resolve(parse_mount("type=cache,target=/root/.cache/"), "/")
    assert (m.id, m.sharing) == ("/root/.cache", "shared")


def test_secret_defaults():
    m = resolve(parse_mount("type=secret,id=token"), "/")
    assert (m.id, m.target) == ("token", "/run/secrets/token")
    m = resolve(parse_mount("type=secret,target=/etc/key"), "/")
    assert (m.id, m.target) == ("key", "/etc/key")
    m = resolve(parse_mount("type=secret,source=aws"), "/")
    assert (m.id, m.source, m.target) == ("aws", "", "/run/secrets/aws")


def test_root_target_is_refused():
    with pytest.raises(InvalidParameter, match='invalid mount target "/"'):
        resolve(parse_mount("type=cache,target=/"), "/")
    with pytest.raises(InvalidParameter, match='invalid mount target "/"'):
        resolve(parse_mount("type=tmpfs"), "/")


# --- error messages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("type=volume,target=/t", 'unsupported mount type "volume"'),
        ("type=cache,target=/t,sharing=all", 'unsupported sharing value "all"'),
        ("type=cache,target=/t,colour=red", "unexpected key 'colour' in 'colour=red'"),
        ("type=cache,targte=/t", "unexpected key 'targte' in 'targte=/t' (did you mean target?)"),
        ("type=cache,target=/t,bogus", "invalid field 'bogus' must be a key=value pair"),
        ("type=cache,target=/t,required", "unexpected key 'required' for mount type 'cache'"),
        ("type=bind,required=true,target=/t", "unexpected key 'required' for mount type 'bind'"),
        ("type=cache,target=/t,size=1m", "unexpected key 'size' for mount type 'cache'"),
        ("size=1m,type=tmpfs,target=/t", "unexpected key 'size' for mount type 'bind'"),
        ("type=tmpfs,target=/t,size=lots", "invalid value for size: lots"),
        ("type=bind,target=/t,ro=maybe", "invalid value for ro: maybe"),
        ("type=bind,target=/t,rw=2", "invalid value for rw: 2"),
        ("type=secret,id=s,required=yes", "invalid value for required: yes"),
        ("type=cache,target=/t,mode=999", "invalid value 999 for mode"),
        ("type=cache,target=/t,uid=-1", "invalid value -1 for uid"),
        ("type=cache,target=/t,gid=x", "invalid value x for gid"),
        ("type=bind,target=/t,mode=0755", 'mode not allowed for "bind" type mounts'),
        ("type=tmpfs,target=/t,uid=1", 'uid not allowed for "tmpfs" type mounts'),
        ("type=bind,target=/t,gid=1", 'gid not allowed for "bind" type mounts'),
        ("type=secret,id=s,from=stage", "secret mount should not have a from"),
        ("type=secret,id=s,sharing=shared", "secret mount should not define sharing"),
        ("type=secret", "invalid secret mount. one of source, target required"),
        ("type=secret,id=a,source=b", "both source and id can't be set"),
        ("type=bind,target=/t,sharing=locked", "invalid cache sharing set for bind mount"),
        ("type=tmpfs,target=/t,from=x", "tmpfs mount should not have a from"),
        ('type=bind,"target=/t', "failed to parse csv mounts"),
    ],
)
def test_errors(text, message):
    with pytest.raises(InvalidParameter) as info:
        parse_mount(text)
    assert message in str(info.value)


def test_secret_sharing_message_comes_before_the_generic_one():
    with pytest.raises(InvalidParameter, match="secret mount should not define sharing"):
        parse_mount("type=secret,id=s,sharing=locked")


def test_duplicate_targets_are_refused():
    ins = run_ins("RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/c/ true")
    with pytest.raises(InvalidParameter, match="duplicate mount target /c"):
        run_mounts(ins, {}, "\\", "/")


# --- --network, stages, cache-key text --------------------------------------------------------


@pytest.mark.parametrize("mode", ["none", "host", "default"])
def test_network_modes(mode):
    assert run_network(run_ins(f"RUN --network={mode} true")) == mode


def test_network_default_and_errors():
    assert run_network(run_ins("RUN true")) == "default"
    with pytest.raises(InvalidParameter, match="unsupported network mode 'bridge'"):
        run_network(run_ins("RUN --network=bridge true"))


def test_step_flags_change_with_each_option_but_carry_no_content():
    base = resolve(parse_mount("type=cache,target=/c"), "/")
    other = resolve(parse_mount("type=cache,target=/c,sharing=locked"), "/")
    assert step_flags((base,), "default") != step_flags((other,), "default")
    assert step_flags((base,), "none") != step_flags((base,), "default")
    secret = resolve(parse_mount("type=secret,id=token"), "/")
    assert "token" in step_flags((secret,), "default")


def test_missing_required_secret_fails_with_buildkit_message():
    required = resolve(parse_mount("type=secret,id=token,required"), "/")
    optional = resolve(parse_mount("type=secret,id=other"), "/")
    missing_secrets((optional,), {})
    missing_secrets((required,), {"token": b"x"})
    with pytest.raises(DockwrightError, match="secret token: not found"):
        missing_secrets((required,), {})


def test_ssh_mounts_are_not_secrets():
    missing_secrets((resolve(parse_mount("type=ssh,required"), "/app"),), {})


# --- secrets header ---------------------------------------------------------------------------


def test_secrets_round_trip():
    secrets = {"token": b"s3cr\x00t", "a.b/c": b""}
    assert buildsecrets.decode(buildsecrets.encode(secrets)) == secrets
    assert buildsecrets.decode(None) == {}
    assert buildsecrets.decode("") == {}


def test_secret_header_format_is_documented_shape():
    value = buildsecrets.encode({"x": b"hi"})
    assert json.loads(base64.b64decode(value)) == {"x": base64.b64encode(b"hi").decode()}


def test_secret_limits_and_junk():
    with pytest.raises(InvalidParameter, match="secret big is too large"):
        buildsecrets.encode({"big": b"x" * (buildsecrets.MAX_SECRET_BYTES + 1)})
    many = {f"s{i}": b"x" * buildsecrets.MAX_SECRET_BYTES for i in range(2)}
    with pytest.raises(InvalidParameter, match="build secrets are too large"):
        buildsecrets.encode(many)
    with pytest.raises(InvalidParameter, match="invalid X-Dockwright-Build-Secrets"):
        buildsecrets.decode("not base64!")
    with pytest.raises(InvalidParameter, match="invalid X-Dockwright-Build-Secrets"):
        buildsecrets.decode(base64.b64encode(b"[1]").decode())
    with pytest.raises(InvalidParameter, match="invalid secret id ''"):
        buildsecrets.encode({"": b"x"})


# --- cache mounts and stubs (pure helpers on a temporary directory) ---------------------------


def test_cache_key_is_one_path_segment():
    assert "/" not in cache_key("/root/.cache") and len(cache_key("x")) == 64


def tree_digest(root: Path, source: str) -> str:
    return content_digest(context_entries(root, source))


def test_tree_digest_follows_content_not_mtime(tmp_path: Path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("one")
    first = tree_digest(tmp_path, "d")
    (tmp_path / "d" / "f").touch()
    assert tree_digest(tmp_path, "d") == first
    (tmp_path / "d" / "f").write_text("two")
    assert tree_digest(tmp_path, "d") != first
    assert tree_digest(tmp_path, "d/f") != tree_digest(tmp_path, "d")


def test_context_entries_name_files_by_their_context_path(tmp_path: Path):
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "mod.py").write_text("x = 1\n")
    (tmp_path / "top.txt").write_text("top\n")
    names = sorted(name for name, _mode, _digest in context_entries(tmp_path, "/src"))
    assert names == ["src", "src/pkg", "src/pkg/mod.py"]
    assert sorted(n for n, _m, _d in context_entries(tmp_path, "")) == [
        ".", "src", "src/pkg", "src/pkg/mod.py", "top.txt"
    ]  # fmt: skip
    assert [n for n, _m, _d in context_entries(tmp_path, "top.txt")] == ["top.txt"]
    with pytest.raises(InvalidParameter, match="failed to mount nope: not found"):
        context_entries(tmp_path, "nope")


def test_remove_stubs_keeps_real_content(tmp_path: Path):
    upper, lower = tmp_path / "upper", tmp_path / "lower"
    (upper / "run" / "secrets").mkdir(parents=True)
    (upper / "run" / "secrets" / "token").write_bytes(b"")
    (upper / "cache").mkdir()
    (upper / "var" / "lib").mkdir(parents=True)
    (upper / "var" / "written").write_text("kept")
    (lower / "var" / "lib").mkdir(parents=True)
    (upper / "full").mkdir()
    (upper / "full" / "x").write_text("data")
    remove_stubs(upper, [lower], ["/run/secrets/token", "/cache", "/var/lib", "/full"])
    assert not (upper / "run").exists()
    assert not (upper / "cache").exists()
    assert (upper / "var" / "lib").is_dir()  # exists in a lower layer: not a stub
    assert (upper / "var" / "written").read_text() == "kept"
    assert (upper / "full" / "x").exists()


# --- CacheMounts on a temporary directory: sharing, prune, export/import ----------------------


def _cache(target: str, sharing: str = "shared", cache_id: str = "") -> RunMount:
    return resolve(parse_mount(f"type=cache,target={target},sharing={sharing}"
                               + (f",id={cache_id}" if cache_id else "")), "/")  # fmt: skip


def test_shared_cache_is_one_directory_that_persists(tmp_path: Path):
    store = CacheMounts(tmp_path)

    async def scenario() -> tuple[Path, Path, Path]:
        async with store.use(_cache("/c")) as a, store.use(_cache("/c")) as b:
            (a / "f").write_text("x")
        async with store.use(_cache("/c")) as again:
            return a, b, again

    a, b, again = asyncio.run(scenario())
    assert a == b == again and (again / "f").read_text() == "x"
    assert a == store.cache_dir("/c") / "data"
    assert [(i.id, i.size > 0) for i in store.entries()] == [("/c", True)]


def test_private_cache_in_use_gives_a_throwaway_directory(tmp_path: Path):
    store = CacheMounts(tmp_path)

    async def scenario() -> tuple[Path, Path, bool]:
        async with store.use(_cache("/c", "private")) as first:
            async with store.use(_cache("/c", "private")) as second:
                (second / "tmp").write_text("gone")
            return first, second, second.exists()

    first, second, kept = asyncio.run(scenario())
    assert first != second and not kept and not (first / "tmp").exists()


def test_locked_cache_serialises_steps(tmp_path: Path):
    store = CacheMounts(tmp_path)
    order: list[str] = []

    async def step(name: str) -> None:
        async with store.use(_cache("/c", "locked")):
            order.append(f"{name}-in")
            await asyncio.sleep(0.01)
            order.append(f"{name}-out")

    async def scenario() -> None:
        await asyncio.gather(step("a"), step("b"))

    asyncio.run(scenario())
    assert order in (["a-in", "a-out", "b-in", "b-out"], ["b-in", "b-out", "a-in", "a-out"])


def test_prune_skips_caches_in_use(tmp_path: Path):
    store = CacheMounts(tmp_path)

    async def scenario() -> tuple[list[str], list[str]]:
        async with store.use(_cache("/idle")) as idle:
            (idle / "f").write_text("data")
        async with store.use(_cache("/busy")):
            removed, _ = store.prune()
        return removed, [i.id for i in store.entries()]

    removed, left = asyncio.run(scenario())
    assert removed == ["/idle"] and left == ["/busy"]


def test_export_import_round_trip_and_checks(tmp_path: Path):
    src, dst = CacheMounts(tmp_path / "a"), CacheMounts(tmp_path / "b")

    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        yield data

    async def scenario() -> tuple[bytes, list[str]]:
        async with src.use(_cache("/x", cache_id="pip")) as d:
            (d / "sub").mkdir()
            (d / "sub" / "f").write_text("cached")
            (d / "link").symlink_to("sub/f")
        tar = b"".join([c async for c in src.export_tar([])])
        return tar, await dst.import_tar(chunks(tar))

    tar, ids = asyncio.run(scenario())
    assert ids == ["pip"]
    data = dst.cache_dir("pip") / "data"
    assert (data / "sub" / "f").read_text() == "cached" and os.readlink(data / "link") == "sub/f"
    with pytest.raises(NotFound, match="no such cache mount: nope"):
        asyncio.run(_drain(src.export_tar(["nope"])))
    with pytest.raises(InvalidParameter, match="does not match its id"):
        asyncio.run(dst.import_tar(chunks(_archive("f" * 64, "pip"))))
    with pytest.raises(InvalidParameter, match="invalid cache mount archive: not a tar archive"):
        asyncio.run(dst.import_tar(chunks(b"junk" * 200)))
    assert (data / "sub" / "f").read_text() == "cached"  # failed imports changed nothing


def _archive(name: str, cache_id: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo(f"{name}/id")
        info.size = len(cache_id)
        tf.addfile(info, io.BytesIO(cache_id.encode()))
        folder = tarfile.TarInfo(f"{name}/data")
        folder.type = tarfile.DIRTYPE
        tf.addfile(folder)
    return buf.getvalue()


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    async for _ in chunks:
        pass


# --- `dockwright build --secret` parsing (client side) -----------------------------------------


def test_cli_secret_forms(tmp_path: Path):
    from dockwright.cli.buildsecret import SecretSpec, parse_secret, read_secret

    assert parse_secret("id=a,src=/f") == SecretSpec("a", "/f", "")
    assert parse_secret("id=a,source=/f,type=file") == SecretSpec("a", "/f", "")
    assert parse_secret("id=a,env=VAR") == SecretSpec("a", "", "VAR")
    assert parse_secret("type=env,id=a,src=VAR") == SecretSpec("a", "", "VAR")
    (tmp_path / "f").write_bytes(b"file")
    assert read_secret(SecretSpec("a", str(tmp_path / "f")), {}) == b"file"
    assert read_secret(SecretSpec("a", "", "VAR"), {"VAR": "env"}) == b"env"
    assert read_secret(SecretSpec("a"), {"a": "from-env"}) == b"from-env"


def test_cli_secret_errors(tmp_path: Path):
    from dockwright.cli.buildsecret import SecretSpec, parse_secret, read_secret, secret_headers
    from dockwright.cli.context import CommandExit

    for text, message in [
        ("id=a,colour=x", "unexpected key 'colour' in 'colour=x'"),
        ("id=a,type=ssh", 'unsupported secret type "ssh"'),
        ("id=a,bare", "invalid field 'bare' must be a key=value pair"),
        ("src=/f", "secret ID missing"),
    ]:
        with pytest.raises(CommandExit, match=message):
            parse_secret(text)
    with pytest.raises(CommandExit, match="environment variable VAR is not set"):
        read_secret(SecretSpec("a", "", "VAR"), {})
    with pytest.raises(CommandExit, match="failed to read secret a from .*: no such file"):
        read_secret(SecretSpec("a", str(tmp_path / "missing")), {})
    assert secret_headers([], {}) == {}
    headers = secret_headers(["id=a,env=V"], {"V": "x"})
    assert buildsecrets.decode(headers[buildsecrets.HEADER]) == {"a": b"x"}
