"""The python grader: OpenAI's grade(sample, item) contract, failures as statuses, and the sandbox holding.

Every escape test runs the attempt for real and checks from outside that nothing got
through (a listening socket that received nothing, a file that does not exist, a secret
that did not appear), not only that an error was reported.
"""

from __future__ import annotations

import os
import pickle
import socket
import textwrap
import threading

import pytest

from graders import python_grader
from graders.python_grader import PythonGrader
from rft_core import load_spec
from rft_core.errors import SpecError
from rft_core.openai_compat import export_openai, openai_issues, run_response
from rft_core.types import Status


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
        assert copy._worker is None
        assert copy.grade("a", {"reference_answer": "a"}).reward == 1.0
    finally:
        copy.close()


# --- failures --------------------------------------------------------------------------------


def test_exception_is_a_runtime_error_with_the_traceback(closing):
    result = closing("""
        def grade(sample, item):
            return item["missing"]
    """).grade("x", {})
    assert (result.status, result.reward) == (Status.ERROR, 0.0)
    assert result.metadata["error_code"] == "python_grader_runtime_error"
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
    assert result.metadata["error_code"] == "python_grader_runtime_error"
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
    assert result.metadata["error_code"] == "python_grader_parse_error"
    assert "defines no function grade(sample, item)" in result.reason
    flags = run_response(built, result, 0.0)["metadata"]["errors"]
    assert flags["python_grader_runtime_error"] is True


def test_a_load_error_is_remembered(closing):
    built = closing("grade = 42\n")
    first, second = built.grade("x", {}), built.grade("y", {})
    assert first.reason == second.reason
    assert built.started == 1  # the second sample did not start a worker to fail the same way


def test_a_module_body_that_never_finishes_is_a_timeout(closing, monkeypatch):
    monkeypatch.setattr(python_grader, "_STARTUP_GRACE", 0.5)
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
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
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
            listener.accept()  # nobody connected
    finally:
        listener.close()


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
    result = closing(f"def grade(sample, item):\n    {attempt}\n    return 1.0\n").grade("x", {})
    assert result.status is Status.ERROR
    assert "SandboxViolation" in result.reason


@pytest.mark.parametrize(
    ("isolation", "refusal"),
    [("none", "SandboxViolation: the python grader sandbox refuses writing"), ("sandbox", "FileNotFoundError")],
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
    assert refusal in result.reason
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
            with open("scratch.txt", "w") as handle:
                handle.write("ok")
            return 1.0
    """, isolation="none")
    assert built.grade("x", {}).status is Status.OK
    workdir = built._worker.workdir
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
    assert result.metadata["error_code"] == "timeout_error"
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
    assert result.metadata["error_code"] == "python_grader_runtime_error"
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


def test_gc_is_refused_in_the_default_mode(closing):
    # gc.get_objects() would reach the audit hook's function and its closure
    result = closing("def grade(sample, item):\n    import gc\n    return 1.0\n").grade("x", {})
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
    # without site_packages numpy cannot be found at all
    missing = closing("import numpy\ndef grade(sample, item):\n    return 1.0\n").grade("x", {})
    assert "ModuleNotFoundError: No module named 'numpy'" in missing.reason


def test_a_dropped_grader_leaves_no_process_or_directory():
    built = grader(EXACT, isolation="none")
    built.grade("a", {"reference_answer": "a"})
    process, workdir = built._worker.process, built._worker.workdir
    del built
    import gc

    gc.collect()
    assert process.poll() is not None
    assert not os.path.exists(workdir)


def test_a_forked_child_does_not_touch_the_parents_worker(closing):
    built = closing(EXACT)
    built.grade("a", {"reference_answer": "a"})
    parent_worker = built._worker
    pid = os.fork()
    if pid == 0:  # the child grades with a worker of its own and drops the parent's copy
        code = 0 if built.grade("a", {"reference_answer": "a"}).reward == 1.0 else 1
        built.close()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert built._worker is parent_worker and parent_worker.alive()
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
    assert (result.status, result.metadata["error_code"]) == (Status.ERROR, "python_grader_runtime_error")
    assert result.reason == "python: the grader's process wrote something other than one result: " \
        "b'not json\\n{\"reward\": 1.0}\\n'"
    assert built.grade("x", {}).reward == 1.0
    assert built.started == 1


def test_a_batch_with_a_source_that_fails_to_load_fails_each_sample_once(closing):
    built = closing("grade = None\n")
    results = built.grade_batch(["a", "b"], [{}, {}])
    assert [r.metadata["error_code"] for r in results] == ["python_grader_parse_error"] * 2
    assert built.started == 1
