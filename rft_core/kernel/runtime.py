"""The runtime: the settings of one run and the machinery its graders share, in one object.

An entry point (``rft score``, ``score``, ``reward_funcs``, ``rft serve``) makes one ``Runtime``,
binds its graders to it (``Grader.bind``; ``load_spec(..., runtime=)`` does it) and closes it when
done. A grader reaches it as ``self.runtime``: the settings (the folder relative paths start from,
whether the judge cache is off, how many cores its worker pools may use) and the resources made on
first use (judge caches, worker pools, the background event loop, loaded models), which ``close``
releases. Nothing travels through environment variables or module globals: a worker process gets
``settings()`` and makes a runtime of its own.

A grader that no entry point bound (``Grader.grade`` called directly) uses ``default_runtime()``,
which reads the user's environment once and is released when the process exits.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from .cpus import available_cpus

__all__ = ["NO_CACHE_VARIABLE", "Runtime", "default_runtime"]

NO_CACHE_VARIABLE = "RFT_NO_CACHE"
"""Set to 1 by a user to turn the judge cache off (docs/graders/llm_judge.md); read once, by
``Runtime.from_environment``."""

T = TypeVar("T")


class Runtime:
    """Settings and shared resources of one run; a context manager that closes itself.

    Args:
        base_folder: the folder relative paths in a spec start from (default: the working directory).
        no_cache: True turns the judge cache off (``rft score --no-cache``).
        cpus: the cores worker pools may use (default: every core this process may run on).

    >>> with Runtime(cpus=2) as runtime:
    ...     runtime.cpus, runtime.shared("answers", dict) is runtime.shared("answers", dict)
    (2, True)
    """

    def __init__(self, *, base_folder: str | Path | None = None, no_cache: bool = False, cpus: int | None = None) -> None:
        if cpus is not None and (isinstance(cpus, bool) or not isinstance(cpus, int) or cpus < 1):
            raise ValueError(f"cpus must be a whole number of at least 1, not {cpus!r}")
        self.base_folder = Path(base_folder) if base_folder is not None else None
        self.no_cache = bool(no_cache)
        self._cpus = cpus
        self._resources: dict[Any, Any] = {}
        self._lock = threading.RLock()  # a resource's make() may ask for another
        self._pid = os.getpid()
        # released at exit (or when the runtime is collected) if nobody called close()
        weakref.finalize(self, _release, self._resources, self._pid)

    @classmethod
    def from_environment(cls, **settings: Any) -> Runtime:
        """A runtime whose unset settings come from the user's environment (``RFT_NO_CACHE``)."""
        if "no_cache" not in settings:
            settings["no_cache"] = os.environ.get(NO_CACHE_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")
        return cls(**settings)

    @property
    def cpus(self) -> int:
        """The cores this run's worker pools may use."""
        return self._cpus if self._cpus is not None else available_cpus()

    def settings(self, *, workers: int = 1) -> dict[str, Any]:
        """The keyword arguments that make an equivalent runtime in another process; with ``workers``,
        for one of that many worker processes (each gets its share of the cores)."""
        return {"base_folder": self.base_folder, "no_cache": self.no_cache, "cpus": max(1, self.cpus // workers)}

    def resolve(self, path: str | Path) -> Path:
        """A path a spec names: a relative one starts from ``base_folder``."""
        path = Path(path)
        return self.base_folder / path if self.base_folder is not None and not path.is_absolute() else path

    def shared(self, key: Any, make: Callable[[], T]) -> T:
        """The resource stored under ``key``, made by ``make()`` on first use. ``close`` releases it
        (calling its ``close()`` when it has one). A forked child gets resources of its own."""
        resource = self._resources.get(key) if self._pid == os.getpid() else None
        if resource is not None:
            return cast(T, resource)
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's threads and processes are not ours
                self._resources.clear()
                self._pid = os.getpid()
            if key not in self._resources:
                self._resources[key] = make()
            return cast(T, self._resources[key])

    def close(self) -> None:
        """Release every resource (newest first); the runtime stays usable and makes them again."""
        with self._lock:
            _release(self._resources, self._pid)

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles as its settings: the unpickled runtime makes resources of its own."""
        return (_rebuilt, (self.settings(),))

    def __repr__(self) -> str:
        return f"<Runtime base_folder={self.base_folder} no_cache={self.no_cache} cpus={self.cpus}>"


def _rebuilt(settings: dict[str, Any]) -> Runtime:
    return Runtime(**settings)


def _release(resources: dict[Any, Any], pid: int) -> None:
    """Close resources (newest first) and forget them; a forked child leaves its parent's alone."""
    held = list(resources.values())
    resources.clear()
    if os.getpid() != pid:
        return
    for resource in reversed(held):
        close = getattr(resource, "close", None)
        if callable(close):
            close()


_default: list[Runtime] = []
_default_lock = threading.Lock()


def default_runtime() -> Runtime:
    """The runtime of graders no entry point bound: made from the environment on first use."""
    if not _default:
        with _default_lock:
            if not _default:
                _default.append(Runtime.from_environment())
    return _default[0]
