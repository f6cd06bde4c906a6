"""rft_core.kernel.runtime: one object for a run's settings and the resources its graders share."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from rft_core import Grader, Result, load_spec
from rft_core.kernel.runtime import Runtime, default_runtime


class Closable:
    """A resource that records its release."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    def close(self) -> None:
        self.log.append(self.name)


class SeesRuntime(Grader):
    """Reports the settings of the runtime it grades with."""

    type = "sees_runtime"

    def evaluate(self, sample, item):
        runtime = self.runtime
        return Result(1.0, metadata={"cpus": runtime.cpus, "no_cache": runtime.no_cache, "id": id(runtime)})


def test_shared_makes_a_resource_once_per_key():
    calls = []

    def make():
        calls.append(1)
        return object()

    with Runtime() as runtime:
        first = runtime.shared(("model", "cpu"), make)
        assert runtime.shared(("model", "cpu"), make) is first  # shared, not made again
        assert runtime.shared(("model", "cuda"), make) is not first  # another key makes its own
    assert len(calls) == 2


def test_close_releases_resources_newest_first_and_the_runtime_can_be_used_again():
    log: list[str] = []
    runtime = Runtime()
    with runtime:
        runtime.shared("pool", lambda: Closable(log, "pool"))
        runtime.shared("loop", lambda: Closable(log, "loop"))
        runtime.shared("plain", dict)  # nothing to close
    assert log == ["loop", "pool"]
    again = runtime.shared("pool", lambda: Closable(log, "pool again"))
    assert again.name == "pool again"  # made afresh after close()
    runtime.close()
    assert log == ["loop", "pool", "pool again"]


def test_resources_are_released_at_exit_without_close(tmp_path):
    marker = tmp_path / "closed"
    program = (
        "from rft_core.kernel.runtime import Runtime\n"
        "class Marks:\n"
        f"    def close(self): open({str(marker)!r}, 'w').close()\n"
        "runtime = Runtime()\n"
        "runtime.shared('marks', Marks)\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True, timeout=60, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert marker.exists()


def _make_in_child(runtime: Runtime, queue) -> None:
    queue.put(runtime.shared("thing", lambda: os.getpid()))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_makes_its_own_resources_and_leaves_the_parents_alone():
    log: list[str] = []
    with Runtime() as runtime:
        runtime.shared("thing", lambda: os.getpid())
        runtime.shared("closable", lambda: Closable(log, "parent's"))
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_make_in_child, args=(runtime, queue))
        child.start()
        child_pid = queue.get(timeout=60)
        child.join(60)
        assert child_pid == child.pid  # made in the child, not inherited
        assert runtime.shared("thing", lambda: -1) == os.getpid()
    assert log == ["parent's"]  # closed once, by the parent


@pytest.mark.parametrize("cpus", [0, -2, 1.5, True, "2"])
def test_cpus_must_be_a_whole_number_of_at_least_one(cpus):
    with pytest.raises(ValueError, match="cpus must be a whole number of at least 1"):
        Runtime(cpus=cpus)


def test_cpus_defaults_to_the_cores_this_process_may_use():
    assert Runtime().cpus == len(os.sched_getaffinity(0))
    assert Runtime(cpus=3).cpus == 3


def test_settings_give_each_worker_its_share_and_pickling_keeps_the_settings_only(tmp_path):
    runtime = Runtime(base_folder=tmp_path, no_cache=True, cpus=6)
    assert runtime.settings(workers=4) == {"base_folder": tmp_path, "no_cache": True, "cpus": 1}
    assert Runtime(**runtime.settings(workers=3)).cpus == 2
    runtime.shared("loaded", dict)["x"] = 1
    clone = pickle.loads(pickle.dumps(runtime))
    assert (clone.base_folder, clone.no_cache, clone.cpus) == (tmp_path, True, 6)
    assert clone.shared("loaded", dict) == {}  # resources stay with their process


@pytest.mark.parametrize(
    ("value", "no_cache"),
    [("1", True), ("true", True), ("yes", True), ("0", False), ("", False)],
    ids=["1", "true", "yes", "0", "empty"],
)
def test_from_environment_reads_the_users_no_cache_switch(monkeypatch, value, no_cache):
    monkeypatch.setenv("RFT_NO_CACHE", value)
    assert Runtime.from_environment().no_cache is no_cache
    assert Runtime.from_environment(no_cache=True).no_cache is True  # the entry point's setting wins


def test_resolve_starts_relative_paths_from_the_base_folder(tmp_path):
    assert Runtime(base_folder=tmp_path).resolve("data/x.txt") == tmp_path / "data" / "x.txt"
    assert Runtime(base_folder=tmp_path).resolve("/abs/x.txt") == Path("/abs/x.txt")
    assert Runtime().resolve("x.txt") == Path("x.txt")


def test_a_grader_uses_the_runtime_it_is_bound_to_and_so_do_its_children(registry):
    registry.register(SeesRuntime, plugin="test")
    spec = {"type": "multi", "graders": {"a": {"type": "sees_runtime"}, "b": {"type": "sees_runtime"}},
            "calculate_output": "a + b"}
    with Runtime(cpus=5, no_cache=True) as runtime:
        grader = load_spec(spec, registry, runtime=runtime)
        result = grader.grade("x", {})
    assert result.reward == 2.0
    assert [sub.metadata for sub in result.sub_rewards.values()] == [
        {"cpus": 5, "no_cache": True, "id": id(runtime)}
    ] * 2
    assert SeesRuntime().runtime is default_runtime()  # unbound: the process's default
