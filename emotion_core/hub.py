"""Registry of downloadable models, and verified HTTP(S) downloads with the standard library only.

A download streams to ``<file>.part`` beside its destination, checks the size and SHA-256 it was
promised, and only then renames the file into place (``os.replace``: atomic on one file system), so
a model file that exists is always complete. On any failure (HTTP error, dropped connection, wrong
size or checksum, Ctrl-C) the partial file is removed and :class:`DownloadError` says what happened.
A ``.part`` left by a process that was killed outright is resumed with an HTTP ``Range`` request
when the server supports it, and restarted from zero when it does not.

Checksums: NVIDIA publishes no SHA-256 for its Tacotron 2 and WaveGlow checkpoints (see
``models/tts/README.md``). Entries without one are downloaded only with ``allow_unverified=True``
(or a ``sha256`` supplied by the caller); the file's SHA-256 is then logged so it can be pinned. An
HTML page where a model was expected (a login or confirmation page) is always refused.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from emotion_core import paths
from emotion_core.errors import DownloadError

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 20
_USER_AGENT = "moodbot-model-download/0.1 (+urllib)"


@dataclass(frozen=True)
class ModelInfo:
    """One downloadable model file.

    Attributes
    ----------
    name : str
        Registry key, as typed on the command line.
    url : str
        Direct HTTP(S) URL of the file.
    filename : str
        Path relative to the models folder, e.g. ``"tts/nvidia_tacotron2pyt_fp32_20190427.pt"``.
    sha256 : str or None
        Lower-case hex digest; ``None`` where the publisher gives none.
    size_bytes : int or None
        Exact size; ``None`` where unknown.
    licence : str
        Terms the file is distributed under.
    description : str
        What it is, for ``moodbot models list``.
    """

    name: str
    url: str
    filename: str
    sha256: str | None
    size_bytes: int | None
    licence: str
    description: str


_NGC = "https://api.ngc.nvidia.com/v2/models/nvidia"

#: Everything ``download`` knows by name. URLs are those NVIDIA's own torch.hub entry points use
#: (DeepLearningExamples, PyTorch/SpeechSynthesis/Tacotron2/{tacotron2,waveglow}/entrypoints.py).
REGISTRY: Mapping[str, ModelInfo] = MappingProxyType(
    {
        "tacotron2": ModelInfo(
            name="tacotron2",
            url=f"{_NGC}/tacotron2_pyt_ckpt_fp32/versions/19.09.0/files/nvidia_tacotron2pyt_fp32_20190427",
            filename="tts/nvidia_tacotron2pyt_fp32_20190427.pt",
            sha256=None,
            size_bytes=None,
            licence="NVIDIA NGC terms of use (code: BSD-3-Clause, NVIDIA DeepLearningExamples)",
            description="Tacotron 2 (FP32, LJ Speech, 22050 Hz, 80 mels), NVIDIA NGC 19.09.0",
        ),
        "waveglow": ModelInfo(
            name="waveglow",
            url=f"{_NGC}/waveglow_ckpt_fp32/versions/19.09.0/files/nvidia_waveglowpyt_fp32_20190427",
            filename="tts/nvidia_waveglowpyt_fp32_20190427.pt",
            sha256=None,
            size_bytes=None,
            licence="NVIDIA NGC terms of use (code: BSD-3-Clause, NVIDIA DeepLearningExamples)",
            description="WaveGlow vocoder (FP32, LJ Speech, 22050 Hz), NVIDIA NGC 19.09.0",
        ),
    }
)


def get(name: str) -> ModelInfo:
    """The registry entry called ``name``; :class:`DownloadError` naming the valid ones
    otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise DownloadError(f"No model called {name!r}; registered: {', '.join(sorted(REGISTRY))}.") from None


def path_of(name: str, *, models_dir: Path | None = None) -> Path:
    """Where model ``name`` lives (present or not) under ``models_dir`` (default
    ``$MOODBOT_MODELS_DIR``)."""
    return (models_dir or paths.models_dir()) / get(name).filename


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(
    name: str,
    *,
    models_dir: Path | None = None,
    url: str | None = None,
    sha256: str | None = None,
    allow_unverified: bool = False,
    force: bool = False,
    progress: bool | None = None,
    timeout_s: float = 60.0,
) -> Path:
    """Download model ``name`` into ``models_dir`` and verify it; return its path.

    Parameters
    ----------
    name : str
        A :data:`REGISTRY` key.
    models_dir : Path, optional
        Default ``$MOODBOT_MODELS_DIR`` or the project's ``models/``.
    url : str, optional
        Fetch from here instead (a mirror); the registry's size and checksum still apply.
    sha256 : str, optional
        Expected digest, overriding the registry's (for entries that have none).
    allow_unverified : bool
        Accept a file whose SHA-256 is unknown; its digest is logged so it can be pinned.
    force : bool
        Download again even if the file is present.
    progress : bool, optional
        Show a tqdm bar; by default only when stderr is a terminal.
    timeout_s : float
        Socket timeout for connecting and for each read, in seconds.

    Raises
    ------
    DownloadError
        Unknown name, no checksum without ``allow_unverified``, HTTP or network failure, an HTML
        page instead of the file, or a size or checksum mismatch. Nothing partial is left behind.
    """
    info = get(name)
    expected_sha = (sha256 or info.sha256 or "").lower() or None
    if expected_sha is not None and (
        len(expected_sha) != 64 or any(c not in "0123456789abcdef" for c in expected_sha)
    ):
        raise DownloadError(f"{sha256!r} is not a SHA-256 hex digest (64 hex digits).")
    source = url or info.url
    if urllib.parse.urlsplit(source).scheme not in ("http", "https"):
        raise DownloadError(f"Only http(s) URLs can be downloaded, not {source!r}.")

    dest = (models_dir or paths.models_dir()) / info.filename
    if dest.is_file() and not force:
        if expected_sha is None or sha256_of(dest) == expected_sha:
            logger.info("%s is already at %s", name, dest)
            return dest
        logger.warning("%s at %s does not match its checksum; downloading it again", name, dest)
    if expected_sha is None and not allow_unverified:
        raise DownloadError(
            f"{name} has no published SHA-256, so its download cannot be verified; pass a digest "
            "you trust (--sha256) or accept it unverified (--allow-unverified)."
        )

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        _fetch(source, part, expected_size=info.size_bytes, progress=progress, timeout_s=timeout_s)
        size = part.stat().st_size
        if info.size_bytes is not None and size != info.size_bytes:
            raise DownloadError(
                f"{name}: got {size} bytes, expected {info.size_bytes}; the download was removed."
            )
        actual_sha = sha256_of(part)
        if expected_sha is not None and actual_sha != expected_sha:
            raise DownloadError(
                f"{name}: SHA-256 {actual_sha} does not match {expected_sha}; the download was removed."
            )
        if expected_sha is None:
            logger.warning("%s downloaded unverified; its SHA-256 is %s", name, actual_sha)
        os.replace(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    logger.info("Downloaded %s to %s (%d bytes)", name, dest, size)
    return dest


def _fetch(
    url: str, part: Path, *, expected_size: int | None, progress: bool | None, timeout_s: float
) -> None:
    """Stream ``url`` into ``part``, resuming an existing ``part`` when the server honours
    ``Range``."""
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:  # the leftover .part is not a prefix we can extend
            part.unlink()
            return _fetch(url, part, expected_size=expected_size, progress=progress, timeout_s=timeout_s)
        raise DownloadError(f"Downloading {url} failed: HTTP {e.code} {e.reason}.") from e
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(f"Could not reach {url}: {reason}.") from e

    with response:
        content_type = response.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() == "text/html":
            raise DownloadError(
                f"{url} answered with a web page, not the model file (a login or confirmation page?)."
            )
        if offset and response.status == 206:
            mode = "ab"
            logger.info("Resuming %s at byte %d", url, offset)
        else:
            mode, offset = "wb", 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else expected_size
        bar = _progress_bar(total, offset, part.name, progress)
        received = offset
        try:
            with open(part, mode) as f:
                while chunk := response.read(_CHUNK_BYTES):
                    f.write(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                f.flush()
                os.fsync(f.fileno())
        except (OSError, http.client.HTTPException) as e:
            raise DownloadError(f"The download of {url} broke off after {received} bytes: {e!r}.") from e
        finally:
            if bar is not None:
                bar.close()
    if length and length.isdigit() and received != offset + int(length):
        raise DownloadError(
            f"The download of {url} broke off after {received} of {offset + int(length)} bytes."
        )


def _progress_bar(total: int | None, initial: int, label: str, progress: bool | None):
    """A tqdm bar on stderr, or ``None`` when not wanted (by default: when stderr is no
    terminal)."""
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=label, unit="B", unit_scale=True, unit_divisor=1024)
