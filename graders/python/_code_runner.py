"""The ``code`` grader's supervisor: runs a model's Python program on one test case at a time.

Started by ``graders.python._code_backends`` as ``python -I -S this_file`` inside the OS sandbox
(``rft_core.infra.sandbox``; it is pid 1 of the sandbox's pid namespace). Standard library only.

Protocol (JSON lines; only this process holds stdin/stdout): a request is
``{"program", "stdin"}``, ``{"program", "call", "args"}`` or ``{"program", "expression"}`` with
``"timeout"``, ``"memory_bytes"`` and ``"max_output"``; the answer is ``{"compile_error": text}``
or ``{"exit", "signal", "timed_out", "output_limit", "stdout", "stderr", "value"}``.

Expected outputs never come here: the supervisor only runs the program and reports what it did
(``value`` is the JSON text of a call's or expression's result); rft's process compares. Each
case runs in a process forked from this one with its stdin from a memfd, stdout, stderr and the
value on pipes of their own, and nothing else of the supervisor's open. When it ends or its time
is up every other process of the sandbox is killed and the scratch directory is emptied.
"""

import importlib.util
import json
import os
import resource
import select
import signal
import sys
import time


def _sibling(name: str):
    """A module next to this file, loaded by path (the graders package itself is not in the sandbox)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shared = _sibling("_worker")  # its process reaping, scratch cleaning and non-dumpable setup

__all__ = ["main"]

STDERR_TAIL = 4000


def _run_case(code, request: dict) -> dict:
    stdin = os.memfd_create("stdin", 0)
    os.write(stdin, request.get("stdin", "").encode())
    os.lseek(stdin, 0, os.SEEK_SET)
    pipes = [os.pipe() for _ in range(3)]  # stdout, stderr, value
    pid = os.fork()
    if pid == 0:
        for read_end, _ in pipes:
            os.close(read_end)
        _child(code, request, stdin, [write_end for _, write_end in pipes])
    os.close(stdin)
    for _, write_end in pipes:
        os.close(write_end)
    readers = [read_end for read_end, _ in pipes]
    try:
        collected, timed_out, output_limit, status = _collect(readers, pid, request)
        if status is None:
            status, _ = shared._end_processes(pid)
    finally:
        for fd in readers:
            os.close(fd)
    try:
        shared._empty(os.getcwd())
    except OSError:
        pass
    stdout, stderr, value = (data.decode(errors="replace") for data in collected)
    exited = os.WIFEXITED(status) and not timed_out and not output_limit
    killed = os.WIFSIGNALED(status) and not timed_out and not output_limit
    return {
        "exit": os.WEXITSTATUS(status) if exited else None,
        "signal": _signal_name(os.WTERMSIG(status)) if killed else None,
        "timed_out": timed_out, "output_limit": output_limit,
        "stdout": stdout, "stderr": stderr[-STDERR_TAIL:], "value": value if exited else "",
    }


def _signal_name(number: int) -> str:
    return signal.Signals(number).name if number in signal.valid_signals() else str(number)


def _collect(readers: list, pid: int, request: dict) -> tuple:
    """Read stdout, stderr and the value until the case's process ends, its time is up or it writes too much.

    Returns (stdout, stderr, value), timed out, output over the limit, and the wait status once it ended (else None).
    """
    deadline = time.monotonic() + request["timeout"]
    limit = request["max_output"]
    data = [b"", b"", b""]
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    for fd in (*readers, pidfd):
        poller.register(fd, select.POLLIN)
    poller.register(0, 0)  # hang-ups of rft's end only
    open_readers = set(readers)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return data, True, False, None
            events = dict(poller.poll(remaining * 1000))
            if events.get(0):
                shared._end_processes(pid)
                os._exit(0)
            for index, fd in enumerate(readers):
                if fd in events and fd in open_readers:
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        poller.unregister(fd)
                        open_readers.discard(fd)
                    data[index] = data[index][-STDERR_TAIL:] + chunk if index == 1 else data[index] + chunk
                    if index != 1 and len(data[index]) > limit:
                        return data, False, True, None
            if pidfd in events:
                status, _ = shared._end_processes(pid)  # its descendants may still hold the pipes
                for index, fd in enumerate(readers):
                    if fd in open_readers:
                        data[index] += _drain(fd, limit + 1 - len(data[index]))
                over = any(len(data[index]) > limit for index in (0, 2))
                return data, False, over, status
    finally:
        os.close(pidfd)


def _drain(fd: int, room: int) -> bytes:
    os.set_blocking(fd, False)
    found = b""
    try:
        while room > 0 and (chunk := os.read(fd, min(room, 1 << 16))):
            found += chunk
            room -= len(chunk)
    except BlockingIOError:
        pass
    return found


def _child(code, request: dict, stdin: int, writers: list) -> None:
    """The case's process: the program as ``__main__``, then the call or expression; never returns."""
    status = 1
    try:
        for target, fd in ((0, stdin), (1, writers[0]), (2, writers[1])):
            os.dup2(fd, target)
        value_fd = writers[2]
        os.closerange(3, value_fd)
        os.closerange(value_fd + 1, 1 << 16)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        memory = request.get("memory_bytes")
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(request["timeout"]) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        request_kind = "call" if "call" in request else "expression" if "expression" in request else None
        target = request.get(request_kind) if request_kind else None
        args = request.get("args", [])  # the request holds this case's input only: nothing to hide
        namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        exec(code, namespace)  # noqa: S102 - the program under test, inside the sandbox
        if request_kind == "call":
            function = namespace.get(target)
            if not callable(function):
                raise NameError(f"the program defines no function {target}")
            value = function(*args)
        elif request_kind == "expression":
            value = eval(target, namespace)  # noqa: S307 - the dataset's test expression, inside the sandbox
        sys.stdout.flush()
        if request_kind:
            text = json.dumps(value, allow_nan=False, default=_plain_set).encode()
            while text:
                text = text[os.write(value_fd, text):]
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, (int, type(None))):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - the program's failure: its traceback goes to its stderr
        import traceback

        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed or replaced stream
            pass
    os._exit(status & 0xFF)


def _plain_set(value):
    """Sets as {"$set": items sorted by repr} (as graders.python._code_tests.plain writes expected ones); other types refused."""
    if isinstance(value, (set, frozenset)):
        items = [json.loads(json.dumps(item, allow_nan=False, default=_plain_set)) for item in value]
        return {"$set": sorted(items, key=repr)}
    raise TypeError(f"the result is a {type(value).__name__}, not plain data (numbers, strings, lists, dicts, sets)")


def main() -> None:
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only rft ends this process
    shared._not_dumpable(False)
    compiled: dict = {}
    for line in sys.stdin.buffer:
        request = json.loads(line)
        program = request["program"]
        if program not in compiled:
            compiled.clear()  # one program at a time: the cases of one sample follow each other
            try:
                compiled[program] = compile(program, "<program>", "exec")
            except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError) as exc:
                compiled[program] = f"{type(exc).__name__}: {exc}"
        code = compiled[program]
        answer = {"compile_error": code} if isinstance(code, str) else _run_case(code, request)
        out.write(json.dumps(answer).encode() + b"\n")


if __name__ == "__main__":
    main()
