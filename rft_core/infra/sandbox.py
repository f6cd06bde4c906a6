"""OS-level isolation for code from a spec: a program run in fresh Linux namespaces through bubblewrap.

``sandboxed(argv, readable=..., limits=...)`` returns the command line (and the descriptors to
pass) that runs ``argv`` with:

- new user, pid, network, mount, ipc, uts (and cgroup where possible) namespaces; no network
  interface but the sandbox's own loopback; nested user namespaces refused;
- an unprivileged uid: 65534 inside, and when rft runs as root the processes run as uid 65534
  on the host too (a first, privileged bwrap prepares the view and drops to 65534 before the
  second one builds the sandbox), so ``RLIMIT_NPROC`` counts them and they own nothing;
- a file system of read-only binds (``/usr``, the ``readable`` paths, a few ``/etc`` files),
  a ``/dev`` with only null, zero, random and friends, no ``/proc``, and a private tmpfs of
  ``limits.scratch_bytes`` at ``/scratch`` (the working directory, ``HOME`` and ``TMPDIR``; not
  ``/tmp``, where the view may bind the host's interpreter, e.g. a virtualenv below /tmp);
- a cleared environment (only ``env``, ``HOME``, ``TMPDIR`` and bwrap's ``PWD``), rlimits (processes, open files, file size, address
  space, CPU, no core files) and, where libseccomp is installed (``pyseccomp``), a seccomp
  filter refusing the system calls a grader never needs (ptrace, mount, bpf, keyrings, SysV
  IPC, ...);
- ``argv`` as pid 1 of its pid namespace: when it exits, every process in the sandbox is
  killed by the kernel (no orphans). The bwrap rft starts is not tied to the thread that
  started it (``--die-with-parent`` is a PR_SET_PDEATHSIG, which fires when that *thread*
  ends, and graders run in worker threads): the program must end when its stdin closes,
  which is what rft's death does to it.

``unavailable_reason()`` says why this machine cannot do it (no bwrap, no user namespaces,
not Linux), or None. Nothing here knows about graders.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["SCRATCH", "Limits", "sandboxed", "seccomp_filter", "unavailable_reason"]

SCRATCH = "/scratch"  # inside the sandbox: a private tmpfs, apart from host paths the view binds (a venv in /tmp)
SANDBOX_UID = 65534  # nobody
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime")
_TOP_SYMLINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # usrmerge: links into /usr

# system calls refused (EPERM) inside the sandbox: debugging and reading other processes, the
# kernel's own configuration, keyrings, namespaces, SysV/POSIX IPC (state that would outlive a
# process), device nodes, io_uring (a second syscall surface the filter does not see)
_REFUSED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "personality",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig",
    "fspick", "mount_setattr", "unshare", "setns", "bpf", "perf_event_open", "userfaultfd",
    "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "vhangup",
    "open_by_handle_at", "name_to_handle_at", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "shmget", "shmat", "msgget", "msgsnd", "semget", "semop", "semtimedop", "mq_open", "mq_timedsend",
    "mknod", "mknodat", "io_uring_setup", "io_uring_enter", "io_uring_register",
)


@dataclass(frozen=True)
class Limits:
    """Resource limits of every process in a sandbox (``None``: the kernel's default)."""

    processes: int = 64  # RLIMIT_NPROC: processes and threads of the sandbox's user
    open_files: int = 256  # RLIMIT_NOFILE
    file_bytes: int = 64 << 20  # RLIMIT_FSIZE: the largest file a process may write
    scratch_bytes: int = 64 << 20  # size of the tmpfs at SCRATCH
    memory_bytes: int | None = None  # RLIMIT_AS of each process
    cpu_seconds: int | None = None  # RLIMIT_CPU of each process (a process's CPU time, from its fork)


@functools.cache
def unavailable_reason() -> str | None:
    """Why code cannot be sandboxed on this machine, or None when it can (probed once per process)."""
    if not sys.platform.startswith("linux"):
        return f"OS-level isolation needs Linux namespaces; this is {sys.platform}"
    missing = [name for name in ("bwrap", "prlimit", "setpriv") if shutil.which(name) is None]
    if missing:
        return f"{', '.join(missing)} not found (Debian/Ubuntu: apt-get install bubblewrap util-linux)"
    argv, fds = sandboxed(["/usr/bin/true"], readable=(), limits=Limits())
    try:
        probe = subprocess.run(argv, pass_fds=fds, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not start: {exc}"
    finally:
        for fd in fds:
            os.close(fd)
    if probe.returncode != 0:
        message = probe.stderr.decode(errors="replace").strip() or f"exit status {probe.returncode}"
        return f"bwrap could not create the namespaces (unprivileged user namespaces disabled?): {message}"
    return None


def sandboxed(
    argv: Sequence[str],
    *,
    readable: Iterable[str],
    limits: Limits,
    env: Mapping[str, str] | None = None,
) -> tuple[list[str], list[int]]:
    """The command running ``argv`` in a new sandbox, and the descriptors to pass to it (close them after the start).

    ``readable`` are host paths (files or directories) bound read-only at the same place;
    ``argv[0]`` must be one of them or under ``/usr``.
    """
    view = _view([os.path.realpath(path) for path in readable])
    fds: list[int] = []
    inner = [
        _tool("bwrap"), "--unshare-all", "--unshare-user", "--disable-userns", "--unshare-cgroup-try",
        "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
        "--as-pid-1", "--new-session", "--size", str(limits.scratch_bytes), "--tmpfs", SCRATCH,
        *view, "--dev", "/dev", "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", SCRATCH, "--clearenv",
    ]
    for name, value in {"HOME": SCRATCH, "TMPDIR": SCRATCH, **(env or {})}.items():
        inner += ["--setenv", name, value]
    program = seccomp_filter()
    if program is not None:
        fds.append(_memfd("rft-seccomp", program))
        inner += ["--seccomp", str(fds[-1])]
    if os.geteuid() != 0:
        return [*inner, "--", *_prlimit(limits), *argv], fds
    # as root, the sandbox's processes would be root on the host (and RLIMIT_NPROC would not hold
    # for them): a privileged bwrap lays out the same read-only view (where uid 65534 can reach
    # paths below root's private directories) and hands over to an unprivileged one
    inner += ["--die-with-parent"]  # its parent is the first bwrap, which outlives no one
    outer = [
        _tool("bwrap"), "--dir", "/tmp", *view, "--proc", "/proc", "--dev", "/dev",
        "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
        _tool("setpriv"), f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups", "--",
    ]
    return [*outer, *inner, "--", *_prlimit(limits), *argv], fds


def _view(paths: Sequence[str]) -> list[str]:
    """bwrap arguments binding /usr, the top-level links into it, /etc's loader files and ``paths`` read-only."""
    args = ["--ro-bind", "/usr", "/usr"]
    for link in _TOP_SYMLINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    made: set[str] = {"/", "/usr", "/etc"}
    args += ["--perms", "0755", "--dir", "/etc"]
    for path in [*(_existing(_ETC_FILES)), *sorted(set(paths))]:
        if path == "/usr" or path.startswith("/usr/") or not os.path.exists(path):
            continue
        parent = os.path.dirname(path)
        ancestors = []
        while parent not in made:
            ancestors.append(parent)
            made.add(parent)
            parent = os.path.dirname(parent)
        for directory in reversed(ancestors):  # bwrap would make them 0700: uid 65534 must pass through
            args += ["--perms", "0755", "--dir", directory]
        args += ["--ro-bind", path, path]
    return args


def _tool(name: str) -> str:
    """A util-linux or bubblewrap program's absolute path (it must lie under /usr, which the sandbox binds)."""
    return shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin") or name


def _existing(paths: Iterable[str]) -> list[str]:
    return [path for path in paths if os.path.exists(path)]


def _prlimit(limits: Limits) -> list[str]:
    """util-linux's prlimit as the sandbox's first program: it sets the limits and execs ``argv`` (pid 1)."""
    args = [
        _tool("prlimit"), f"--nproc={limits.processes}", f"--nofile={limits.open_files}",
        f"--fsize={limits.file_bytes}", "--core=0",
    ]
    if limits.memory_bytes:
        args.append(f"--as={limits.memory_bytes}")
    if limits.cpu_seconds:
        args.append(f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}")
    return [*args, "--"]


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)  # not close-on-exec: bwrap reads it after exec
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@functools.cache
def seccomp_filter() -> bytes | None:
    """The compiled BPF program bwrap loads (every syscall allowed but ``_REFUSED_SYSCALLS``); None without libseccomp."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError):  # the package, or libseccomp.so itself, is missing
        return None
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in _REFUSED_SYSCALLS:
        try:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (ValueError, RuntimeError, OSError):  # a name this libseccomp does not know
            continue
    # new namespaces through clone flags: bwrap's --disable-userns refuses user namespaces, and
    # the others need capabilities the sandbox does not have
    with tempfile.TemporaryFile() as sink:
        rules.export_bpf(sink)
        sink.seek(0)
        return sink.read()
