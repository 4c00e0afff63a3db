"""Result folders that never destroy a user's files and never look complete when they are not.

Every folder edstudy writes (a study's results, a trial's analysis, the HTML reports) goes through
:func:`result_folder`:

1. The target is checked **before any work**: it must be absent, empty, or an earlier edstudy
   result (a folder with a valid ``manifest.json``) that the caller agreed to replace
   (``overwrite=True``). A folder holding files edstudy did not write is refused, naming them; an
   unwritable place is refused at once, not after an hour of simulation.
2. The caller writes into a temporary sibling (``.NAME.part-XXXX``) on the same file system.
3. ``manifest.json`` is written **last**, listing every file with its size and SHA-256, the kind
   of result, the seed, the command, and the versions of edstudy and its main packages. It holds
   no timestamps and no absolute paths, so the same command with the same seed writes the same
   bytes.
4. The temporary folder is renamed into place (an earlier result is first renamed aside, then
   removed). Interrupted at any point before the rename, the target is untouched; the partial
   folder is removed, or, after a hard kill, left as a hidden ``.part`` sibling that no reader
   accepts.

A Ctrl-C is not always seen where it is pressed: Python raises ``KeyboardInterrupt`` inside
whatever runs at that moment, and a callback from compiled code (numba loading its cache through
llvmlite) reports it as "Exception ignored" and carries on. Under :func:`interrupts_latched` (the
command line runs every command inside it) a Ctrl-C is also remembered, and :func:`result_folder`
checks that memory before it moves anything into place: an interrupted run never publishes.

:func:`read_manifest` is what every reader calls first: it refuses a folder without a complete
manifest, or with a file missing, changed (size or hash differs) or added, naming the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = [
    "MANIFEST",
    "OutputError",
    "ResultError",
    "interrupts_latched",
    "read_manifest",
    "result_folder",
    "sha256_file",
    "write_file",
]

MANIFEST = "manifest.json"
#: Packages whose versions every manifest records.
_VERSIONED = ("edstudy", "numpy", "pandas", "scipy", "numba", "statsmodels", "pymc")
_FORMAT = 1


class OutputError(ValueError):
    """The output location cannot be used (refused before anything is written)."""


class ResultError(ValueError):
    """A result folder is incomplete or was changed after edstudy wrote it."""


_interrupted = threading.Event()


@contextlib.contextmanager
def interrupts_latched() -> Iterator[None]:
    """Remember every Ctrl-C (SIGINT) while the block runs, even one that is swallowed.

    The handler raises ``KeyboardInterrupt`` as Python's own does, and also sets a flag that
    :func:`result_folder` checks before it publishes a result. Outside the main thread, or when
    SIGINT is ignored (``nohup``) or handled by someone else, nothing changes.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return

    def latch(signum: int, frame: Any) -> None:
        _interrupted.set()
        raise KeyboardInterrupt

    _interrupted.clear()
    signal.signal(signal.SIGINT, latch)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _interrupted.clear()


def _raise_if_interrupted() -> None:
    if _interrupted.is_set():
        raise KeyboardInterrupt


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _versions() -> dict[str, str]:
    out = {"python": ".".join(map(str, sys.version_info[:3]))}
    for name in _VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _files_of(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST
    )


def read_manifest(folder: str | os.PathLike[str], *, kind: str | None = None) -> dict[str, Any]:
    """The manifest of a complete, unchanged edstudy result folder.

    Parameters
    ----------
    folder : path-like
    kind : str, optional
        The kind of result expected (``"study"``, ``"trial"``, ``"reports"``).

    Raises
    ------
    ResultError
        Naming the folder and the file: no manifest (an interrupted or foreign folder), a file
        listed but missing, a file whose size or SHA-256 differs, a file not in the manifest, or
        a result of another kind.
    """
    root = Path(folder)
    path = root / MANIFEST
    if not root.is_dir():
        raise ResultError(f"{root}: no such result folder")
    if not path.is_file():
        raise ResultError(
            f"{root}: no {MANIFEST}, so this is not a complete edstudy result (an interrupted "
            "run, or a folder edstudy did not write)"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = doc["files"]
        found_kind = doc["kind"]
    except (ValueError, KeyError, TypeError) as err:
        raise ResultError(f"{path}: not a readable edstudy manifest ({err})") from None
    if kind is not None and found_kind != kind:
        raise ResultError(f"{root}: holds a {found_kind!r} result, not a {kind!r} result")
    for name, entry in files.items():
        f = root / name
        if not f.is_file():
            raise ResultError(f"{root}: {name} is listed in {MANIFEST} but missing")
        if f.stat().st_size != entry["bytes"] or sha256_file(f) != entry["sha256"]:
            raise ResultError(
                f"{root}: {name} differs from what edstudy wrote (size or SHA-256 changed)"
            )
    extra = [n for n in _files_of(root) if n not in files]
    if extra:
        raise ResultError(f"{root}: files not written by edstudy: {', '.join(extra[:5])}")
    return doc


def _check_target(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, not a folder; choose a folder for the results")
    if not out.exists() or not any(out.iterdir()):
        return
    try:
        manifest = read_manifest(out)
    except ResultError as err:
        names = sorted(p.name for p in out.iterdir())
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise OutputError(
            f"{out} is not empty and is not an edstudy result ({err}); it holds {shown}. "
            "edstudy never overwrites files it did not write: choose an empty or new folder"
        ) from None
    if not overwrite:
        listed = ", ".join(sorted(manifest["files"])[:6])
        raise OutputError(
            f"{out} holds an earlier edstudy {manifest['kind']} result ({listed}); "
            "pass --overwrite (overwrite=True) to replace it, or choose another folder"
        )


def _write_manifest(
    folder: Path,
    *,
    kind: str,
    seed: int | None,
    command: Sequence[str] | None,
    extra: Mapping[str, Any] | None,
) -> None:
    files = {}
    for name in _files_of(folder):
        f = folder / name
        files[name] = {"bytes": f.stat().st_size, "sha256": sha256_file(f)}
    doc = {
        "edstudy_result": _FORMAT,
        "kind": kind,
        "seed": seed,
        "command": list(command) if command is not None else None,
        "versions": _versions(),
        **dict(extra or {}),
        "files": files,
    }
    text = json.dumps(doc, indent=1, sort_keys=False, default=str) + "\n"
    (folder / MANIFEST).write_text(text, encoding="utf-8")


@contextlib.contextmanager
def result_folder(
    out_dir: str | os.PathLike[str],
    *,
    kind: str,
    overwrite: bool = False,
    seed: int | None = None,
    command: Sequence[str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Iterator[Path]:
    """Write a result safely: yield a temporary folder, then publish it with its manifest.

    Parameters
    ----------
    out_dir : path-like
        Where the result should end up (created with its parents).
    kind : str
        What the result is (``"study"``, ``"trial"``, ``"reports"``), recorded and checked by
        :func:`read_manifest`.
    overwrite : bool
        Replace an earlier edstudy result at ``out_dir`` (never a folder edstudy did not write).
    seed : int, optional
    command : sequence of str, optional
        The command that made the result, recorded as given (callers replace machine-specific
        paths, so that two runs write the same bytes).
    extra : mapping, optional
        More plain data for the manifest.

    Yields
    ------
    Path
        The temporary folder to write every file into.

    Raises
    ------
    OutputError
        Before anything is written, when ``out_dir`` cannot be used.
    """
    out = Path(out_dir).expanduser()
    _check_target(out, overwrite)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.part-", dir=out.parent))
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; a result folder is not
    except OSError as err:
        raise OutputError(f"cannot write results next to {out}: {err.strerror or err}") from None
    try:
        yield tmp
        _raise_if_interrupted()
        _write_manifest(tmp, kind=kind, seed=seed, command=command, extra=extra)
        _raise_if_interrupted()
        old = None
        if out.exists():
            _check_target(out, overwrite)  # still ours to replace after the work?
            if any(out.iterdir()):
                old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
                os.replace(out, old / "result")
            else:
                out.rmdir()
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_file(
    path: str | os.PathLike[str],
    text: str,
    *,
    is_ours: Callable[[Path], bool],
    what: str,
) -> Path:
    """Write one file atomically (temporary sibling, then rename), never over a stranger's file.

    Parameters
    ----------
    path : path-like
    text : str
    is_ours : callable
        Says whether an existing file at ``path`` is one edstudy wrote (then it is replaced).
    what : str
        What the file is, for the error message (``"an edstudy BKT model"``).

    Raises
    ------
    OutputError
        When ``path`` exists and is not ours, or cannot be written.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        raise OutputError(f"{target} is a folder; give a file name")
    if target.exists() and not is_ours(target):
        raise OutputError(
            f"{target} exists and is not {what}; edstudy never overwrites files it did not "
            "write: choose another name"
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.part-", dir=target.parent)
    except OSError as err:
        raise OutputError(f"cannot write {target}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target
