"""Finding a dataset on disk: an explicit path, the shared data folder, then the download cache.

Search order when no ``path`` is given:

1. the shared data folder: ``$EDSTUDY_SHARED_DATA`` when set (then only there), otherwise
   ``../shared/data/real`` beside the repository checkout edstudy is installed from, and beside
   the current working directory;
2. the download cache: ``$EDSTUDY_DATA`` when set, otherwise
   ``platformdirs.user_cache_dir("edstudy")``;
3. with ``download=True``, a fresh download into the cache (see :mod:`edstudy.datasets._download`).

Each dataset lives in its own folder (``SOURCES[...].folder``) under the shared or cache root.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from edstudy.datasets._download import fetch, verify_cached
from edstudy.datasets._errors import DataNotFoundError
from edstudy.datasets.sources import SOURCES, DataSource

__all__ = ["cache_dir", "locate", "shared_data_dirs"]


def _checkout_root() -> Path | None:
    """The repository root when edstudy runs from a checkout (``src/edstudy/datasets/...``)."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() else None


def shared_data_dirs() -> list[Path]:
    """Candidate shared data folders, in search order (they need not exist)."""
    env = os.environ.get("EDSTUDY_SHARED_DATA")
    if env:
        return [Path(env).expanduser()]
    candidates = []
    root = _checkout_root()
    if root is not None:
        candidates.append(root.parent / "shared" / "data" / "real")
    candidates.append(Path.cwd().parent / "shared" / "data" / "real")
    unique: list[Path] = []
    for c in candidates:
        if all(c.resolve() != u.resolve() for u in unique):
            unique.append(c)
    return unique


def cache_dir() -> Path:
    """Root of the download cache: ``$EDSTUDY_DATA`` or the user cache directory of edstudy."""
    env = os.environ.get("EDSTUDY_DATA")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("edstudy"))


def _find_in(folder: Path, source: DataSource) -> Path | None:
    for name in source.files:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def locate(key: str, path: str | os.PathLike[str] | None, *, download: bool, verbose: bool) -> Path:
    """The file of dataset ``SOURCES[key]``, from ``path`` or the search order above.

    Parameters
    ----------
    key : str
        Key of :data:`~edstudy.datasets.sources.SOURCES`.
    path : path-like, optional
        A file, or a folder holding one of the dataset's file names (directly or in its folder).
    download : bool
        Fetch into the cache when no copy is found.
    verbose : bool
        Show download progress.

    Raises
    ------
    DataNotFoundError
        Naming every place looked and how to get the data.
    """
    source = SOURCES[key]
    if path is not None:
        given = Path(path).expanduser()
        if given.is_file():
            return given
        if given.is_dir():
            found = _find_in(given, source) or _find_in(given / source.folder, source)
            if found is not None:
                return found
            names = ", ".join(source.files)
            raise DataNotFoundError(f"{source.name}: none of {names} is in the folder {given}")
        raise DataNotFoundError(f"{source.name}: {given} does not exist")

    looked: list[str] = []
    for root in shared_data_dirs():
        folder = root / source.folder
        found = _find_in(folder, source)
        if found is not None:
            return found
        why = (
            "EDSTUDY_SHARED_DATA"
            if os.environ.get("EDSTUDY_SHARED_DATA")
            else "shared data; set EDSTUDY_SHARED_DATA to change"
        )
        looked.append(f"{folder} ({why})")
    cache = cache_dir() / source.folder
    found = _find_in(cache, source)
    if found is not None and verify_cached(found, label=source.name):
        return found
    why = (
        "EDSTUDY_DATA"
        if os.environ.get("EDSTUDY_DATA")
        else "download cache; set EDSTUDY_DATA to move it"
    )
    looked.append(f"{cache} ({why})")

    if download:
        if source.download is None:
            raise DataNotFoundError(
                f"{source.name}: no stable download exists; {source.how_to_get}"
            )
        fetch(source.download, cache, label=source.name, verbose=verbose)
        found = _find_in(cache, source)
        if found is None:  # pragma: no cover - fetch checks its files
            raise DataNotFoundError(f"{source.name}: download finished but no file in {cache}")
        return found

    places = "\n".join(f"  - {p}" for p in looked)
    raise DataNotFoundError(
        f"{source.name}: no copy found. Looked for {', '.join(source.files)} in:\n{places}\n"
        f"To get it: {source.how_to_get}."
    )
