"""Verified downloads into the cache: all or nothing.

A file is streamed into a temporary file *in the cache folder*, hashed on the way, and
moved into place with ``os.replace`` only once its checksum matches. Whatever goes wrong
(HTTP error, dropped connection, wrong checksum, Ctrl-C) the cache holds either the
verified file or nothing: never a half file that a later run would trust.

    >>> from vilab.datasets import fetch
    >>> path = fetch("rugged")          # downloads from the internet  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import DatasetUnavailable, DownloadError
from . import cache
from .cache import DatasetFile

DEFAULT_TIMEOUT = 30.0  # seconds without progress before a connection is given up
_CHUNK = 1 << 16


class _TransferFailed(Exception):
    """A response arrived but its body is unusable (short read or wrong checksum)."""


def _describe(error: BaseException) -> str:
    if isinstance(error, _TransferFailed):
        return str(error)
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"could not connect ({error.reason})"
    if isinstance(error, TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"


def _new_temp(entry: DatasetFile, target: Path):
    """An open temporary file beside ``target``, so ``os.replace`` is an atomic rename."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=f".{entry.filename}.", suffix=".part", delete=False
        )
    except OSError as error:
        raise DownloadError(
            f"Cannot write {entry.filename} into {target.parent}: {error}.\n"
            f"Point the cache at a writable folder: set {cache.ENV_VAR} or pass data_dir=."
        ) from error


def _install(temp_name: str, target: Path) -> None:
    """Move a verified temporary file into place (readable by all, like a normal download)."""
    os.chmod(temp_name, 0o644)  # NamedTemporaryFile creates files private to their owner
    os.replace(temp_name, target)


def _try_url(entry: DatasetFile, url: str, target: Path, progress: bool, timeout: float) -> None:
    """Download ``url`` to ``target`` or raise; never leaves a temporary file behind."""
    from tqdm.auto import tqdm  # imported here: tqdm.auto may pick a notebook widget

    request = urllib.request.Request(url, headers={"User-Agent": "vilab"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        declared = response.headers.get("Content-Length")
        expected = int(declared) if declared and declared.isdigit() else None
        digest = hashlib.new(entry.algo)
        received = 0
        temp = _new_temp(entry, target)
        try:
            with (
                temp,
                tqdm(
                    total=expected or entry.size,
                    unit="B",
                    unit_scale=True,
                    desc=entry.filename,
                    disable=not progress,
                    leave=False,
                ) as bar,
            ):
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    temp.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            if expected is not None and received != expected:
                raise _TransferFailed(f"connection closed after {received:,} of {expected:,} bytes")
            got = digest.hexdigest()
            if got != entry.checksum:
                raise _TransferFailed(
                    f"{entry.algo} mismatch: expected {entry.checksum}, got {got} "
                    f"({received:,} bytes)"
                )
            _install(temp.name, target)
        finally:
            if os.path.exists(temp.name):
                os.unlink(temp.name)


def download(
    entry: DatasetFile,
    root: str | os.PathLike | None = None,
    *,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """Fetch ``entry`` from its URLs in order (canonical, then mirrors); return the URL used.

    Always downloads, even when a copy is cached; most callers want :func:`fetch`.
    """
    target = cache.file_path(entry, root)
    failures = []
    for url in entry.urls:
        try:
            _try_url(entry, url, target, progress, timeout)
            return url
        # OSError covers HTTPError, URLError, timeouts and connection resets.
        except (OSError, http.client.HTTPException, _TransferFailed) as error:
            failures.append(f"  - {url}: {_describe(error)}")
    leftover = ""
    if target.exists():
        leftover = (
            f"The file already at {target} fails its {entry.algo} check; it was left as is.\n"
        )
    raise DownloadError(
        f"Could not download {entry.name!r} ({entry.filename}, {entry.size:,} bytes).\n"
        "Tried:\n" + "\n".join(failures) + "\n"
        f"Nothing was written to the cache ({target.parent}).\n"
        + leftover
        + cache.manual_hint(entry, root)
    )


def obtain(
    name: str,
    root: str | os.PathLike | None = None,
    *,
    download_missing: bool = True,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[Path, str]:
    """A verified local copy of ``name`` and its origin: ``"cache:PATH"`` or ``"download:URL"``.

    A cached file that passes its checksum is used without touching the network.
    """
    entry = cache.get_entry(name)
    path = cache.file_path(entry, root)
    status = cache.file_status(entry, root)
    if status == "cached":
        return path, f"cache:{path}"
    if not download_missing:
        problem = "is not in" if status == "missing" else "fails its checksum in"
        raise DatasetUnavailable(
            f"{entry.filename} ({entry.name!r}) {problem} the cache folder {path.parent}, "
            "and downloading is switched off (download=False).\n"
            f"Pass download=True, run `vilab data fetch {entry.name}`, set {cache.ENV_VAR} "
            "to a folder that holds it, or:\n" + cache.manual_hint(entry, root)
        )
    url = download(entry, root, progress=progress, timeout=timeout)
    return path, f"download:{url}"


def fetch(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Path to a verified copy of ``name``, downloading it only if needed."""
    path, _ = obtain(name, data_dir, progress=progress, timeout=timeout)
    return path


def import_file(
    name: str, source: str | os.PathLike, data_dir: str | os.PathLike | None = None
) -> Path:
    """Copy a file obtained elsewhere into the cache after checking its checksum.

    ``source`` may be the file itself or a folder holding it under its usual name.
    """
    entry = cache.get_entry(name)
    source = Path(source).expanduser()
    if source.is_dir():
        source = source / entry.filename
    if not source.is_file():
        raise FileNotFoundError(
            f"Expected a copy of {entry.filename} at {source}, but there is no such file."
        )
    got = cache.file_digest(source, entry.algo)
    if got != entry.checksum:
        raise ValueError(
            f"{source} is not the expected {entry.filename}: {entry.algo} should be "
            f"{entry.checksum}, got {got}. It may be truncated, re-compressed or a different "
            "file; nothing was copied. Download it again from one of:\n  " + "\n  ".join(entry.urls)
        )
    target = cache.file_path(entry, data_dir)
    temp = _new_temp(entry, target)
    try:
        with temp, open(source, "rb") as handle:
            shutil.copyfileobj(handle, temp)
        _install(temp.name, target)
    finally:
        if os.path.exists(temp.name):
            os.unlink(temp.name)
    return target
