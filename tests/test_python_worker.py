"""What the python grader makes of what a sample's process returns, writes or dies of: each case runs a
real grade in the sandbox and reads the Result (reward, status, reason)."""

from __future__ import annotations

import signal
import textwrap

import pytest

from graders.python.python_grader import PythonGrader
from rft_core import Status

# A sample that writes the item's bytes (latin-1) into its own result pipe and exits before the
# worker can write the real result: the bytes are all the grader reads.
WRITER = """
import os, sys

def grade(sample, item):
    if "write" in item:
        fd = sys._getframe(1).f_locals["result_fd"]  # the sample process's own code, holding its result pipe
        os.write(fd, item["write"].encode("latin-1"))
        os._exit(0)
    if "exit" in item:
        os._exit(item["exit"])
    if "signal" in item:
        import signal
        signal.raise_signal(item["signal"])
    return eval(item["value"])  # the test's own expressions, not a model's output
"""


@pytest.fixture(scope="module")
def writer():
    built = PythonGrader(source=textwrap.dedent(WRITER), timeout=2.0)
    yield built
    built.close()


def failure(result) -> str:
    """The reason of an error row, without the grader's 'python: ' prefix."""
    assert (result.status, result.reward, result.error_code) == (Status.ERROR, 0.0, "python_grader_runtime_error")
    return result.reason.removeprefix("python: ")


@pytest.mark.parametrize(
    ("value", "reward"),
    [
        ("0.5", 0.5),  # a float passes through
        ("1", 1.0),  # an int becomes a float
        ("2.5", 2.5),  # outside [0, 1] is kept: OpenAI documents no clamp
    ],
    ids=["float", "int", "above-one"],
)
def test_numbers_are_rewards(writer, value, reward):
    result = writer.grade("x", {"value": value})
    assert (result.status, result.reward) == (Status.OK, reward)
    assert type(result.reward) is float


def test_a_returned_value_is_shown_short_and_never_raises(writer):
    # other invalid values (bool, str, nan, inf): tests/test_python_grader.py::test_invalid_reward
    unprintable = "type('Unprintable', (), {'__repr__': lambda self: 1 / 0})()"
    assert failure(writer.grade("x", {"value": unprintable})) == "grade() returned Unprintable <unprintable>, not a float"
    message = failure(writer.grade("x", {"value": "'x' * 1000"}))
    assert message == f"grade() returned str {('x' * 1000)!r:.197}..., not a float"


@pytest.mark.parametrize(
    ("data", "reward"),
    [
        ('{"reward": 0.5}\n', 0.5),
        ('{"reward": 1.0}\n', 1.0),
    ],
    ids=["half", "one"],
)
def test_one_well_formed_result_is_accepted(writer, data, reward):
    result = writer.grade("x", {"write": data})
    assert (result.status, result.reward) == (Status.OK, reward)


def test_a_well_formed_error_is_the_samples_error(writer):
    assert failure(writer.grade("x", {"write": '{"error": "boom", "kind": "exception"}\n'})) == "boom"


@pytest.mark.parametrize(
    "data",
    [
        '{"reward": NaN}\n', '{"reward": Infinity}\n', '{"reward": -Infinity}\n', '{"reward": 1e999}\n',
        '{"reward": "0.5"}\n', '{"reward": true}\n', '{"reward": 1}\n', '{"reward": 0.5, "id": 3}\n',
        '{"reward": 0.5}\n{"reward": 1.0}\n', '{"reward": 0.5}', '[0.5]\n', '{"error": 1, "kind": "x"}\n',
        '{"ready": true}\n',  # the loading handshake, not a sample's result
        "[" * 100_000 + "\n",  # nested past the parser: an error, not a crash
    ],
    ids=["nan", "inf", "-inf", "overflow", "string", "bool", "int", "extra-key", "two-lines", "no-newline", "list",
         "error-not-str", "ready", "deep-nesting"],
)
def test_anything_else_the_sample_wrote_is_an_error(writer, data):
    message = failure(writer.grade("x", {"write": data}))
    assert message.startswith("the grader's process wrote something other than one result: ")
    assert writer.grade("x", {"value": "0.25"}).reward == 0.25  # the next sample is graded as usual


def test_time_and_cpu_limits_and_deaths_are_told_apart(writer):
    spin = "[0 for _ in iter(int, 1)]"  # never ends
    result = writer.grade("x", {"value": spin})
    assert (result.status, result.reason) == (Status.TIMEOUT, "python: grade() did not return within 2s")
    limited = PythonGrader(source=textwrap.dedent(WRITER), timeout=30, cpu_limit=1)
    try:
        result = limited.grade("x", {"value": spin})
    finally:
        limited.close()
    assert (result.status, result.reason) == (Status.TIMEOUT, "python: grade() used more than its CPU limit")
    assert failure(writer.grade("x", {"signal": int(signal.SIGKILL)})) == "the grader's process was killed by SIGKILL"
    assert failure(writer.grade("x", {"exit": 3})) == "the grader's process exited (status 3) without a result"


READER = """
import os

def grade(sample, item):
    path = os.getcwd().rstrip("/") + item["suffix"]
    try:
        open(path).close()
    except PermissionError:  # the sandbox's SandboxViolation
        return 0.0
    except FileNotFoundError:  # allowed to look, and nothing there
        return 1.0
    return 1.0
"""


@pytest.mark.parametrize(
    ("suffix", "allowed"),
    [
        ("/missing.txt", True),  # inside the work folder
        ("/a/b.txt", True),
        ("shop/x", False),  # a sibling sharing the folder's name as a prefix is not inside it
        ("/../elsewhere", False),
    ],
    ids=["inside", "nested", "shared-prefix", "parent"],
)
def test_reads_are_allowed_by_whole_path_components(suffix, allowed):
    built = PythonGrader(source=textwrap.dedent(READER))
    try:
        assert built.grade("x", {"suffix": suffix}).reward == (1.0 if allowed else 0.0)
    finally:
        built.close()
