"""Who may write a run directory: the exclusive lock on ``RUN/.lock``, and the fresh name a
run gets when ``--new`` moves it aside (:class:`~topoloss.engine.store.Run`).

A process that writes a run holds an exclusive ``flock`` on ``RUN/.lock`` (the file names
the holder). The operating system releases it when the process ends, however it ends, so
a killed writer leaves no stale lock. A second writer is refused with :class:`RunLocked`.
Readers take no lock.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import socket
import sys
import time
import weakref
from pathlib import Path

from topoloss._layout import RunLayout
from topoloss.errors import InputError

__all__ = ["RunLock", "RunLocked", "aside_name"]


class RunLocked(InputError):
    """Another process is writing this run directory (exit code 2)."""


class RunLock:
    """An exclusive ``flock`` on ``DIR/.lock``, shared by every :class:`~topoloss.engine.store.Run`
    of this process on that directory and released when the last of them is gone (or the process ends)."""

    _held: weakref.WeakValueDictionary[str, RunLock] = weakref.WeakValueDictionary()

    def __init__(self, fd: int, key: str) -> None:
        self.fd = fd
        self.key = key
        self._finalizer = weakref.finalize(self, os.close, fd)

    def release(self) -> None:
        if RunLock._held.get(self.key) is self:
            del RunLock._held[self.key]
        self._finalizer()

    @classmethod
    def acquire(cls, directory: Path) -> RunLock:
        key = os.path.realpath(directory)
        held = cls._held.get(key)
        if held is not None and _same_file(held.fd, RunLayout(key).lock):
            return held
        directory.mkdir(parents=True, exist_ok=True)
        file = RunLayout(directory).lock
        for _ in range(5):
            fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise RunLocked(f"{directory} is being written by another process ({_holder(file)}); "
                                "wait for it to finish, or use another directory") from None
            if _same_file(fd, file):  # not moved aside (--new) between our open and our lock
                break
            os.close(fd)
        else:  # pragma: no cover - only under a storm of --new on the same directory
            raise RunLocked(f"{directory} keeps being replaced by another process; try again")
        command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "python"
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}: {command}\n".encode(), 0)
        lock = cls(fd, key)
        cls._held[key] = lock
        return lock


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _holder(file: Path) -> str:
    try:
        text = file.read_text(errors="replace").strip()
    except OSError:
        text = ""
    return text.splitlines()[0][:200] if text else "holder unknown"


_ASIDE = itertools.count()


def aside_name(directory: Path) -> Path:
    """A fresh ``DIR.old-<time>-<pid>[-<n>]`` next to ``directory``."""
    stem = f"{directory.name}.old-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    while True:
        n = next(_ASIDE)
        aside = directory.with_name(stem if n == 0 else f"{stem}-{n}")
        if not aside.exists():
            return aside
