"""Small file helpers: atomic writes so a killed run never leaves half a file."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "check_file"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """``path`` as a :class:`~pathlib.Path` if it is a regular file (symlinks followed).

    Raises :class:`~topoloss.errors.InputError` (``FileNotFoundError`` for a missing file)
    with one line that names the file and says what is wrong: missing, a directory, a
    symlink loop, a FIFO or other special file, or unreadable.
    """
    from topoloss.errors import InputError

    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        if os.path.islink(p):
            raise InputError(f"{what} {p}: a symbolic link to a missing file") from None
        raise FileNotFoundError(f"{what} not found: {p}") from None
    except OSError as exc:
        reason = "a symbolic link loop" if exc.errno == errno.ELOOP else (exc.strerror or str(exc))
        raise InputError(f"{what} {p}: {reason}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{what} {p}: is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "a device"
        raise InputError(f"{what} {p}: is {kind}, not a regular file")
    if not os.access(p, os.R_OK):
        raise InputError(f"{what} {p}: permission denied (not readable)")
    return p


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder + rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # what a plain open() would give, not mkstemp's 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            # a write into the open file names no file: name the one we were writing
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))
