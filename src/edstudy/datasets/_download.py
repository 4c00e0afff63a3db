"""Downloading a dataset file into the cache, checking its SHA-256 before keeping it.

The bytes go to ``<name>.part`` while their SHA-256 is computed; only a file whose hash matches
the published one is renamed into place, so an interrupted or altered download never looks like
data. Zip archives are then unpacked (only the named members, by base name).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from edstudy.datasets._errors import ChecksumError, DataNotFoundError
from edstudy.datasets.sources import RemoteFile

__all__ = ["fetch", "sha256_of"]

logger = logging.getLogger("edstudy.datasets")

_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _stream(url: str, target: Path, *, verbose: bool) -> str:
    from tqdm.auto import tqdm  # only when downloading: it may pick Jupyter's progress bar

    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:
        total = response.headers.get("Content-Length") if hasattr(response, "headers") else None
        with tqdm(
            total=int(total) if total else None,
            unit="B",
            unit_scale=True,
            desc=target.name.removesuffix(".part"),
            disable=not verbose,
        ) as bar:
            for block in iter(lambda: response.read(_CHUNK), b""):
                digest.update(block)
                out.write(block)
                bar.update(len(block))
    return digest.hexdigest()


def write_checksum(path: Path, digest: str | None = None) -> None:
    """Record a cached file's SHA-256 beside it (``<name>.sha256``), for :func:`verify_cached`."""
    got = digest or sha256_of(path)
    path.with_name(f"{path.name}.sha256").write_text(f"{got}  {path.name}\n")


def verify_cached(path: Path, *, label: str) -> bool:
    """Whether a cached file still has the SHA-256 recorded when it was stored.

    A file that does not (truncated, damaged on disk, edited) is removed with its record and a
    warning, so it is never reused; the caller then downloads it again or says it is missing.
    A file without a record (stored by an older edstudy) is accepted.
    """
    record = path.with_name(f"{path.name}.sha256")
    if not record.is_file():
        return True
    expected = record.read_text().split()[0] if record.read_text().strip() else ""
    if sha256_of(path) == expected:
        return True
    logger.warning(
        "%s: the cached %s is corrupt (its SHA-256 differs from the one recorded when it was "
        "stored); it was removed",
        label,
        path,
    )
    path.unlink(missing_ok=True)
    record.unlink(missing_ok=True)
    return False


def _extract(archive: Path, members: tuple[str, ...], folder: Path) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as err:
        raise DataNotFoundError(f"{archive}: not a readable zip archive ({err})") from None
    with zf:
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in zf.infolist():
            base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
            if base in members and base not in by_name and not info.is_dir():
                by_name[base] = info
        missing = [m for m in members if m not in by_name]
        if missing:
            raise DataNotFoundError(
                f"{archive}: the archive lacks {', '.join(missing)}; it has: "
                f"{', '.join(i.filename for i in zf.infolist())}"
            )
        for name, info in by_name.items():
            part = folder / f"{name}.part"
            try:
                with zf.open(info) as src, open(part, "wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
            except (zipfile.BadZipFile, OSError, EOFError) as err:
                part.unlink(missing_ok=True)
                raise DataNotFoundError(f"{archive}: could not extract {name}: {err}") from None
            os.replace(part, folder / name)
            write_checksum(folder / name)


def fetch(remote: RemoteFile, folder: Path, *, label: str, verbose: bool = False) -> Path:
    """Download ``remote`` into ``folder`` and check its SHA-256; unpack it if it is an archive.

    Parameters
    ----------
    remote : RemoteFile
        URL, file name, expected SHA-256 and archive members.
    folder : Path
        Destination folder (created if needed).
    label : str
        Dataset name for messages.
    verbose : bool
        Show a progress bar.

    Returns
    -------
    Path
        The downloaded file.

    Raises
    ------
    ChecksumError
        ``<url>: SHA-256 mismatch: expected <e>, got <g>; the download was discarded``.
    DataNotFoundError
        When the URL cannot be read.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / remote.filename
    part = folder / f"{remote.filename}.part"
    logger.info("%s: downloading %s into %s", label, remote.url, folder)
    try:
        got = _stream(remote.url, part, verbose=verbose)
    except (urllib.error.URLError, OSError) as err:
        part.unlink(missing_ok=True)
        raise DataNotFoundError(f"{label}: could not download {remote.url}: {err}") from err
    if remote.sha256 is None:
        logger.warning(
            "%s: %s has no published SHA-256; the downloaded file's SHA-256 is %s",
            label,
            remote.url,
            got,
        )
    elif got != remote.sha256.lower():
        part.unlink(missing_ok=True)
        raise ChecksumError(
            f"{remote.url}: SHA-256 mismatch: expected {remote.sha256}, got {got}; "
            "the download was discarded"
        )
    os.replace(part, target)
    write_checksum(target, got)
    if remote.members:
        _extract(target, remote.members, folder)
    return target
