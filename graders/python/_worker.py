"""The supervisor of the ``python`` grader: runs user code's ``grade(sample, item)``, one fresh process per sample.

Started by ``graders.python.python_grader`` as ``python -I [-S] this_file`` inside the OS sandbox
(``rft_core.infra.sandbox``, where it is pid 1 of its pid namespace), or as a plain subprocess with
``isolation: none``. It imports only the standard library and never runs user code itself.

Protocol (JSON lines on stdin/stdout, which only this process holds): the first line is
``{"source", "timeout", "limits", "preload"}``; the supervisor compiles the source, imports the
modules of its top-level imports (``preload``, so each sample finds them loaded), runs the module body once in a child process and
answers ``{"ready": true}``, ``{"load_error": ...}`` or ``{"load_timeout": true}``. Each later line
``{"id", "sample", "item"}`` gets ``{"id", "reward"}`` or ``{"id", "error", "kind"}``.

Each sample runs in a child forked from this clean supervisor: it closes every descriptor but
its own result pipe, sets its limits, installs the audit hook (defence in depth, not the
boundary) and runs the module body and ``grade``. Whatever it writes to its pipe is checked
here (one JSON object: a finite float reward, or an error); the supervisor's own streams are
out of its reach (closed in the child, no ``/proc``, this process is not dumpable). When the
child ends or its time is up, every other process in the namespace is killed (``kill(-1)``
from pid 1: orphans, threads and background loops included) and the scratch directory is
emptied, so nothing one sample does reaches the next.

One file on purpose: it is the program the sandbox starts (``python -I -S this_file``), bound
into the sandbox as a single read-only file and importing nothing but the standard library; a
sibling module would have to be bound and loaded by path too (as ``_code_runner`` loads this one).
"""

import json
import math
import os
import resource
import select
import signal
import sys
import time

__all__ = ["main"]

MAX_TRACEBACK = 4000
SOURCE = [""]  # the grader's source, for tracebacks

# audit events refused whatever their arguments
_REFUSED = {
    "os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.kill", "os.killpg",
    "subprocess.Popen", "pty.spawn", "signal.pthread_kill", "os.symlink", "os.link", "os.chroot",
    "os.setuid", "os.setgid", "os.chflags", "os.lchflags", "os.setxattr", "os.removexattr",
    "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata", "ctypes.call_function", "ctypes.addressof",
    "ctypes.string_at", "ctypes.wstring_at", "ctypes.PyObj_FromPtr", "ctypes.set_errno",
    "resource.setrlimit", "resource.prlimit", "sys.settrace", "sys.setprofile", "os.chdir", "webbrowser.open", "ftplib.connect", "smtplib.connect",
    "poplib.connect", "imaplib.open", "telnetlib.Telnet.open", "urllib.Request", "http.client.connect", "shutil.chown",
}
_REFUSED_PREFIXES = ("socket.", "ctypes.", "_posixsubprocess", "winreg.", "os.exec", "os.spawn", "os.posix_spawn")
_REFUSED_IMPORTS = {"ctypes", "_ctypes", "_posixsubprocess", "multiprocessing", "_multiprocessing", "gc"}
# events whose first argument is a path that must lie inside the temporary directory
_WRITE_EVENTS = {
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.utime", "os.truncate",
    "shutil.rmtree", "shutil.copyfile", "shutil.copymode", "shutil.copystat", "shutil.copytree", "shutil.move",
    "shutil.make_archive", "shutil.unpack_archive", "os.mkfifo", "os.mknod",
}
_READ_EVENTS = {"os.listdir", "os.scandir"}
_TWO_PATH_EVENTS = {"os.rename", "shutil.move", "shutil.copyfile", "shutil.copytree"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class SandboxViolation(PermissionError):
    """Raised by the audit hook: the grader tried something the sandbox refuses."""


# The hook and its helpers hold no closures and read no globals: everything they use is a
# positional default, bound when they are defined. A refusal's traceback exposes the hook's
# frame, and from its locals these functions; their defaults are a tuple, and replacing their
# __defaults__ or __code__ is refused by the hook itself, so nothing reachable
# from that frame changes what the hook does. Patching this module (it runs as __main__), os,
# os.path or builtins changes nothing either.


def _exact_text(value, type_of=type, is_subclass=issubclass, str_type=str, bytes_type=bytes,
                join="".join, decode=bytes.decode):
    """An exact str copy of a str or bytes (subclasses too) without calling their methods; else None."""
    kind = type_of(value)
    if is_subclass(kind, str_type):
        return join([value])
    if is_subclass(kind, bytes_type):
        return decode(value, "utf-8", "surrogateescape")
    return None


def _resolve(path, exact_text=_exact_text, lstat=os.lstat, readlink=os.readlink, getcwd=os.getcwd,
             type_of=type, is_subclass=issubclass, int_type=int, os_error=OSError, violation=SandboxViolation):
    """realpath from C functions only. Paths other than str, bytes and descriptors are refused:
    C functions call ``__fspath__`` before the audit event, and a second call here could answer differently."""
    if path is None or is_subclass(type_of(path), int_type):
        return None  # an already open descriptor, or the working directory
    path = exact_text(path)
    if path is None:
        raise violation("the python grader sandbox takes file paths as str or bytes only: pass str(path)")
    if not path.startswith("/"):
        path = getcwd() + "/" + path
    parts = []
    pending = path.split("/")[::-1]
    hops = 0
    while pending:
        part = pending.pop()
        if part == "" or part == ".":
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        candidate = "/" + "/".join(parts + [part])
        try:
            mode = lstat(candidate).st_mode
        except os_error:
            parts.append(part)  # does not exist (yet): taken literally
            continue
        if mode & 0o170000 == 0o120000:  # a symbolic link: follow it
            hops += 1
            if hops > 40:
                return candidate
            target = readlink(candidate)
            if target.startswith("/"):
                parts = []
            pending.extend(target.split("/")[::-1])
        else:
            parts.append(part)
    return "/" + "/".join(parts)


def _is_directory(path, lstat=os.lstat, os_error=OSError):
    try:
        return lstat(path).st_mode & 0o170000 == 0o040000
    except os_error:
        return False


def _within(path, roots):
    for root in roots:
        if path == root or path.startswith(root + "/"):
            return True
    return False


def _install_hook(workdir: str, read_roots: tuple, refused_imports: set) -> None:
    writable = (workdir.rstrip("/"),)
    readable = tuple(root.rstrip("/") for root in read_roots) + writable

    def hook(event, args, refused=frozenset(_REFUSED), prefixes=tuple(_REFUSED_PREFIXES),
             imports=frozenset(refused_imports), write_events=frozenset(_WRITE_EVENTS),
             read_events=frozenset(_READ_EVENTS), two_paths=frozenset(_TWO_PATH_EVENTS),
             write_flags=_WRITE_FLAGS, writable=writable, readable=readable, violation=SandboxViolation,
             resolve=_resolve, is_directory=_is_directory, within=_within, exact_text=_exact_text,
             type_of=type, is_subclass=issubclass, int_type=int, int_and=int.__and__,
             protected=(_resolve, _is_directory, _within, _exact_text)):
        if event in refused or event.startswith(prefixes):
            raise violation(f"the python grader sandbox refuses {event}")
        if event == "import" and args:
            name = exact_text(args[0])
            if name in imports:
                raise violation(f"the python grader sandbox refuses importing {name}")
        elif event == "object.__setattr__" or event == "object.__delattr__":
            for function in protected:  # their __code__ or __defaults__ (others' are the grader's business)
                if args[0] is function:
                    raise violation(f"the python grader sandbox refuses changing {exact_text(args[1])} of its own functions")
        elif event == "open":
            path, mode, flags = (args + (None, None, None))[:3]
            resolved = resolve(path)
            if resolved is None:
                return
            mode = exact_text(mode) or ""
            writing = "w" in mode or "a" in mode or "x" in mode or "+" in mode or (
                is_subclass(type_of(flags), int_type) and int_and(flags, write_flags) != 0
            )
            if writing and not within(resolved, writable):
                raise violation(f"the python grader sandbox refuses writing {resolved} (outside its temporary directory)")
            if not writing and not within(resolved, readable):
                raise violation(f"the python grader sandbox refuses reading {resolved}")
            if not within(resolved, writable) and is_directory(resolved):
                # a directory descriptor would let dir_fd= paths escape the checks, which see no dir_fd
                raise violation(f"the python grader sandbox refuses opening the directory {resolved}")
        elif event in write_events or event in read_events:
            roots = writable if event in write_events else readable
            for arg in args[:2] if event in two_paths else args[:1]:
                resolved = resolve(arg)
                if resolved is not None and not within(resolved, roots):
                    raise violation(f"the python grader sandbox refuses {event} on {resolved}")

    sys.addaudithook(hook)


def _refuse(name: str):
    def refused(*args, **kwargs):
        raise SandboxViolation(f"the python grader sandbox refuses {name}")

    refused.__name__ = name
    return refused


def _disable_process_functions() -> None:
    for name in ("fork", "forkpty", "system", "popen", "posix_spawn", "posix_spawnp", "kill", "killpg",
                 "execv", "execve", "execl", "execle", "execlp", "execlpe", "execvp", "execvpe",
                 "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe"):
        if hasattr(os, name):
            setattr(os, name, _refuse(f"os.{name}"))


def _child_limits(limits: dict) -> None:
    """Limits set in each sample's process (the sandbox has set the others for every process)."""
    def setlimit(which, soft, hard=None) -> None:
        try:
            resource.setrlimit(which, (soft, soft if hard is None else hard))
        except (ValueError, OSError):  # above a hard limit set outside: that one holds
            pass

    if limits.get("cpu_seconds"):
        setlimit(resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 1)
    if limits.get("memory_bytes"):
        setlimit(resource.RLIMIT_AS, limits["memory_bytes"])
    setlimit(resource.RLIMIT_CORE, 0)
    if not limits.get("sandboxed"):  # the sandbox limits size and processes itself
        setlimit(resource.RLIMIT_FSIZE, 64 << 20)
        setlimit(resource.RLIMIT_NPROC, 0)


def _read_roots(workdir: str) -> tuple:
    """Where Python-level reads may go: the interpreter's own files and import path, a few devices, the workdir."""
    candidates = [*sys.path, sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  "/dev/null", "/dev/urandom", "/usr/share/zoneinfo", "/etc/localtime"]
    roots = {os.path.realpath(path) for path in candidates if path and os.path.isabs(path)}
    roots.discard(os.sep)  # an interpreter installed at / would open everything
    return tuple(sorted(roots))


def _not_dumpable(site_packages: bool) -> None:
    """PR_SET_DUMPABLE 0: no process of the same uid may ptrace this one or open its /proc descriptors."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except (ImportError, OSError, AttributeError):  # not Linux: the sandbox is not there either
        pass
    if not site_packages:  # loaded here, not by the grader: importing it in a sample is audited again
        for name in [name for name in sys.modules if name == "ctypes" or name.startswith(("ctypes.", "_ctypes"))]:
            del sys.modules[name]


def _preload(names, refused) -> None:
    """Import the source's top-level imports here, once: every sample's fork finds them loaded.

    Only module imports (installed code, not the grader's) run here; a failing one is left for
    the sample to report.
    """
    import importlib

    for name in names:
        if name.split(".")[0] in refused:
            continue
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - the sample's own import reports it
            pass
    for name in [name for name in sys.modules if name.split(".")[0] in refused]:
        del sys.modules[name]  # pulled in by a preloaded module: the grader's own import stays audited


def _traceback(exc: BaseException) -> str:
    import linecache  # here, not in the supervisor: every fork would copy what it loads
    import traceback

    source = SOURCE[0]
    linecache.cache["<grader>"] = (len(source), None, source.splitlines(True), "<grader>")
    lines = traceback.format_exception(exc)
    # drop the worker's own frames: the user's code starts at "<grader>"
    text = "".join(line for line in lines if __file__ not in line)
    return text if len(text) <= MAX_TRACEBACK else "...\n" + text[-MAX_TRACEBACK:]


def _check_reward(value) -> dict:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return {"error": f"grade() returned {type(value).__name__} {_short(value)}, not a float", "kind": "invalid"}
    value = float(value)
    if not math.isfinite(value):
        return {"error": f"grade() returned {value}, not a finite float", "kind": "invalid"}
    return {"reward": value}


def _short(value) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a user object whose repr raises
        text = "<unprintable>"
    return text if len(text) <= 200 else text[:197] + "..."


def _write(fd: int, message: dict) -> None:
    data = json.dumps(message, allow_nan=False).encode() + b"\n"
    while data:
        data = data[os.write(fd, data):]


def _run_child(code, request, result_fd: int, config: dict) -> None:
    """The sample's process: nothing of the supervisor's left open but ``result_fd``; never returns."""
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.closerange(3, result_fd)
        os.closerange(result_fd + 1, 1 << 16)
        sys.stdin = sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        limits = config["limits"]
        _child_limits(limits)
        _disable_process_functions()
        _install_hook(config["workdir"], config["read_roots"], config["refused_imports"])
    except BaseException as exc:  # noqa: BLE001
        _write(result_fd, {"error": f"the sample's process could not start: {exc!r}", "kind": "setup"})
        os._exit(0)
    try:
        namespace = {"__name__": "grader"}
        exec(code, namespace)  # noqa: S102 - this is the point of the python grader, inside the sandbox
        grade = namespace.get("grade")
        if request is None:  # the load check
            response = {"ready": True} if callable(grade) else {
                "error": "NameError: the source defines no function grade(sample, item)", "kind": "load"}
        else:
            if not callable(grade):
                raise NameError("the source defines no function grade(sample, item)")
            response = _check_reward(grade(request["sample"], request["item"]))
    except MemoryError:
        response = {"error": "MemoryError: the grader ran out of memory", "kind": "memory"}
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: the grader's failure, not the worker's
        response = {"error": _traceback(exc), "kind": "load" if request is None else "exception"}
    try:
        _write(result_fd, response)
    except BaseException:  # noqa: BLE001 - an unserialisable value, or a closed pipe
        pass
    os._exit(0)


MAX_RESULT = 1 << 20


def _collect(read_fd: int, pid: int, timeout: float) -> tuple:
    """Read the child's pipe until the child exits or ``timeout``; returns (data, timed_out).

    If rft goes away meanwhile (our stdin hangs up), the sample's processes are killed and this
    process exits: the sandbox ends with it.
    """
    deadline = time.monotonic() + timeout
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    poller = select.poll()
    poller.register(read_fd, select.POLLIN)
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    poller.register(0, 0)  # hang-ups only
    data = b""
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return data, True
            wait = remaining if pidfd is not None else min(remaining, 0.005)
            events = dict(poller.poll(wait * 1000))
            if events.get(0):
                _end_processes(pid)
                os._exit(0)
            if read_fd in events:
                chunk = os.read(read_fd, 1 << 16)
                if len(data) < MAX_RESULT:
                    data += chunk
                if not chunk:
                    poller.unregister(read_fd)
                    if pidfd is None:
                        return data, False
            if pidfd is not None and pidfd in events or pidfd is None and os.waitpid(pid, os.WNOHANG)[0]:
                return data, False
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _end_processes(pid: int) -> tuple:
    """Kill the child and everything it started; reap them. Returns the child's wait status and CPU seconds."""
    if os.getpid() == 1:  # init of the sandbox's pid namespace: every other process there goes
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
    else:  # isolation: none: the child and its process group (a process that left it is out of reach)
        for kill, target in ((os.kill, pid), (os.killpg, pid)):
            try:
                kill(target, signal.SIGKILL)
            except OSError:
                pass
    status, cpu = 0, 0.0
    try:
        _, status, usage = os.wait4(pid, 0)
        cpu = usage.ru_utime + usage.ru_stime
    except ChildProcessError:  # already reaped by the polling fallback
        pass
    while True:  # orphans re-parented to pid 1, and any process forked while kill(-1) ran
        try:
            if os.waitpid(-1, 0 if os.getpid() == 1 else os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
        if os.getpid() == 1:
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
    return status, cpu


def _empty(directory: str) -> None:
    """Remove everything inside ``directory`` (whatever the grader made read-only)."""
    import shutil  # rarely needed: a sample that made directories

    def writable_again(function, path, _exc):
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            function(path)
        except OSError:
            pass

    for entry in os.scandir(directory):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, onerror=writable_again)
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                os.chmod(directory, 0o700)
                os.unlink(entry.path)


def _verdict(data: bytes, status: int, cpu: float, timed_out: bool, config: dict, loading: bool) -> dict:
    """The child's result, checked: exactly one JSON object of the child's protocol (``ready`` while
    loading, ``reward`` for a sample), else an error."""
    limits = config["limits"]
    if timed_out:
        return {"error": f"did not return within {config['timeout']:g}s", "kind": "timeout"}
    if os.WIFSIGNALED(status) and limits.get("cpu_seconds") and (
        os.WTERMSIG(status) == signal.SIGXCPU or cpu >= limits["cpu_seconds"]
    ):
        return {"error": "used more than its CPU limit", "kind": "cpu"}
    lines = data.split(b"\n")
    if len(lines) == 2 and lines[1] == b"":
        try:
            message = json.loads(lines[0], parse_constant=_no_constant)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
            message = None
        if isinstance(message, dict):
            if (not loading and set(message) == {"reward"} and type(message["reward"]) is float
                    and math.isfinite(message["reward"])):
                return message
            if loading and set(message) == {"ready"} and message["ready"] is True:
                return message
            if set(message) == {"error", "kind"} and all(type(value) is str for value in message.values()):
                return {"error": message["error"][-MAX_TRACEBACK - 100:], "kind": message["kind"]}
    if data:
        return {"error": "the grader's process wrote something other than one result: "
                         f"{_short(data[:200])}", "kind": "protocol"}
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name if os.WTERMSIG(status) in signal.valid_signals() else os.WTERMSIG(status)
        return {"error": f"the grader's process was killed by {name}", "kind": "died"}
    return {"error": f"the grader's process exited (status {os.waitstatus_to_exitcode(status)}) without a result",
            "kind": "died"}


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number")


def _run_sample(code, request, config: dict) -> dict:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
        _run_child(code, request, write_fd, config)
    os.close(write_fd)
    try:
        os.setpgid(pid, pid)
    except OSError:  # the child did it first, or is gone
        pass
    try:
        data, timed_out = _collect(read_fd, pid, config["timeout"])
        status, cpu = _end_processes(pid)
        if not timed_out:  # what the child wrote just before it ended, now that nobody holds the pipe
            os.set_blocking(read_fd, False)
            try:
                while len(data) < MAX_RESULT and (chunk := os.read(read_fd, 1 << 16)):
                    data += chunk
            except BlockingIOError:
                pass
    finally:
        os.close(read_fd)
    try:
        _empty(config["workdir"])
    except OSError:
        pass
    return _verdict(data, status, cpu, timed_out, config, loading=request is None)


def main() -> None:
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only rft ends this process
    config = json.loads(sys.stdin.buffer.readline())
    limits = config["limits"]
    site_packages = bool(limits.get("site_packages"))
    _not_dumpable(site_packages)
    source = config["source"]
    workdir = os.path.realpath(os.getcwd())
    refused = set(_REFUSED_IMPORTS)
    if site_packages:
        # numpy imports ctypes and sympy gc: load them now, before the hook (a cached module raises
        # no import event), refuse every ctypes.* audit event, and replace the raw-memory helpers
        # ctypes does not audit; sympy also imports subprocess: its C fork_exec is replaced
        import _posixsubprocess
        import ctypes
        import gc
        import subprocess

        refused -= {"ctypes", "_ctypes", "gc"}
        # installed packages whose import itself casts (scipy's callbacks) load before cast is replaced
        _preload(config["preload"], refused)
        for name in ("memmove", "memset", "cast"):
            setattr(ctypes, name, _refuse(f"ctypes.{name}"))
        _posixsubprocess.fork_exec = subprocess._fork_exec = _refuse("_posixsubprocess.fork_exec")
    config.update(workdir=workdir, read_roots=_read_roots(workdir), refused_imports=refused)
    SOURCE[0] = source
    try:
        code = compile(source, "<grader>", "exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        out.write(json.dumps({"load_error": _traceback(exc)}).encode() + b"\n")
        return
    if not site_packages:
        _preload(config["preload"], refused)
    loaded = _run_sample(code, None, config)
    if loaded.get("kind") in ("timeout", "cpu"):
        out.write(b'{"load_timeout": true}\n')
        return
    if not loaded.get("ready"):
        out.write(json.dumps({"load_error": loaded["error"]}).encode() + b"\n")
        return
    out.write(b'{"ready": true}\n')
    import gc

    gc.freeze()  # the template's objects are never collected: a fork does not copy pages to scan them
    if not site_packages:
        del sys.modules["gc"]  # a sample's "import gc" is audited again
    for line in sys.stdin.buffer:
        request = json.loads(line)
        response = _run_sample(code, request, config)
        response["id"] = request["id"]
        out.write(json.dumps(response, allow_nan=False).encode() + b"\n")


if __name__ == "__main__":
    main()
