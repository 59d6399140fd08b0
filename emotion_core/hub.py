"""Registry of downloadable models, and verified HTTP(S) downloads with the standard library only.

A download streams to ``<file>.part`` beside its destination, checks that it is complete and the size
and SHA-256 it was promised, and only then renames the file into place (``os.replace``: atomic on one
file system), so a model file that exists is always complete. On any failure the partial file is removed
and :class:`DownloadError` says what happened and what to do.

NVIDIA publishes no SHA-256 (nor exact size) for its Tacotron 2 and WaveGlow checkpoints (see
``models/tts/README.md``), so a hostile or broken server must be caught without one. What is checked:

- **Completeness.** The body must be exactly as long as its ``Content-Length`` (shorter: it broke off;
  longer: the header lied; both refused). A body delimited only by the server closing the connection
  is accepted only where the registry knows the exact size or a SHA-256 is given; a chunked body is
  framed, so its end is known either way.
- **Size.** Every entry has a cap (:attr:`ModelInfo.limit_bytes`); the download stops as soon as the
  body, or its announced length, passes it.
- **Time.** Besides the socket timeout of each read, one deadline covers the whole download, redirects
  included; when it passes, the sockets are shut, so a server sending a byte now and then cannot hold
  the download forever.
- **Redirects.** At most :data:`MAX_REDIRECTS`, each to ``https://`` (or ``http://`` when the download
  began at an ``http://`` URL, as a local mirror or a test server does); never ``ftp:``, ``file:`` or a
  downgrade from https.
- **Content.** A web page (``Content-Type: text/html``) or a body that begins like text (HTML, XML,
  JSON, an error message) where a binary checkpoint is expected is refused.
- **Resumes.** A ``.part`` left by a process that was killed outright is resumed with ``Range`` (and
  ``If-Range``) only when its sidecar ``<file>.part.json`` says it came from the same URL; the answer
  must be a 206 whose ``Content-Range`` starts exactly at the resume offset. Any other ``.part`` is
  discarded, and a resume the server answers wrongly starts over from zero.

Entries without a SHA-256 are downloaded only with ``allow_unverified=True`` (or a ``sha256`` supplied by
the caller); the file's SHA-256 is then logged so it can be pinned.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from emotion_core import paths
from emotion_core.errors import DownloadError

log = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 20
_MIB = 1 << 20
_USER_AGENT = "moodbot-model-download/0.1 (+urllib)"

#: Size cap of an entry that gives neither its exact size nor its own cap.
DEFAULT_MAX_BYTES = 4 << 30
#: Redirects followed before giving up (NGC answers with one, to a signed storage URL).
MAX_REDIRECTS = 5
#: The default deadline: this long for connecting and redirects, plus the entry's size cap at this rate
#: (4 Mbit/s), so a slow but working connection finishes and a trickle does not last for ever.
_DEADLINE_BASE_S = 120.0
_DEADLINE_MIN_BYTES_PER_S = 512 * 1024
#: Bytes of a body's start that are examined to tell a binary checkpoint from a text page.
_SNIFF_BYTES = 512


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
    license : str
        Terms the file is distributed under.
    description : str
        What it is, for ``moodbot models list``.
    max_bytes : int or None
        Upper bound on the size where the exact size is unknown, with a generous margin; ``None`` for
        :data:`DEFAULT_MAX_BYTES`.
    in_all : bool
        Whether ``moodbot models download all`` fetches it (an alternative to another entry is
        fetched only by name).
    """

    name: str
    url: str
    filename: str
    sha256: str | None
    size_bytes: int | None
    license: str
    description: str
    max_bytes: int | None = None
    in_all: bool = True

    @property
    def limit_bytes(self) -> int:
        """The most bytes a download of this file may bring: its exact size where known, else its cap."""
        return self.size_bytes or self.max_bytes or DEFAULT_MAX_BYTES


_NGC = "https://api.ngc.nvidia.com/v2/models/nvidia"

#: Everything ``download`` knows by name. URLs are those NVIDIA's own torch.hub entry points use
#: (DeepLearningExamples, PyTorch/SpeechSynthesis/Tacotron2/{tacotron2,waveglow}/entrypoints.py).
#: The caps are estimates, not published sizes: Tacotron 2 has ~28 M parameters (~113 MB in FP32,
#: ~340 MB if NVIDIA saved the Adam state too); WaveGlow with 512 residual channels has ~270 M (~1.1 GB,
#: ~3.2 GB with the Adam state; NGC lists 645 MB and 1006 MB for its 256-channel checkpoints).
REGISTRY: Mapping[str, ModelInfo] = MappingProxyType(
    {
        "tacotron2": ModelInfo(
            name="tacotron2",
            url=f"{_NGC}/tacotron2_pyt_ckpt_fp32/versions/19.09.0/files/nvidia_tacotron2pyt_fp32_20190427",
            filename="tts/nvidia_tacotron2pyt_fp32_20190427.pt",
            sha256=None,
            size_bytes=None,
            license="NVIDIA NGC terms of use (code: BSD-3-Clause, NVIDIA DeepLearningExamples)",
            description="Tacotron 2 (FP32, LJ Speech, 22050 Hz, 80 mels), NVIDIA NGC 19.09.0",
            max_bytes=512 * _MIB,
        ),
        "waveglow": ModelInfo(
            name="waveglow",
            url=f"{_NGC}/waveglow_ljs_256channels/versions/3/files/waveglow_256channels_ljs_v3.pt",
            filename="tts/waveglow_256channels_ljs_v3.pt",
            sha256=None,
            size_bytes=None,
            license="NVIDIA NGC terms of use (code: BSD-3-Clause, NVIDIA/waveglow)",
            description="WaveGlow vocoder, 256 residual channels (88 M parameters), LJ Speech, NGC v3",
            max_bytes=1536 * _MIB,
        ),
        "waveglow-512": ModelInfo(
            name="waveglow-512",
            url=f"{_NGC}/waveglow_ckpt_fp32/versions/19.09.0/files/nvidia_waveglowpyt_fp32_20190427",
            filename="tts/nvidia_waveglowpyt_fp32_20190427.pt",
            sha256=None,
            size_bytes=None,
            license="NVIDIA NGC terms of use (code: BSD-3-Clause, NVIDIA DeepLearningExamples)",
            description=(
                "WaveGlow vocoder, 512 residual channels (268 M parameters, about 3x slower on a CPU), "
                "FP32, LJ Speech, NGC 19.09.0; used only where the 256-channel one is absent"
            ),
            max_bytes=4096 * _MIB,
            in_all=False,
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


def default_deadline_s(info: ModelInfo) -> float:
    """The whole-download deadline used when none is given, in seconds: it grows with the entry's size
    cap, so WaveGlow gets hours on a slow line and a small file a few minutes."""
    return _DEADLINE_BASE_S + info.limit_bytes / _DEADLINE_MIN_BYTES_PER_S


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
    deadline_s: float | None = None,
) -> Path:
    """Download model ``name`` into ``models_dir`` and verify it; return its path.

    Parameters
    ----------
    name : str
        A :data:`REGISTRY` key.
    models_dir : Path, optional
        Default ``$MOODBOT_MODELS_DIR`` or the project's ``models/``.
    url : str, optional
        Fetch from here instead (a mirror); the registry's size, cap and checksum still apply.
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
    deadline_s : float, optional
        Limit on the whole download, redirects and retries included, in seconds; default
        :func:`default_deadline_s`.

    Raises
    ------
    DownloadError
        Unknown name, no checksum without ``allow_unverified``, a destination that is not a file, HTTP
        or network failure, a redirect that is not followed, a deadline passed, an incomplete or
        oversized body, a web page instead of the file, or a size or checksum mismatch. Nothing
        partial is left behind.
    """
    info = get(name)
    expected_sha = (sha256 or info.sha256 or "").lower() or None
    if expected_sha is not None and (
        len(expected_sha) != 64 or any(c not in "0123456789abcdef" for c in expected_sha)
    ):
        raise DownloadError(f"{sha256!r} is not a SHA-256 hex digest (64 hex digits).")
    if timeout_s <= 0 or (deadline_s is not None and deadline_s <= 0):
        raise DownloadError(f"timeout_s ({timeout_s}) and deadline_s ({deadline_s}) must be positive.")
    source = url or info.url
    if urllib.parse.urlsplit(source).scheme not in ("http", "https"):
        raise DownloadError(f"Only http(s) URLs can be downloaded, not {source!r}.")

    dest = (models_dir or paths.models_dir()) / info.filename
    part = dest.with_name(dest.name + ".part")
    _check_is_file_or_absent(dest, name)
    if dest.is_file() and not force:
        try:
            present_sha = None if expected_sha is None else sha256_of(dest)
        except OSError as e:
            raise DownloadError(f"Could not read {dest}: {e.strerror or e}.") from e
        if present_sha == expected_sha:
            log.info("%s is already at %s", name, dest)
            return dest
        log.warning("%s at %s does not match its checksum; downloading it again", name, dest)
    if expected_sha is None and not allow_unverified:
        raise DownloadError(
            f"{name} has no published SHA-256, so its download cannot be verified; pass a digest "
            "you trust (--sha256) or accept it unverified (--allow-unverified)."
        )
    _check_is_file_or_absent(part, name)
    _check_is_file_or_absent(_sidecar(part), name)

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(f"Could not create the folder {dest.parent}: {e.strerror or e}.") from e
    target = _Target(
        name=name,
        url=source,
        size_bytes=info.size_bytes,
        limit_bytes=info.limit_bytes,
        sha256_known=expected_sha is not None,
    )
    try:
        try:
            with _Deadline(deadline_s or default_deadline_s(info), target) as deadline:
                _fetch(target, part, deadline, progress=progress, timeout_s=timeout_s)
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
            os.replace(part, dest)
        except OSError as e:  # the network's errors became DownloadErrors in _fetch: this is the disk
            raise DownloadError(f"Could not write {name} to {dest}: {e.strerror or e}.") from e
    except BaseException:  # Ctrl-C included: nothing partial stays
        _discard(part)
        raise
    _sidecar(part).unlink(missing_ok=True)
    if expected_sha is None:
        log.warning("%s downloaded unverified; its SHA-256 is %s", name, actual_sha)
    log.info("Downloaded %s to %s (%d bytes)", name, dest, size)
    return dest


def _check_is_file_or_absent(path: Path, name: str) -> None:
    """Refuse a directory (or a socket, a device...) where a file of this download goes, rather than
    fail later with a bare ``IsADirectoryError``; it is not ours to remove."""
    if path.exists() and not path.is_file():
        raise DownloadError(
            f"{path} is a directory (or another non-file) where {name} or its download should go; "
            "move it away or choose another --models-dir."
        )


@dataclass(frozen=True)
class _Target:
    """What one download must bring: the facts every check needs, named once."""

    name: str
    url: str
    size_bytes: int | None
    limit_bytes: int
    sha256_known: bool


@dataclass(frozen=True)
class _Resume:
    """A ``.part`` this module wrote for the same URL, as its sidecar describes it.

    ``validator`` is the file's strong ETag or Last-Modified date, sent as ``If-Range`` so a server
    whose file changed sends it whole; ``length`` is the full size the server announced.
    """

    offset: int
    validator: str | None
    length: int | None


def _sidecar(part: Path) -> Path:
    """``<file>.part.json``: where the facts about a ``.part`` are kept, for a later resume."""
    return part.with_name(part.name + ".json")


def _discard(part: Path) -> None:
    """Remove a ``.part`` and its sidecar, if there."""
    part.unlink(missing_ok=True)
    _sidecar(part).unlink(missing_ok=True)


def _load_resume(part: Path, url: str) -> _Resume | None:
    """The resume state of ``part`` if its sidecar says it holds a prefix of ``url``; otherwise
    ``None`` (no sidecar, another URL, unreadable, or nothing left to fetch)."""
    try:
        facts = json.loads(_sidecar(part).read_text(encoding="utf-8"))
        offset = part.stat().st_size
    except (OSError, ValueError):
        return None
    if not isinstance(facts, dict) or facts.get("url") != url or offset == 0:
        return None
    validator, length = facts.get("validator"), facts.get("length")
    if not isinstance(validator, str | None) or not isinstance(length, int | None):
        return None
    if length is not None and offset >= length:
        return None
    return _Resume(offset=offset, validator=validator, length=length)


def _fetch(
    target: _Target,
    part: Path,
    deadline: _Deadline,
    *,
    progress: bool | None,
    timeout_s: float,
) -> None:
    """Stream ``target.url`` into ``part``: resume it when it is a prefix of the same file and the
    server answers the ``Range`` exactly, otherwise (once) start over from zero."""
    resume = _load_resume(part, target.url)
    if resume is not None:
        response = _open(target.url, deadline, timeout_s=timeout_s, resume=resume)
        if response is not None:
            with response:
                offset = _resumed_at(response, resume)
                if offset is not None:
                    _receive(response, part, target, deadline, offset, progress)
                    return
        log.warning("%s: the server did not resume at byte %d; starting again", target.url, resume.offset)
    _discard(part)
    response = _open(target.url, deadline, timeout_s=timeout_s, resume=None)
    assert response is not None  # only a resume may be answered with None
    with response:
        _receive(response, part, target, deadline, 0, progress)


def _open(
    url: str, deadline: _Deadline, *, timeout_s: float, resume: _Resume | None
) -> http.client.HTTPResponse | None:
    """Send the GET (with ``Range`` when resuming) and return the 200 or 206 response, following only
    the redirects :class:`_RedirectHandler` allows; ``None`` when the server refuses the range (416)."""
    headers = {"User-Agent": _USER_AGENT}
    if resume is not None:
        headers["Range"] = f"bytes={resume.offset}-"
        if resume.validator:
            headers["If-Range"] = resume.validator
    opener = urllib.request.build_opener(
        _RedirectHandler(url), _WatchedHTTPHandler(deadline), _WatchedHTTPSHandler(deadline)
    )
    deadline.check()
    try:
        response = opener.open(
            urllib.request.Request(url, headers=headers), timeout=min(timeout_s, deadline.remaining_s())
        )
    except urllib.error.HTTPError as e:
        e.close()
        if e.code == 416 and resume is not None:
            return None
        raise DownloadError(f"Downloading {url} failed: HTTP {e.code} {e.reason}.") from e
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        deadline.check()  # a connection the deadline cut
        reason = getattr(e, "reason", e)
        raise DownloadError(f"Could not reach {url}: {reason}.") from e
    unexpected = response.status not in (200, 206) or (response.status == 206 and resume is None)
    if unexpected or deadline.passed():  # headers the deadline cut short can look like a whole answer
        response.close()
        deadline.check()
        raise DownloadError(
            f"{url} answered HTTP {response.status} {response.reason} instead of the file (200 OK)."
        )
    return response


_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def _resumed_at(response: http.client.HTTPResponse, resume: _Resume) -> int | None:
    """Where ``response`` continues the file: ``resume.offset`` for a 206 that starts exactly there and
    runs to the end of the same file, 0 for a whole file (200), ``None`` for any other 206."""
    if response.status == 200:
        return 0
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    if match is None or int(match[1]) != resume.offset:
        return None
    if match[3] != "*" and int(match[2]) + 1 != int(match[3]):
        return None  # a middle slice: the rest would be missing
    if resume.length is not None and match[3] not in ("*", str(resume.length)):
        return None  # the file changed size since the .part was written
    etag = response.headers.get("ETag")
    if etag and resume.validator and resume.validator.startswith('"') and etag != resume.validator:
        return None  # another version of the file, from a server that ignored If-Range
    return resume.offset


def _receive(
    response: http.client.HTTPResponse,
    part: Path,
    target: _Target,
    deadline: _Deadline,
    offset: int,
    progress: bool | None,
) -> None:
    """Check ``response``'s headers, then append its body to ``part`` from ``offset``, stopping at the
    first sign that it is not the file: past the cap, past its Content-Length, text, or cut short."""
    url = target.url
    content_type = response.headers.get("Content-Type", "")
    if content_type.split(";")[0].strip().lower() == "text/html":
        raise DownloadError(
            f"{url} answered with a web page, not the model file (a login or confirmation page?)."
        )
    # A chunked body ends with a terminating chunk, so it is complete without a Content-Length.
    framed = "chunked" in response.headers.get("Transfer-Encoding", "").lower()
    length = None if framed else _content_length(response)
    if length is None and not framed and target.size_bytes is None and not target.sha256_known:
        raise DownloadError(
            f"{url} sent no Content-Length, so a download cut short could not be told from a complete "
            f"one, and {target.name} has no known size to check it against; pass the file's SHA-256 "
            "(--sha256 HEX, e.g. from the publisher or a copy you trust) to download it verified."
        )
    total = offset + length if length is not None else target.size_bytes
    if target.size_bytes is not None and total != target.size_bytes:
        raise DownloadError(
            f"{url} announces {total} bytes, expected {target.size_bytes} for {target.name}; "
            "it is not the expected file (check the URL)."
        )
    if total is not None and total > target.limit_bytes:
        raise DownloadError(
            f"{url} announces {total} bytes, more than the {target.limit_bytes} that {target.name} may "
            "have; it is not the expected file (check the URL)."
        )
    if offset == 0:
        _write_sidecar(part, url, response, total)
    # Read to the end of the connection (urllib asked for ``Connection: close``) rather than stopping at
    # the Content-Length, so that a body longer than its header is caught instead of silently cut.
    response.length = None

    bar = _progress_bar(total, offset, part.name, progress)
    received = offset
    try:
        with open(part, "ab" if offset else "wb") as f:
            while chunk := _read(response, url, received, deadline):
                # Only a body's start is examined: a resumed .part's start was, by the run that wrote it.
                if received == 0 and _looks_like_text(chunk[:_SNIFF_BYTES]):
                    raise DownloadError(
                        f"{url} sent text where a binary checkpoint was expected (it begins "
                        f"{chunk[:40]!r}); open the URL in a browser: it may need a login or show an error."
                    )
                received += len(chunk)
                if length is not None and received > offset + length:
                    raise DownloadError(
                        f"{url} sent more than the {offset + length} bytes its Content-Length announced; "
                        "the server is broken or the file is not what it claims."
                    )
                if received > target.limit_bytes:
                    raise DownloadError(
                        f"{url} sent more than the {target.limit_bytes} bytes that {target.name} may "
                        "have; it is not the expected file (check the URL)."
                    )
                f.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            f.flush()
            os.fsync(f.fileno())
    finally:
        if bar is not None:
            bar.close()
    if length is not None and received != offset + length:
        raise DownloadError(
            f"The download of {url} broke off after {received} of {offset + length} bytes; try again."
        )
    if received == 0:
        raise DownloadError(f"{url} sent an empty file instead of {target.name}.")


def _content_length(response: http.client.HTTPResponse) -> int | None:
    """The body's announced length, ``None`` when absent; a malformed one is refused rather than
    ignored, as http.client would."""
    value = response.headers.get("Content-Length")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise DownloadError(f"{response.url} sent a malformed Content-Length ({value!r}).")
    return int(value)


def _read(response: http.client.HTTPResponse, url: str, received: int, deadline: _Deadline) -> bytes:
    """The next chunk of the body (``b""`` at its end); a broken connection or a passed deadline
    becomes a DownloadError (a read the deadline cut returns what it had, or raises)."""
    try:
        chunk = response.read(_CHUNK_BYTES)
    except (OSError, http.client.HTTPException) as e:
        deadline.check()
        if isinstance(e, http.client.IncompleteRead):  # a chunked body that stopped mid-way
            received += len(e.partial)
        raise DownloadError(
            f"The download of {url} broke off after {received} bytes ({e!r}); try again."
        ) from e
    deadline.check()
    return chunk


def _write_sidecar(part: Path, url: str, response: http.client.HTTPResponse, total: int | None) -> None:
    """Record, before the first byte of ``part`` is written, which file it will hold; a ``.part``
    without one is never resumed. Weak ETags (``W/``) may not be used in ``If-Range``."""
    etag = response.headers.get("ETag")
    validator = etag if etag and not etag.startswith("W/") else response.headers.get("Last-Modified")
    facts = {"url": url, "validator": validator, "length": total}
    _sidecar(part).write_text(json.dumps(facts), encoding="utf-8")


def _looks_like_text(head: bytes) -> bool:
    """Whether a body's first bytes read as text (an HTML, XML or JSON page, an error message) rather
    than a checkpoint: ``torch.save`` writes a zip (``PK\\x03\\x04``) or a pickle (``\\x80\\x02``), both of
    which begin with control bytes."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype", b"<html", b"<?xml")):
        return True
    return bool(head) and all(byte >= 0x20 or byte in b"\t\n\r\f" for byte in head)


class _Deadline:
    """One time limit for a whole download. When it passes, a timer shuts every socket the download
    opened, so that a read blocked on a server that sends a byte now and then (each within the socket
    timeout) returns at once; :meth:`check` then turns that into a :class:`DownloadError`."""

    def __init__(self, seconds: float, target: _Target) -> None:
        self._seconds = seconds
        self._target = target
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def remaining_s(self) -> float:
        """Seconds left (0 when passed)."""
        return max(0.0, self._end - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` when the deadline passes (at once if it has)."""
        with self._lock:
            self._sockets.append(sock)
            expired = self._expired
        if expired:
            _shut(sock)

    def passed(self) -> bool:
        """Whether the deadline has passed."""
        return self._expired or self.remaining_s() == 0

    def check(self) -> None:
        """Raise :class:`DownloadError` if the deadline has passed."""
        if self.passed():
            raise DownloadError(
                f"Downloading {self._target.name} from {self._target.url} did not finish within "
                f"{self._seconds:g} s; on a slow connection pass a longer deadline (deadline_s, or "
                "--deadline-s on the command line)."
            )

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    """Shut a socket down for both directions, which wakes a read blocked on it in another thread.
    ``socket.socket.shutdown`` is called directly because ``SSLSocket.shutdown`` also drops the TLS
    state under that read."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


class _WatchedHTTPConnection(http.client.HTTPConnection):
    """An ``http.client`` connection that hands each connected socket to a :class:`_Deadline`."""

    def __init__(self, *args: Any, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()
        self._deadline.watch(self.sock)


class _WatchedHTTPSConnection(_WatchedHTTPConnection, http.client.HTTPSConnection):
    """The same for HTTPS (``HTTPSConnection.connect`` wraps the socket, then it is watched)."""


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    """urllib's HTTP handler (proxies included) with its connections watched by a deadline."""

    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTPConnection, req, deadline=self._deadline)  # type: ignore[arg-type]


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    """urllib's HTTPS handler (default certificate checks) with its connections watched by a deadline."""

    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTPSConnection, req, deadline=self._deadline)  # type: ignore[arg-type]


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows at most :data:`MAX_REDIRECTS` redirects, each to https, or to http as well when the
    download began at an http URL; urllib's own handler would also follow ``ftp://`` and downgrades."""

    # urllib's loop detection would otherwise answer first, with a less helpful HTTPError.
    max_repeats = max_redirections = MAX_REDIRECTS + 1

    def __init__(self, origin: str) -> None:
        super().__init__()
        self._origin = origin
        self._schemes = ("https",) if urllib.parse.urlsplit(origin).scheme == "https" else ("http", "https")
        self._count = 0

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        # The redirect's own body is never needed; closing it keeps urllib from reading all of it.
        fp.close()
        self._count += 1
        if self._count > MAX_REDIRECTS:
            raise DownloadError(
                f"{self._origin} redirected more than {MAX_REDIRECTS} times (a loop?); giving up."
            )
        if urllib.parse.urlsplit(newurl).scheme.lower() not in self._schemes:
            allowed = " or ".join(f"{scheme}://" for scheme in self._schemes)
            raise DownloadError(
                f"{req.full_url} redirected to {newurl!r}, which is not followed (from {self._origin} "
                f"only redirects to {allowed} are); check the URL or the mirror."
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _progress_bar(total: int | None, initial: int, label: str, progress: bool | None):
    """A tqdm bar on stderr, or ``None`` when not wanted (by default: when stderr is no
    terminal)."""
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=label, unit="B", unit_scale=True, unit_divisor=1024)
