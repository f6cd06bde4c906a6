"""The sandboxed worker of the ``python`` grader: runs user code's ``grade(sample, item)``.

Started by ``graders.python_grader`` as ``python -I [-S] this_file LIMITS_JSON`` with a minimal
environment and a fresh temporary directory as its working directory, HOME and TMPDIR. It
imports only the standard library. Protocol (JSON lines): the first line on stdin is
``{"source": ...}``; the worker answers ``{"ready": true}`` or ``{"load_error": ...}``. Each
later line ``{"id", "sample", "item"}`` gets ``{"id", "reward"}`` or ``{"id", "error", "kind"}``.

Before the user's source runs, the worker sets resource limits, replaces the process-starting
functions of ``os`` and installs an audit hook (which cannot be removed) that refuses new
processes, sockets, signals to other processes, ctypes, and file writes or reads outside the
allowed directories. This is defence in depth, not a jail: see docs/graders/python.md.
"""

import json
import math
import os
import sys
import traceback

__all__ = ["main"]

MAX_TRACEBACK = 4000

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


def _set_limits(limits: dict) -> None:
    import resource

    def setlimit(which, soft, hard=None) -> None:
        try:
            resource.setrlimit(which, (soft, soft if hard is None else hard))
        except (ValueError, OSError):  # above a hard limit set outside: that one holds
            pass

    if limits.get("memory_bytes"):
        setlimit(resource.RLIMIT_AS, limits["memory_bytes"])
    if limits.get("cpu_seconds"):
        setlimit(resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 1)
    setlimit(resource.RLIMIT_CORE, 0)
    setlimit(resource.RLIMIT_FSIZE, limits.get("file_bytes", 64 << 20))
    setlimit(resource.RLIMIT_NPROC, 0)  # no effect for root (CAP_SYS_RESOURCE); the audit hook covers it


def _read_roots(workdir: str) -> tuple:
    """Where Python-level reads may go: the interpreter's own files and import path, a few devices, the workdir."""
    candidates = [*sys.path, sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  "/dev/null", "/dev/urandom", "/usr/share/zoneinfo", "/etc/localtime"]
    roots = {os.path.realpath(path) for path in candidates if path and os.path.isabs(path)}
    roots.discard(os.sep)  # an interpreter installed at / would open everything
    return tuple(sorted(roots))


def _exit_with_parent() -> None:
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="rft-python-parent-watch", daemon=True).start()


def _traceback(exc: BaseException) -> str:
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


def main() -> None:
    limits = json.loads(sys.argv[1])
    workdir = os.path.realpath(os.getcwd())
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # prints from the grader must not corrupt the protocol (stderr is /dev/null)
    sys.stdout = sys.stderr
    _exit_with_parent()
    first = sys.stdin.buffer.readline()
    source = json.loads(first)["source"]
    read_roots = _read_roots(workdir)
    refused_imports = _REFUSED_IMPORTS
    if limits.get("site_packages"):
        # numpy imports ctypes and sympy gc: load them now, before the hook (a cached module raises
        # no import event), refuse every ctypes.* audit event, and replace the raw-memory helpers
        # ctypes does not audit. This mode is weaker: see docs/graders/python.md.
        # (sympy also imports subprocess: its C fork_exec is replaced, and Popen is audited)
        import _posixsubprocess
        import ctypes
        import gc  # noqa: F401
        import subprocess

        for name in ("memmove", "memset", "cast"):
            setattr(ctypes, name, _refuse(f"ctypes.{name}"))
        _posixsubprocess.fork_exec = subprocess._fork_exec = _refuse("_posixsubprocess.fork_exec")
        refused_imports = refused_imports - {"ctypes", "_ctypes", "gc"}
    _set_limits(limits)
    _disable_process_functions()
    _install_hook(workdir, read_roots, refused_imports)
    try:
        import linecache

        linecache.cache["<grader>"] = (len(source), None, source.splitlines(True), "<grader>")
        code = compile(source, "<grader>", "exec")
        probe = {"__name__": "grader"}
        exec(code, probe)  # noqa: S102 - this is the point of the python grader, inside the sandbox
        if not callable(probe.get("grade")):
            raise NameError("the source defines no function grade(sample, item)")
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        out.write(json.dumps({"load_error": _traceback(exc)}).encode() + b"\n")
        return
    out.write(b'{"ready": true}\n')
    for line in sys.stdin.buffer:
        request = json.loads(line)
        try:
            namespace = {"__name__": "grader"}  # fresh globals for every sample
            exec(code, namespace)  # noqa: S102
            response = _check_reward(namespace["grade"](request["sample"], request["item"]))
        except MemoryError:
            response = {"error": "MemoryError: the grader ran out of memory", "kind": "memory"}
        except BaseException as exc:  # noqa: BLE001 - SystemExit too: the grader's failure, not the worker's
            response = {"error": _traceback(exc), "kind": "exception"}
        response["id"] = request.get("id")
        try:
            payload = json.dumps(response)
        except (TypeError, ValueError):
            payload = json.dumps({"id": request.get("id"), "error": "unserialisable response", "kind": "exception"})
        out.write(payload.encode() + b"\n")


if __name__ == "__main__":
    main()
