"""Writing files without destroying what is at a path: one mechanism for ``save`` and the command line.

What a write does depends on what the path is:

- a regular file (or nothing yet): write a temporary file next to it, fsync, rename it over the path. A
  failure at any point leaves the old file byte-identical and removes the temporary file;
- a symlink: the same, at the file it points to, so the link stays a link;
- a FIFO, a character or block device: written through, never replaced (replacing ``/dev/stdout`` would break
  it for the whole machine);
- a link to this process's own stdout or stderr (``/dev/stdout``, ``/dev/fd/2``), even when that is a file
  (``>> log``): written to that stream, so the file is appended to, neither truncated nor replaced;
- ``-`` (only where the caller asks for it, as the command line does): standard output;
- a directory: ``IsADirectoryError``.

Temporary files are named ``.<name>.chainrule-tmp-<pid>-<random><suffix>`` (the target's suffix is kept:
some writers choose the format from it). A killed process leaves its temporary file behind; the next write
into that folder removes those whose process is no longer running. Errors name the target, never the
temporary file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["PendingFile", "deferred_interrupts", "remove_stale_temps", "write_file"]

TAG = ".chainrule-tmp-"
_STALE = re.compile(r"^\..*" + re.escape(TAG) + r"(\d+)-[0-9a-f]{8}")
_NAME_MAX = 255  # bytes in one file name (Linux, macOS)
_SUFFIX_MAX = 16
_CHUNK = 1 << 20


# ----------------------------------------------------------------------------------------- error messages
def renamed(exc: OSError, target: str) -> OSError:
    """The same error (same errno, same subclass), naming ``target`` instead of a temporary file."""
    if exc.errno is None:
        return OSError(f"cannot write {target!r}: {exc}")
    return OSError(exc.errno, exc.strerror or os.strerror(exc.errno), target)


@contextlib.contextmanager
def blamed_on(target: str) -> Iterator[None]:
    """Re-raise any ``OSError`` so that it names ``target``, the path the user gave."""
    try:
        yield
    except OSError as exc:
        raise renamed(exc, target) from None


# ------------------------------------------------------------------------------------------ temp names
def _temp_prefix(name: str) -> str:
    """``.<name>`` + tag, with a long name shortened (and made unique by a hash) so the whole temporary name
    stays within 255 bytes: a legal 255-byte target name must still be writable."""
    room = _NAME_MAX - len(TAG) - 1 - 16 - _SUFFIX_MAX - 1  # ".", pid-random, suffix, "~"
    if len(os.fsencode(name)) > room:
        digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
        keep = name
        while len(os.fsencode(keep)) > room - 9:
            keep = keep[:-1]
        name = f"{keep}~{digest}"
    return f".{name}{TAG}"


def _suffix(name: str) -> str:
    suffix = Path(name).suffix
    return suffix if len(os.fsencode(suffix)) <= _SUFFIX_MAX else ""


def _make_temp(folder: str, name: str) -> str:
    """Create an empty temporary file for ``name`` in ``folder`` (permissions as open() would give)."""
    while True:
        tmp = os.path.join(folder, f"{_temp_prefix(name)}{os.getpid()}-{secrets.token_hex(4)}{_suffix(name)}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:  # pragma: no cover - a 32-bit random collision
            continue


def _running(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # on Windows os.kill(pid, 0) would terminate the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process, or a number we cannot check: leave the file alone
    return True


def remove_stale_temps(folder: str, target: str | None = None) -> list[str]:
    """Delete chainrule's temporary files in ``folder`` whose process is no longer running.

    With ``target``, also the ``.<target>.<pid>.<8 hex>.tmp`` files that chainrule 0.1's ``save`` left.
    """
    legacy = re.compile(rf"^\.{re.escape(target)}\.(\d+)\.[0-9a-f]{{8}}\.tmp$") if target else None
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _STALE.match(name) or (legacy.match(name) if legacy else None)
        if match is None or _running(int(match.group(1))):
            continue
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.unlink(path)
                removed.append(path)
    return removed


# ----------------------------------------------------------------------------------------- what a path is
def _standard_stream(st: os.stat_result) -> int | None:
    """1 or 2 if ``st`` is the file behind this process's stdout or stderr, else None."""
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            own = os.fstat(fd)
            if (own.st_dev, own.st_ino) == (st.st_dev, st.st_ino):
                return fd
    return None


def _classify(path: str, dash_is_stdout: bool) -> tuple[str, Any]:
    """``("replace", real_path)``, ``("through", path)``, ``("fd", 1 or 2)`` or ``("stdout", None)``."""
    if dash_is_stdout and path == "-":
        return "stdout", None
    if not path:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
    if path.endswith(os.sep):  # "out/" names a folder, as open() says
        raise IsADirectoryError(errno.EISDIR, "Is a directory, not a file", path)
    try:
        st = os.stat(path)  # follows symlinks: what would actually be written
    except FileNotFoundError:
        st = None  # a new file, or a dangling symlink (its target gets created)
    if st is None:
        return "replace", os.path.realpath(path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory, not a file", path)
    fd = _standard_stream(st) if os.path.islink(path) else None
    if fd is not None:  # /dev/stdout and the like: reopening would truncate, replacing would orphan it
        return "fd", fd
    if not stat.S_ISREG(st.st_mode):
        return "through", path
    return "replace", os.path.realpath(path)


# ----------------------------------------------------------------------------------------------- writing
class PendingFile:
    """A temporary file whose content becomes ``path`` on :meth:`commit`; :meth:`discard` forgets it.

    ``tmp`` is where the caller writes (any writer that takes a path: ``open``, matplotlib, Graphviz...).
    """

    def __init__(self, path: str | os.PathLike[str], *, dash_is_stdout: bool = False) -> None:
        self.path = os.fspath(path)
        with blamed_on(self.path):
            self.kind, self.where = _classify(self.path, dash_is_stdout)
            if self.kind == "replace":
                folder, name = os.path.split(self.where)
                old = os.stat(self.where) if os.path.exists(self.where) else None
                if old is not None and not os.access(self.where, os.W_OK):  # as open() would refuse it
                    raise PermissionError(errno.EACCES, "Permission denied", self.path)
                remove_stale_temps(folder, name)
                self.tmp = _make_temp(folder, name)
            else:  # written through on commit: stage the content outside the device's folder
                folder = tempfile.gettempdir()
                remove_stale_temps(folder)
                self.tmp = _make_temp(folder, os.path.basename(self.path) or "stdout")
                old = None
        self._old = old

    def commit(self) -> None:
        """Put the content in place: rename (atomic) or copy through; the temporary file is gone after."""
        try:
            with blamed_on(self.path):
                if self.kind == "replace":
                    self._replace()
                else:
                    self._copy_through()
        finally:
            self.discard()

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)

    def _replace(self) -> None:
        if self._old is not None:  # an existing file keeps its permissions (and owner, where allowed)
            os.chmod(self.tmp, stat.S_IMODE(self._old.st_mode))
            with contextlib.suppress(OSError, AttributeError):  # chown: POSIX only, and allowed for root
                if (self._old.st_uid, self._old.st_gid) != (os.getuid(), os.getgid()):
                    os.chown(self.tmp, self._old.st_uid, self._old.st_gid)
        fd = os.open(self.tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self.tmp, self.where)
        _fsync_folder(os.path.dirname(self.where))

    def _copy_through(self) -> None:
        with open(self.tmp, "rb") as src:
            if self.kind == "stdout":
                _copy_to_stdout(src)
            elif self.kind == "fd":
                (sys.stdout if self.where == 1 else sys.stderr).flush()
                _copy_to_fd(src, self.where)
            else:
                with open(self.path, "wb") as dst:  # a FIFO or a device: never O_EXCL, never renamed
                    shutil.copyfileobj(src, dst, _CHUNK)


def _copy_to_fd(src: IO[bytes], fd: int) -> None:
    while chunk := src.read(_CHUNK):
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]


def _copy_to_stdout(src: IO[bytes]) -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a notebook's stdout takes text only
        sys.stdout.write(src.read().decode("utf-8", errors="replace"))
    else:
        shutil.copyfileobj(src, buffer, _CHUNK)
        buffer.flush()


def _fsync_folder(folder: str) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened or synced."""
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_file(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any], *, dash_is_stdout: bool = False
) -> None:
    """Call ``write(f)`` on a binary file that becomes ``path`` only once everything was written."""
    pending = PendingFile(path, dash_is_stdout=dash_is_stdout)
    try:
        with blamed_on(pending.path), open(pending.tmp, "wb") as f:
            write(f)
        pending.commit()
    finally:
        pending.discard()


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back until the block is done, so a group of renames is never cut in half.

    Only the main thread can receive SIGINT, and only where ``pthread_sigmask`` exists; elsewhere a no-op.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)  # a held Ctrl-C is raised right here
