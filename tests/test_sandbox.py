"""rft_core.infra.sandbox: hostile Python run raw in the sandbox (no audit hook), as root and as uid 65534.

Each test runs the attempt for real and checks from outside that it stayed inside: a listener
that was never connected to, a file that was not written, a process that does not exist.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from rft_core.infra import sandbox
from sandbox_checks import gone, listener, run_as_nobody, shared_dir, skip_unless_root, with_secret

pytestmark = pytest.mark.skipif(sandbox.unavailable_reason() is not None, reason=str(sandbox.unavailable_reason()))

PYTHON = os.path.realpath(sys.executable)
READABLE = [sys.base_prefix, os.path.dirname(PYTHON)]

DRIVER = """
import json, os, subprocess
from rft_core import sandbox
spec = json.loads(SPEC)
argv, fds = sandbox.sandboxed(spec["argv"], readable=spec["readable"], limits=sandbox.Limits(**spec["limits"]),
                              env=spec["env"])
done = subprocess.run(argv, pass_fds=fds, capture_output=True, text=True, timeout=120)
print(json.dumps({"rc": done.returncode, "out": done.stdout, "err": done.stderr}))
"""


@pytest.fixture(params=["root", pytest.param("nobody", marks=skip_unless_root)])
def run(request):
    """run(program, **limits) -> {"rc", "out", "err"}: the program run with the sandbox by root, or by uid 65534."""

    def run_program(program: str, env: dict | None = None, host_env: dict | None = None, **limits) -> dict:
        spec = {"argv": [PYTHON, "-I", "-S", "-c", program], "readable": READABLE, "limits": limits, "env": env or {}}
        if request.param == "nobody":
            return run_as_nobody(DRIVER.replace("SPEC", repr(json.dumps(spec))), env=host_env)
        argv, fds = sandbox.sandboxed(spec["argv"], readable=READABLE, limits=sandbox.Limits(**limits), env=env)
        try:
            done = subprocess.run(argv, pass_fds=fds, capture_output=True, text=True, timeout=120,
                                  env={**os.environ, **(host_env or {})})
        finally:
            for fd in fds:
                os.close(fd)
        return {"rc": done.returncode, "out": done.stdout, "err": done.stderr}

    return run_program


def outcome(program_body: str) -> str:
    """A program printing what each attempt gave: the result, or the exception's type."""
    return "import os, sys\ndef attempt(f):\n    try:\n        return repr(f())\n    except BaseException as e:\n" \
           "        return type(e).__name__\n" + program_body


def test_no_network(run):
    server = listener()
    port = server.getsockname()[1]
    try:
        done = run(outcome(f"import socket\nprint(attempt(lambda: socket.create_connection(('127.0.0.1', {port}), 2)))"))
        assert done["out"].strip() in ("ConnectionRefusedError", "OSError"), done  # its own, empty loopback
        with pytest.raises(socket.timeout):
            server.accept()  # nobody connected
    finally:
        server.close()


def test_environment_is_only_what_was_given(run):
    done = run("import os; print(sorted(os.environ.items()))", env={"LANG": "C.UTF-8"},
               host_env={"SECRET_TOKEN": "hunter2"})
    assert done["out"].strip() == repr(sorted({"HOME": "/scratch", "TMPDIR": "/scratch", "PWD": "/scratch", "LANG": "C.UTF-8"}.items()))


@pytest.fixture
def shared():
    directory = shared_dir()
    yield directory
    shutil.rmtree(directory)


def test_the_parents_proc_and_files_are_out_of_reach(run, shared):
    secret, target = with_secret(shared), shared / "owned.txt"
    done = run(outcome(
        f"print(attempt(lambda: open('/proc/{os.getpid()}/environ', 'rb').read()))\n"
        f"print(attempt(lambda: os.listdir('/proc')))\n"
        f"print(attempt(lambda: open({str(secret)!r}).read()))\n"
        f"print(attempt(lambda: open({str(target)!r}, 'w').write('owned')))\n"
        "print(attempt(lambda: open('/usr/owned', 'w').write('owned')))\n"
        "print(attempt(lambda: open('/owned', 'w').write('owned')))\n"
        "print(attempt(lambda: open('/scratch/scratch', 'w').write('ok')))\n"
    ))
    assert done["out"].split() == [
        "FileNotFoundError", "FileNotFoundError", "FileNotFoundError", "FileNotFoundError", "OSError", "OSError", "2",
    ], done
    assert not target.exists() and not Path("/usr/owned").exists() and not Path("/owned").exists()


def test_processes_run_as_nobody_in_a_bare_file_system(run):
    done = run("import subprocess, os\n"
               "print(subprocess.run(['/usr/bin/id', '-u'], capture_output=True, text=True).stdout.strip())\n"
               "print(' '.join(os.listdir('/')))\n")
    uid, listing = done["out"].splitlines()
    assert uid == "65534"
    assert set(listing.split()) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "root", "sbin", "scratch", "tmp", "usr"}


def test_native_code_is_contained(run, shared):
    secret, target = with_secret(shared), shared / "native.txt"
    done = run(
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        f"print(libc.open({str(secret).encode()!r}, 0), libc.open({str(target).encode()!r}, 0o101, 0o644))\n"
    )
    assert done["out"].split() == ["-1", "-1"], done
    assert not target.exists()


def test_ptrace_and_mknod_are_refused(run):
    if sandbox.seccomp_filter() is None:
        pytest.skip("no libseccomp (pyseccomp): ptrace between sandboxed processes of one uid is not filtered")
    done = run(outcome(
        "import ctypes, stat, time\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "child = os.fork()\n"
        "if child == 0:\n    time.sleep(30)\n    os._exit(0)\n"
        "print(libc.ptrace(16, child, 0, 0), ctypes.get_errno())\n"  # PTRACE_ATTACH
        "print(attempt(lambda: os.mknod('/scratch/mem', stat.S_IFCHR | 0o666, os.makedev(1, 1))))\n"
    ))
    assert done["out"].split() == ["-1", "1", "PermissionError"], done  # EPERM


def test_no_process_outlives_the_sandbox(run):
    marker = f"299.{uuid.uuid4().int % 10**9}"  # a sleep duration no other process uses
    done = run(
        "import os\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv('/usr/bin/sleep', ['sleep', {marker!r}])\n"
        "    os._exit(0)\n"
        "os.wait()\nimport time; time.sleep(0.2)\nprint('left')\n"
    )
    assert done["out"].strip() == "left"
    assert gone(marker)


def test_a_fork_bomb_stops_at_the_process_limit(run):
    marker = f"298.{uuid.uuid4().int % 10**9}"
    done = run(
        "import os\nforked = 0\n"
        "while True:\n"
        "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
        f"    if pid == 0:\n        os.execv('/usr/bin/sleep', ['sleep', {marker!r}])\n"
        "    forked += 1\n"
        "print(forked)\n",
        processes=16,
    )
    assert 0 < int(done["out"]) < 16, done
    assert gone(marker)


def test_the_scratch_directory_fills_up_at_its_size(run):
    done = run(
        "written = 0\nchunk = b'x' * (1 << 20)\n"
        "try:\n"
        "    with open('/scratch/fill', 'wb', buffering=0) as sink:\n"
        "        while written < 64 << 20:\n            written += sink.write(chunk)\n"
        "except OSError as exc:\n    print(exc.errno, written)\n",
        scratch_bytes=4 << 20,
    )
    errno_code, written = map(int, done["out"].split())
    assert errno_code == 28 and written <= 4 << 20  # ENOSPC


def test_a_cpu_loop_ends_at_its_cpu_limit(run):
    done = run("while True:\n    pass\n", cpu_seconds=1)
    assert done["rc"] != 0  # killed by SIGXCPU, then SIGKILL: bwrap reports the signal


def test_without_bwrap_the_reason_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sandbox.shutil, "which", lambda name, path=None: None)
    sandbox.unavailable_reason.cache_clear()
    try:
        reason = sandbox.unavailable_reason()
    finally:
        sandbox.unavailable_reason.cache_clear()
    assert reason == "bwrap, prlimit, setpriv not found (Debian/Ubuntu: apt-get install bubblewrap util-linux)"
