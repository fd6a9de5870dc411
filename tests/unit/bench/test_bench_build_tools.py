"""The pure helpers of bench/build.sh and bench/build_profile.sh (bench/builddata/).

They decide what the benchmark reports: the context both engines build, the per-step times,
the goal verdicts and the profile's top functions; a slip there misreports every run.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[3] / "bench" / "builddata"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", DATA / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_context_is_about_20_mb_of_a_few_big_and_many_small_files(tmp_path: Path) -> None:
    total = load("make_context").make(tmp_path)
    assert 19e6 < total < 22e6
    sizes = [p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()]
    assert sum(s > 1 << 20 for s in sizes) >= 3
    assert sum(s < 10 << 10 for s in sizes) >= 1000
    assert (tmp_path / "app" / "main.sh").stat().st_mode & 0o111


def test_context_is_the_same_bytes_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mc = load("make_context")
    monkeypatch.setattr(mc, "BIG", [("big/a.bin", 4096, "random"), ("big/t.txt", 4096, "text")])
    monkeypatch.setattr(mc, "SMALL_DIRS", 2)
    mc.make(tmp_path / "a")
    mc.make(tmp_path / "b")
    a = digest_tree(tmp_path / "a")
    assert a == digest_tree(tmp_path / "b")
    assert len(a) == 2 + 2 * mc.SMALL_PER_DIR + 4


def test_step_durations_from_a_stamped_log(tmp_path: Path) -> None:
    steptimes = load("steptimes")
    log = tmp_path / "out.log"
    log.write_text(
        "0.100\tSending build context to Docker daemon  21.8MB\n"
        "1.500\tStep 1/2 : FROM busybox\n"
        "1.600\t ---> 1a2b\r progress\n"
        "1.700\tStep 2/2 : RUN true\n"
        "2.900\tSuccessfully tagged x:latest\n"
        f"4.000\t{steptimes.EOF}\n"
    )
    got, texts = steptimes.durations(str(log))
    assert got["context"] == pytest.approx(1.5)
    assert got["1"] == pytest.approx(0.2)
    assert got["2"] == pytest.approx(1.2)
    assert got[steptimes.TAIL] == pytest.approx(1.1)
    assert got["total"] == pytest.approx(4.0)
    assert texts == {"1": "FROM busybox", "2": "RUN true"}


def write_raw(path: Path, rows: list[tuple[str, str, float]]) -> None:
    lines = ["round\tengine\top\tseconds\timage"]
    lines += [f"{i}\t{e}\t{op}\t{s}\tsha256:x" for i, (e, op, s) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")


def test_verdicts_compare_with_the_faster_dockerd_builder(tmp_path: Path) -> None:
    summary = load("summary")
    raw = tmp_path / "raw.tsv"
    write_raw(raw, [("dw", "cold", 4.0), ("dk", "cold", 10.0), ("bk", "cold", 4.5),
                    ("dw", "cached", 1.0), ("dk", "cached", 3.0), ("bk", "cached", 2.5)])  # fmt: skip
    samples, _ = summary.medians(str(raw))
    cold, cached = summary.verdicts(samples)[2:]
    assert "dockerd BuildKit" in cold and "| 0.89 |" in cold and "missed" in cold
    assert "dockerd BuildKit" in cached and "| 0.40 |" in cached and "| met |" in cached


def test_verdicts_without_buildkit_use_the_legacy_builder(tmp_path: Path) -> None:
    summary = load("summary")
    raw = tmp_path / "raw.tsv"
    write_raw(raw, [("dw", "cold", 4.0), ("dk", "cold", 5.0), ("dw", "cached", 1.0),
                    ("dk", "cached", 1.0)])  # fmt: skip
    samples, _ = summary.medians(str(raw))
    cold, cached = summary.verdicts(samples)[2:]
    assert "legacy" in cold and "| 0.80 |" in cold and "| met |" in cold
    assert "| 1.00 |" in cached and "missed" in cached


def test_profile_top_skips_idle_stacks_and_counts_recursion_once(tmp_path: Path) -> None:
    spytop = load("spytop")
    raw = tmp_path / "p.spy"
    raw.write_text(
        "main (dockwright/daemon.py:130);select (selectors.py:468) 50\n"
        "_worker (concurrent/futures/thread.py:83);unpack (dockwright/builder/context.py:42);"
        "makefile (tarfile.py:2463) 30\n"
        "walk (dockwright/builder/context.py:9);walk (dockwright/builder/context.py:12) 10\n"
    )
    spytop.IDLE.add("selectors.py:select")
    inclusive, self_, total = spytop.load(str(raw))
    assert total == 40
    assert inclusive["dockwright/builder/context.py:unpack"] == 30
    assert inclusive["dockwright/builder/context.py:walk"] == 10
    assert self_["tarfile.py:makefile"] == 30
    assert "dockwright/daemon.py:main" not in inclusive
