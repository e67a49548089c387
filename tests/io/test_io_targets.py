"""Saving never destroys what is at a path: symlinks, FIFOs, devices, stdout, folders, full disks, killed
saves, long names and non-native byte order. One mechanism serves ``cr.save`` and the command line."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import io as crio
from chainrule.cli._common import AtomicWriter, CLIError, check_writable_file, write_atomic

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def temps(folder: Path) -> list[str]:
    """chainrule's temporary files (and the old ``.name.<pid>.<hex>.tmp`` ones) left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if "chainrule-tmp" in p.name or p.name.endswith(".tmp"))


def saved_bytes(tmp_path: Path, obj: object) -> bytes:
    """What ``cr.save`` writes for ``obj`` into a plain new file."""
    ref = tmp_path / "reference" / "ref.safetensors"
    ref.parent.mkdir(exist_ok=True)
    cr.save(obj, ref)
    return ref.read_bytes()


@contextlib.contextmanager
def reading(path: Path) -> Iterator[list[bytes]]:
    """Read ``path`` (a FIFO) to its end in a thread; the bytes are in the yielded list afterwards."""
    got: list[bytes] = []
    thread = threading.Thread(target=lambda: got.append(Path(path).read_bytes()), daemon=True)
    thread.start()
    yield got
    thread.join(10)
    assert not thread.is_alive(), "the FIFO was never closed by the writer"


# --- symlinks -----------------------------------------------------------------------------------------------
def test_saving_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "runs" / "best.safetensors"
    real.parent.mkdir()
    cr.save({"w": cr.ones(2)}, real)
    os.chmod(real, 0o640)
    link = tmp_path / "latest.safetensors"
    link.symlink_to(os.path.relpath(real, tmp_path))  # a relative link, as `ln -s` makes
    chain = tmp_path / "chain.safetensors"
    chain.symlink_to(link)  # a link to a link
    cr.save({"w": cr.zeros(3)}, chain)
    assert link.is_symlink() and chain.is_symlink()
    assert os.readlink(chain) == str(link) and os.readlink(link) == os.path.relpath(real, tmp_path)
    assert cr.load(real)["w"].tolist() == [0, 0, 0]
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o640  # the target keeps its permissions
    assert temps(tmp_path) == temps(real.parent) == []


def test_a_dangling_symlink_gets_its_target_created(tmp_path: Path) -> None:
    link = tmp_path / "link.safetensors"
    link.symlink_to("target.safetensors")
    cr.save({"w": cr.ones(1)}, link)
    assert link.is_symlink() and (tmp_path / "target.safetensors").is_file()
    assert cr.load(link)["w"].tolist() == [1]


def test_cli_writers_keep_symlinks_too(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere" / "report.md"
    real.parent.mkdir()
    real.write_text("old")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.md").symlink_to(real)
    write_atomic(tmp_path / "out" / "report.md", lambda tmp: tmp.write_text("new"))
    with AtomicWriter(tmp_path / "out") as w:
        w.path("report.md").write_text("newer")
        w.commit()
    assert (tmp_path / "out" / "report.md").is_symlink() and real.read_text() == "newer"
    assert temps(real.parent) == temps(tmp_path / "out") == []


# --- FIFOs, devices, stdout: written through ----------------------------------------------------------------
def test_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    obj = {"w": cr.arange(4), "epoch": 2}
    with reading(fifo) as got:
        cr.save(obj, fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got == [saved_bytes(tmp_path, obj)]  # exactly what a regular file would hold
    with reading(fifo) as got:
        write_atomic(fifo, lambda tmp: tmp.write_text("# report\n"))
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and got == [b"# report\n"]
    assert temps(tmp_path) == []


def test_load_reads_from_a_fifo(tmp_path: Path) -> None:
    data = saved_bytes(tmp_path, {"w": cr.arange(3), "n": 1})
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    thread = threading.Thread(target=lambda: fifo.write_bytes(data), daemon=True)
    thread.start()
    back = cr.load(fifo)
    thread.join(10)
    assert back["w"].tolist() == [0, 1, 2] and back["n"] == 1


@pytest.fixture
def null_device(tmp_path: Path) -> Path:
    """A character device like /dev/null, made in a temporary folder (never the machine's /dev)."""
    if not ROOT:
        pytest.skip("mknod of a character device needs root")
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return node


def test_a_character_device_is_written_through_not_replaced(tmp_path: Path, null_device: Path) -> None:
    rdev = os.lstat(null_device).st_rdev
    cr.save({"w": cr.ones(1000)}, null_device)
    write_atomic(null_device, lambda tmp: tmp.write_text("report"))
    with AtomicWriter(tmp_path) as w:
        w.path("null").write_bytes(b"x" * 10)
        w.commit()
    st = os.lstat(null_device)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == rdev
    assert temps(tmp_path) == []
    check_writable_file(null_device)  # the command line accepts it as an output


def _run_python(code: str, stdout: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120
    )


def test_a_path_to_our_own_stdout_writes_to_stdout(tmp_path: Path) -> None:
    """``--markdown /dev/stdout`` (here a link to ``/proc/self/fd/1`` in a temporary folder, so the machine's
    /dev is never at risk): the text goes to stdout, a redirected file is appended to, not truncated or
    replaced, and what the program prints afterwards still arrives."""
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    code = (
        "from pathlib import Path; from chainrule.cli._common import write_atomic\n"
        f"write_atomic(Path({str(link)!r}), lambda tmp: tmp.write_text('report\\n'))\n"
        "print('after', flush=True)\n"
    )
    piped = _run_python(code, subprocess.PIPE)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == "report\nafter\n" and link.is_symlink()
    log = tmp_path / "log.txt"
    log.write_text("before\n")
    with open(log, "a") as f:  # `... >> log.txt`
        appended = _run_python(code, f)
    assert appended.returncode == 0, appended.stderr
    assert log.read_text() == "before\nreport\nafter\n" and link.is_symlink()


def test_dash_is_stdout_for_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.chdir(tmp_path)
    check_writable_file(Path("-"))
    write_atomic(Path("-"), lambda tmp: tmp.write_text("# to stdout\n"))
    assert capsys.readouterr().out == "# to stdout\n"
    assert list(tmp_path.iterdir()) == []  # no file named '-'


# --- folders ------------------------------------------------------------------------------------------------
def test_a_folder_is_a_clear_error_and_stays_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    (tmp_path / "link").symlink_to(folder)
    for target in (folder, tmp_path / "link"):
        with pytest.raises(IsADirectoryError) as info:
            cr.save({"w": cr.ones(1)}, target)
        assert str(target) in str(info.value)
        with pytest.raises(IsADirectoryError):
            write_atomic(target, lambda tmp: tmp.write_text("x"))
        with pytest.raises(CLIError, match="folder"):
            check_writable_file(target)
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"] and temps(tmp_path) == []
    with pytest.raises(IsADirectoryError):  # "new/" names a folder even before it exists, as open() says
        cr.save({"w": cr.ones(1)}, f"{tmp_path}/new/")
    with pytest.raises(FileNotFoundError):
        cr.save({"w": cr.ones(1)}, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "run"]


def test_a_read_only_file_is_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``open(path, 'wb')`` refuses a file without write permission; an atomic rename must not sneak past it.
    (``os.access`` is patched because root may write anything.)"""
    path = tmp_path / "frozen.safetensors"
    cr.save({"w": cr.ones(1)}, path)
    before = path.read_bytes()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == path else real_access(p, mode))
    with pytest.raises(PermissionError) as info:
        cr.save({"w": cr.zeros(1)}, path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before and temps(tmp_path) == []


# --- full disk ----------------------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 kB tmpfs (root only; skipped where it cannot be mounted)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if not ROOT:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_an_os_error_naming_the_target(small_disk: Path) -> None:
    path = small_disk / "ckpt.safetensors"
    cr.save({"w": cr.ones(10)}, path)
    before = path.read_bytes()
    with pytest.raises(OSError) as info:
        cr.save({"w": cr.ones(200_000)}, path)  # 800 kB on a 256 kB disk
    assert info.value.errno == errno.ENOSPC and type(info.value) is OSError
    assert info.value.filename == str(path) and "chainrule-tmp" not in str(info.value)
    assert path.read_bytes() == before and temps(small_disk) == []
    with pytest.raises(OSError) as info:
        write_atomic(small_disk / "report.md", lambda tmp: tmp.write_text("x" * 1_000_000))
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(small_disk / "report.md")
    with pytest.raises(OSError) as info, AtomicWriter(small_disk / "run") as w:
        w.path("metrics.json").write_text("y" * 1_000_000)
        w.commit()
    assert info.value.filename == str(small_disk / "run" / "metrics.json")
    assert sorted(p.name for p in small_disk.iterdir()) == ["ckpt.safetensors"]  # no temp, no empty folder


def test_a_full_disk_mid_write_with_a_patched_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same without root: the writer fills part of the file, then fails as a full disk does."""
    path = tmp_path / "ckpt.safetensors"
    cr.save({"w": cr.ones(3)}, path)
    before = path.read_bytes()

    def fill_then_fail(f, head, arrays):
        f.write(head)
        raise OSError(errno.ENOSPC, "No space left on device", f.name)  # names the temp file, as the OS does

    monkeypatch.setattr(crio, "_write_safetensors", fill_then_fail)
    with pytest.raises(OSError) as info:
        cr.save({"w": cr.zeros(100)}, path)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert "chainrule-tmp" not in str(info.value)
    assert path.read_bytes() == before and temps(tmp_path) == []


def test_safetensors_errors_never_escape(tmp_path: Path) -> None:
    """complex128 is no safetensors dtype: a TypeError naming the value (safetensors' error names none)."""
    path = tmp_path / "ckpt.safetensors"
    cr.save({"w": cr.ones(1)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"complex128 at 'model\.z'"):
        cr.save({"model": {"z": np.zeros(2, np.complex128)}}, path)
    assert path.read_bytes() == before and temps(tmp_path) == []


# --- killed saves and temp names ----------------------------------------------------------------------------
def killed_pid(name: str) -> int:
    return int(name.split("chainrule-tmp-")[1].split("-")[0])


KILLED_SAVE = """
import os, signal, sys
import chainrule as cr
from chainrule import io as crio

def die(f, head, arrays):
    f.write(head)
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)

crio._write_safetensors = die
cr.save({"w": cr.ones(1000)}, sys.argv[1])
"""


def test_a_killed_save_leaves_a_recognisable_temp_that_the_next_save_removes(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.safetensors"
    cr.save({"w": cr.ones(3)}, path)
    before = path.read_bytes()
    for _ in range(2):  # the second killed save removes the first one's temp, and leaves its own
        killed = subprocess.run(
            [sys.executable, "-c", KILLED_SAVE, str(path)], capture_output=True, timeout=120
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        left = temps(tmp_path)
        assert len(left) == 1 and left[0].startswith(
            f".ckpt.safetensors.chainrule-tmp-{killed_pid(left[0])}-"
        )
    assert path.read_bytes() == before  # the old checkpoint survived the kill
    alive = tmp_path / f".other.safetensors.chainrule-tmp-{os.getpid()}-0123abcd.safetensors"
    alive.write_bytes(b"a save in progress in a live process")
    cr.save({"w": cr.zeros(2)}, path)
    assert temps(tmp_path) == [alive.name]  # the dead processes' temps are gone, a live one stays
    assert cr.load(path)["w"].tolist() == [0, 0]


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def test_cli_writers_and_old_temp_names_are_cleaned_up_too(tmp_path: Path) -> None:
    pid = dead_pid()
    stale = tmp_path / f".report.md.chainrule-tmp-{pid}-deadbeef.md"
    legacy = tmp_path / f".ckpt.safetensors.{pid}.0123abcd.tmp"  # what chainrule 0.1's save left
    others = [tmp_path / ".notes.txt.swp", tmp_path / f".other.st.{pid}.0123abcd.tmp"]
    for path in [stale, legacy, *others]:
        path.write_bytes(b"x")
    write_atomic(tmp_path / "report.md", lambda tmp: tmp.write_text("z"))
    assert not stale.exists() and legacy.exists()
    cr.save({"w": cr.ones(1)}, tmp_path / "ckpt.safetensors")
    assert not legacy.exists() and all(p.exists() for p in others)  # only names chainrule made for it


@pytest.mark.parametrize(
    "name",
    ["a" * 243 + ".safetensors", "é" * 120 + ".st", "b" * 255, "c" * 240 + ".png"],
    ids=["255 bytes", "243 bytes in UTF-8", "255 bytes without suffix", "244 bytes .png"],
)
def test_legal_long_names_work(tmp_path: Path, name: str) -> None:
    assert len(os.fsencode(name)) <= 255
    path = tmp_path / name
    cr.save({"w": cr.ones(2)}, path)
    cr.save({"w": cr.zeros(2)}, path)  # replacing too
    assert cr.load(path)["w"].tolist() == [0, 0]
    with AtomicWriter(tmp_path) as w:
        tmp = w.path(name)
        if Path(name).suffix:  # writers that pick the format from the suffix still can
            assert tmp.suffix == Path(name).suffix
        tmp.write_bytes(b"data")
        w.commit()
    assert path.read_bytes() == b"data" and temps(tmp_path) == []


def test_errors_name_the_target_not_the_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ckpt.safetensors"

    def cross_device(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link", src, dst)

    monkeypatch.setattr(os, "replace", cross_device)
    with pytest.raises(OSError) as info:
        cr.save({"w": cr.ones(1)}, path)
    assert info.value.filename == str(path) and "chainrule-tmp" not in str(info.value)
    with pytest.raises(OSError) as info:
        write_atomic(tmp_path / "graph.dot", lambda tmp: tmp.write_text("digraph {}"))
    assert info.value.filename == str(tmp_path / "graph.dot")
    monkeypatch.undo()
    assert temps(tmp_path) == []


# --- the command line's multi-file commit -------------------------------------------------------------------
CTRL_C_IN_COMMIT = """
import os, signal, sys
from pathlib import Path
from chainrule import _files
from chainrule.cli._common import AtomicWriter

real_commit = _files.PendingFile.commit

def interrupted(self):
    if self.path.endswith("a.txt"):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C after the first rename
    real_commit(self)

_files.PendingFile.commit = interrupted
out = Path(sys.argv[1])
try:
    with AtomicWriter(out) as w:
        for name in ("a.txt", "b.txt", "c.txt"):
            w.path(name).write_text(name)
        w.commit()
except KeyboardInterrupt:
    print("interrupted after the commit")
"""


def test_ctrl_c_during_a_commit_waits_until_every_file_is_in_place(tmp_path: Path) -> None:
    """In a fresh process, so that its main thread gets the SIGINT whatever runs this test (xdist...)."""
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-c", CTRL_C_IN_COMMIT, str(out)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout == "interrupted after the commit\n", done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt", "c.txt"]


def test_an_interrupted_writer_leaves_no_empty_folder(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "xor-mlp"
    with pytest.raises(KeyboardInterrupt), AtomicWriter(out) as w:
        w.path("model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "mine.txt").write_text("user data")
    with pytest.raises(RuntimeError), AtomicWriter(out):
        raise RuntimeError("failed")
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["mine.txt"]


# --- byte order ---------------------------------------------------------------------------------------------
def test_non_native_byte_order_saves_and_loads_as_native(tmp_path: Path, torch) -> None:
    from safetensors.torch import load_file

    other = ">" if sys.byteorder == "little" else "<"
    values = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
        "f64": np.linspace(-1, 1, 5),
        "i16": np.array([-2, 300, 7], dtype=np.int16),
        "c64": np.array([1 + 2j, -3j], dtype=np.complex64),
    }
    swapped = {k: v.astype(v.dtype.newbyteorder(other)) for k, v in values.items()}
    path = tmp_path / "be.safetensors"
    cr.save({"arrays": swapped, "t": cr.tensor(swapped["f32"])}, path)
    back = cr.load(path)
    for key, expected in values.items():
        got = back["arrays"][key]
        assert got.dtype == expected.dtype and got.dtype.isnative
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(back["t"].data, values["f32"])
    flat = tmp_path / "flat.safetensors"
    cr.save(swapped, flat)  # a flat dict of tensors: torch reads it too
    theirs = load_file(flat)
    for key, expected in values.items():
        np.testing.assert_array_equal(theirs[key].numpy(), expected)
