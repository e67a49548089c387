"""Shared pieces of the command line: one-line errors, argument checks, atomic writes, progress bars."""

from __future__ import annotations

import argparse
import contextlib
import errno
import math
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn

from chainrule._files import PendingFile, blamed_on, deferred_interrupts, renamed

__all__ = [
    "ArgumentParser",
    "AtomicWriter",
    "CLIError",
    "check_writable_file",
    "check_writable_folder",
    "existing_file",
    "positive_float",
    "positive_int",
    "progress",
    "say",
    "write_atomic",
]


class CLIError(Exception):
    """An error caused by what the user typed; ``main`` prints it on one line and exits with status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are a single line: ``chainrule: error: ... (see --help)``."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.replace("chainrule", "").strip()
        hint = f"see 'chainrule {where} --help'" if where else "see 'chainrule --help'"
        message = " ".join(message.split())
        self.exit(2, f"chainrule: error: {message} ({hint})\n")


def positive_int(text: str) -> int:
    """An argparse type: an integer > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def nonnegative_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


def existing_file(text: str) -> Path:
    """An argparse type: a path to a file that exists."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file: {text!r}")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"not a file: {text!r}")
    return path


def check_writable_folder(folder: Path) -> Path:
    """Raise :class:`CLIError` unless ``folder`` is (or can be created as) a writable folder.

    Nothing is created: the folder is made only when the results are written, so an early error or
    a Ctrl-C leaves no trace on disk.
    """
    folder = Path(folder)
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise CLIError(f"cannot write to folder '{folder}': '{probe}' is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise CLIError(f"cannot write to folder '{folder}': permission denied on '{probe}'")
    return folder


def check_writable_file(path: Path, suffixes: Iterable[str] | None = None) -> Path:
    """Raise :class:`CLIError` unless ``path`` can be written (its folder writable, suffix allowed).

    ``-`` (stdout), FIFOs and devices are written through, so only they must be writable; a symlink is
    judged by the file it points to, whose folder gets the temporary file.
    """
    path = Path(path)
    if suffixes is not None:
        allowed = tuple(suffixes)
        if path.suffix.lower() not in allowed:
            raise CLIError(f"cannot write '{path}': the file name must end in one of {', '.join(allowed)}")
    if str(path) == "-":
        return path
    if path.is_dir():
        raise CLIError(f"cannot write '{path}': it is a folder")
    if path.exists() and not path.is_file():  # a FIFO, a device, /dev/stdout: written through
        if not os.access(path, os.W_OK):
            raise CLIError(f"cannot write '{path}': permission denied")
        return path
    real = Path(os.path.realpath(path))
    check_writable_folder(real.parent)
    return path


class AtomicWriter:
    """Write several files so that either all of them appear complete or none of them does.

    Each ``path(name)`` gives a temporary file next to its destination; ``commit()`` puts them all in place
    (see :mod:`chainrule._files`: regular files are renamed over, symlinks keep pointing at the new file,
    FIFOs and devices are written through), with Ctrl-C held back until the last one is done. Leaving the
    ``with`` block without ``commit()`` (an error, Ctrl-C) removes the temporary files and any folder the
    writer created, so an interrupted run leaves no trace; errors name the destination, not the temporary.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with AtomicWriter(folder) as w:
    ...     _ = w.path("a.txt").write_text("hello")
    ...     _ = w.commit()
    >>> (folder / "a.txt").read_text()
    'hello'
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._pending: list[PendingFile] = []
        self._created: list[Path] = []  # folders this writer made, deepest first
        self._committed = False

    def __enter__(self) -> AtomicWriter:
        missing = self.folder
        while not missing.exists() and missing.parent != missing:
            self._created.append(missing)
            missing = missing.parent
        with blamed_on(str(self.folder)):
            self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def path(self, name: str) -> Path:
        """A temporary path whose content becomes ``folder/name`` on ``commit()``."""
        pending = PendingFile(self.folder / name)
        self._pending.append(pending)
        return Path(pending.tmp)

    def commit(self) -> list[Path]:
        """Move every temporary file to its destination; returns the destinations."""
        done = []
        with deferred_interrupts():
            for pending in self._pending:
                pending.commit()
                done.append(Path(pending.path))
            self._pending.clear()
            self._committed = True
        return done

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        pending, self._pending = self._pending, []
        for p in pending:
            p.discard()
        if not self._committed:
            for folder in self._created:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if still empty
        if isinstance(exc, OSError) and pending:  # a writer failed on a temporary file: name its destination
            named = [p for p in pending if p.tmp in (_fspath(exc.filename), _fspath(exc.filename2))]
            if named or (exc.filename is None and exc.errno in _DISK_ERRORS):  # write() names no file
                raise renamed(exc, (named or pending)[-1].path) from None


_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}  # blamed on the latest file


def _fspath(name: Any) -> Any:
    return os.fspath(name) if isinstance(name, (str, os.PathLike)) else name


def write_atomic(path: Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary file, then put it in place as ``path`` (see :class:`AtomicWriter`).

    Missing folders are created; ``-`` means standard output; FIFOs and devices are written through.
    """
    path = Path(path)
    if str(path) != "-":
        with AtomicWriter(path.parent) as w:
            write(w.path(path.name))
            w.commit()
        return path
    pending = PendingFile("-", dash_is_stdout=True)
    try:
        write(Path(pending.tmp))
        pending.commit()
    finally:
        pending.discard()
    return path


def say(text: str = "") -> None:
    """Print to stdout and flush (so output interleaves correctly with progress bars on stderr)."""
    print(text, flush=True)


@contextlib.contextmanager
def progress(total: int, desc: str, enabled: bool = True) -> Iterator[Callable[[int, dict[str, str]], None]]:
    """A progress bar (``tqdm.auto`` when installed: a widget in Jupyter, text in a terminal; no bar when
    stderr is not a terminal, e.g. logs and CI, where the per-epoch lines remain); yields
    ``update(n, postfix)``."""
    from chainrule.viz._progress import progress_bar  # noqa: PLC0415 (imports tqdm only when used)

    bar = progress_bar(total, desc, unit="batch") if enabled else None
    done = 0

    def update(n: int, postfix: dict[str, str]) -> None:
        nonlocal done
        done += n
        if bar is not None:
            bar.set_postfix(postfix, refresh=False)
            bar.update(n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()
