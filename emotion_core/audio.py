"""Audio in and out: any upload to mono float32 at the model's rate, and samples back to a file.

:func:`decode` turns bytes or a path into a :class:`Waveform`. It tries libsndfile (``soundfile``)
first, in memory: Ogg/Opus (Discord voice messages), Ogg/Vorbis, WAV, FLAC and MP3. What libsndfile
cannot read (M4A/AAC from phones, WebM/Opus from browsers) goes to the ffmpeg bundled with
``imageio-ffmpeg``. Both are held to budgets in bytes, samples and seconds (see
:mod:`emotion_core.decoders`): only the first ``max_duration_s`` is decoded, and Opus is decoded by
libopus straight at the rate asked for where it can (16 kHz, not 48 kHz). Bad input raises
:class:`~emotion_core.errors.AudioError` with a message fit to show the person who sent it; the
decoder's own error is chained.

:func:`encode` writes Ogg/Opus at 48 kHz (what Discord voice messages are) or 16-bit WAV, and
:func:`opus_roundtrip` applies what Discord does to a voice message, for training augmentation and
evaluation. Opus is encoded by ffmpeg's libopus: on these machines it ran 2--3 times faster than
libsndfile's in-process encoder even with the process start (see ``benchmarks/bench_audio.py``), and
its ``-b:a`` is the bit rate itself rather than libsndfile's 0--1 "compression level".
"""

from __future__ import annotations

import io
import logging
import math
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import imageio_ffmpeg
import numpy as np
import soundfile as sf
import soxr

from emotion_core.decoders import (
    DAMAGED,
    Decoded,
    DecodeTimeout,
    Unreadable,
    read_ffmpeg,
    read_soundfile,
    sniff,
)
from emotion_core.errors import AudioError, AudioTooLargeError, AudioTooShortError

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATE = 16000  # Hz, what the recogniser reads
OPUS_SAMPLE_RATE = 48000  # Hz, the rate Discord's voice messages are coded at
OPUS_BITRATE_RANGE_KBPS = (6, 256)  # libopus's range for one channel (kbit/s)
RESAMPLE_QUALITY = "HQ"  # soxr quality preset: flat to 0.91 of Nyquist, 144 dB stop band
ENCODE_TIMEOUT_S = 120.0  # time limit for ffmpeg encoding our own audio (s); 60 s take 1-3 s
_MIB = 1024 * 1024
#: What a refusal says when no decoder even knew the format and it looks like nothing in particular.
#: File name endings of the formats ``decode`` reads (it sniffs the bytes; names only pre-select files).
AUDIO_SUFFIXES = (".ogg", ".opus", ".wav", ".mp3", ".m4a", ".webm", ".flac")
_NAMES = [suffix[1:] for suffix in AUDIO_SUFFIXES]
UNKNOWN_FORMAT = f"I read voice messages and {', '.join(_NAMES[:-1])} and {_NAMES[-1]} files"


@dataclass(frozen=True)
class AudioLimits:
    """What :func:`decode` accepts.

    Attributes
    ----------
    max_bytes : int
        Largest input in bytes (of the bytes, or of the file); checked before any decoding.
    max_duration_s : float
        Audio longer than this (s) is decoded up to here only, and marked ``truncated``.
    min_duration_s : float
        Shorter audio (s) raises :class:`~emotion_core.errors.AudioTooShortError`.
    decode_timeout_s : float
        Time limit (s) for the ffmpeg fallback.
    """

    max_bytes: int = 25 * 1024 * 1024
    max_duration_s: float = 60.0
    min_duration_s: float = 0.5
    decode_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.decode_timeout_s <= 0:
            raise ValueError("max_bytes and decode_timeout_s must be positive")
        if not 0 <= self.min_duration_s <= self.max_duration_s:
            raise ValueError("need 0 <= min_duration_s <= max_duration_s")


@dataclass(frozen=True)
class Waveform:
    """Decoded audio.

    Attributes
    ----------
    samples : np.ndarray
        float32, mono, shape ``(n,)``, finite, in [-1, 1].
    sample_rate : int
        Hz.
    original_duration_s : float or None
        Length of the whole input (s) before truncation; ``None`` where a truncated input states no
        plausible length (a streamed WebM, or a header claiming more than its bytes can hold).
    truncated : bool
        The input was longer than ``AudioLimits.max_duration_s``; ``samples`` hold its start.
    """

    samples: np.ndarray
    sample_rate: int
    original_duration_s: float | None
    truncated: bool

    @property
    def duration_s(self) -> float:
        """Length of ``samples`` in seconds."""
        return self.samples.size / self.sample_rate


def decode(
    source: bytes | bytearray | memoryview | str | os.PathLike,
    *,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    limits: AudioLimits = AudioLimits(),
) -> Waveform:
    """Decode an audio file to mono float32 at ``sample_rate``.

    A path is read into memory first (within ``limits.max_bytes``) and decoded exactly as its bytes
    would be, so an upload and the same file on disk always get the same answer.

    Parameters
    ----------
    source : bytes, bytearray, memoryview, str or os.PathLike
        The file's contents, or its path.
    sample_rate : int
        Output rate in Hz; the audio is resampled with soxr.
    limits : AudioLimits
        Size, duration and time limits.

    Returns
    -------
    Waveform
        Channels averaged, integer formats scaled by their full scale, clipped to [-1, 1].

    Raises
    ------
    AudioTooLargeError
        Over ``limits.max_bytes``, before anything is decoded.
    AudioTooShortError
        Shorter than ``limits.min_duration_s`` (including no audio at all).
    AudioError
        Empty, missing, unreadable, corrupt, a format the README does not offer, an absurd header,
        NaN or infinite samples, past the time limit, or out of memory. The message is fit to show
        the sender.
    """
    if not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")
    data = _load(source, limits)
    deadline = time.monotonic() + limits.decode_timeout_s
    try:
        decoded = _decode_bytes(data, sample_rate, limits, deadline)
        samples = decoded.samples
        if not np.isfinite(samples).all():
            raise AudioError("This file has broken samples in it (not-a-number or infinite values).")
        if decoded.sample_rate != sample_rate:
            samples = _resample(samples, decoded.sample_rate, sample_rate)
    except DecodeTimeout as e:
        raise AudioError(
            f"Reading this file took longer than {limits.decode_timeout_s:g} s; it may be damaged."
        ) from e
    except MemoryError as e:
        raise AudioError(
            "This file needs more memory to read than I have free; please send a shorter one."
        ) from e
    np.clip(samples, -1.0, 1.0, out=samples)
    duration_s = samples.size / sample_rate
    if duration_s < limits.min_duration_s:
        shown = math.floor(duration_s * 100) / 100  # never rounded up to the minimum itself
        raise AudioTooShortError(
            f"This recording is too short ({shown:g} s); "
            f"I need at least {limits.min_duration_s:g} s of audio.",
            duration_s=duration_s,
            min_duration_s=limits.min_duration_s,
        )
    original_s = decoded.original_duration_s
    return Waveform(
        samples=samples,
        sample_rate=sample_rate,
        original_duration_s=None if original_s is None else max(original_s, duration_s),
        truncated=decoded.truncated,
    )


def _decode_bytes(data: bytes, sample_rate: int, limits: AudioLimits, deadline: float) -> Decoded:
    """libsndfile first, in process; what it cannot read goes to ffmpeg; one message if neither can."""
    try:
        decoded = read_soundfile(data, sample_rate, limits.max_duration_s, deadline)
        log.debug("decoded with libsndfile at %d Hz", decoded.sample_rate)
        return decoded
    except Unreadable as sf_error:
        log.debug("libsndfile could not read the input; trying ffmpeg")
        try:
            return read_ffmpeg(data, sample_rate, limits.max_duration_s, deadline)
        except Unreadable as ff_error:
            recognized = sf_error.recognized or ff_error.recognized
            reason = sniff(data) or (DAMAGED if recognized else UNKNOWN_FORMAT)
            raise AudioError(f"This doesn't look like audio I can read ({reason}).") from ff_error


def encode(
    samples: np.ndarray,
    sample_rate: int,
    *,
    fmt: Literal["ogg", "wav"] = "ogg",
    bitrate_kbps: int = 32,
) -> bytes:
    """Encode mono audio as a file.

    Parameters
    ----------
    samples : np.ndarray
        Mono audio, shape ``(n,)``, finite; clipped to [-1, 1].
    sample_rate : int
        Rate of ``samples`` in Hz.
    fmt : {"ogg", "wav"}
        ``"ogg"``: Ogg/Opus, mono, 48 kHz (resampled), VBR at about ``bitrate_kbps``, what Discord
        voice messages are. ``"wav"``: 16-bit PCM at ``sample_rate``.
    bitrate_kbps : int
        Opus bit rate in kbit/s, 6--256; ignored for WAV.

    Returns
    -------
    bytes
        The file.
    """
    samples = _check_samples(samples, sample_rate)
    if fmt == "wav":
        buffer = io.BytesIO()
        sf.write(buffer, samples, sample_rate, format="WAV", subtype="PCM_16")
        return buffer.getvalue()
    if fmt == "ogg":
        return _encode_opus(_resample(samples, sample_rate, OPUS_SAMPLE_RATE), bitrate_kbps)
    raise ValueError(f"fmt must be 'ogg' or 'wav', got {fmt!r}")


def opus_roundtrip(samples: np.ndarray, sample_rate: int, *, bitrate_kbps: int = 32) -> np.ndarray:
    """What Discord does to a voice message: Ogg/Opus at 48 kHz and ``bitrate_kbps``, and back.

    Parameters
    ----------
    samples : np.ndarray
        Mono audio, shape ``(n,)``, finite.
    sample_rate : int
        Rate of ``samples`` in Hz.
    bitrate_kbps : int
        Opus bit rate in kbit/s, 6--256 (voice messages are about 32; 12--16 is a stress test).

    Returns
    -------
    np.ndarray
        float32, shape ``(n,)``, at ``sample_rate``, in [-1, 1], time-aligned with the input (the
        decoder's pre-skip removes the codec's delay).
    """
    samples = _check_samples(samples, sample_rate)
    if samples.size == 0:
        return samples
    ogg = _encode_opus(_resample(samples, sample_rate, OPUS_SAMPLE_RATE), bitrate_kbps)
    whole_s = samples.size / sample_rate + 1.0
    decoded = read_soundfile(ogg, sample_rate, whole_s, time.monotonic() + ENCODE_TIMEOUT_S)
    out = _resample(decoded.samples, decoded.sample_rate, sample_rate)[: samples.size]
    out = np.pad(out, (0, samples.size - out.size))
    return np.clip(out, -1.0, 1.0, out=out)


def _load(source: bytes | bytearray | memoryview | str | os.PathLike, limits: AudioLimits) -> bytes:
    """The input's bytes, its size checked before anything is read (a path must be a regular file)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        _check_size(memoryview(source).nbytes, limits)
        return bytes(source)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be bytes or a path, got {type(source).__name__}")
    path = Path(source)
    try:
        if not path.is_file() and path.exists():
            raise AudioError(f"{path} is not a file.")
        _check_size(path.stat().st_size, limits)
        with path.open("rb") as f:
            data = f.read(limits.max_bytes + 1)  # the file may have grown since stat()
    except FileNotFoundError as e:
        raise AudioError(f"There is no file at {path}.") from e
    except OSError as e:
        raise AudioError(f"I couldn't open {path} ({e.strerror or e}).") from e
    _check_size(len(data), limits)
    return data


def _check_size(size: int, limits: AudioLimits) -> None:
    """Refuse empty and oversized input (``size`` in bytes)."""
    if size > limits.max_bytes:
        raise AudioTooLargeError(
            f"This file is too large ({size / _MIB:.1f} MB); the limit is {limits.max_bytes / _MIB:g} MB.",
            size_bytes=size,
            limit_bytes=limits.max_bytes,
        )
    if size == 0:
        raise AudioError("This file is empty.")


def _check_samples(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Return ``samples`` as a float32 ``(n,)`` copy clipped to [-1, 1]; refuse bad arguments."""
    samples = np.array(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"samples must be mono, shape (n,); got shape {samples.shape}")
    if not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")
    if not np.isfinite(samples).all():
        raise ValueError("samples must be finite")
    return np.clip(samples, -1.0, 1.0, out=samples)


def _resample(samples: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """soxr resampling of float32 ``(n,)`` audio; output shape ``(round(n * to_hz / from_hz),)``."""
    if from_hz == to_hz:
        return samples
    return soxr.resample(samples, from_hz, to_hz, quality=RESAMPLE_QUALITY)


def _encode_opus(samples_48k: np.ndarray, bitrate_kbps: int) -> bytes:
    """Ogg/Opus bytes of mono float32 audio at 48 kHz, VBR at about ``bitrate_kbps``."""
    lo, hi = OPUS_BITRATE_RANGE_KBPS
    if not isinstance(bitrate_kbps, int) or not lo <= bitrate_kbps <= hi:
        raise ValueError(f"bitrate_kbps must be an int in [{lo}, {hi}], got {bitrate_kbps!r}")
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
        "-f", "f32le", "-ar", str(OPUS_SAMPLE_RATE), "-ac", "1", "-i", "pipe:0",
        "-c:a", "libopus", "-b:a", f"{bitrate_kbps}k", "-vbr", "on", "-application", "audio",
        "-f", "ogg", "pipe:1",
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command, input=samples_48k.astype("<f4").tobytes(), capture_output=True,
            timeout=ENCODE_TIMEOUT_S, check=True,
        )  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        log.error("ffmpeg could not encode Opus: %s", (e.stderr or b"").decode("utf-8", "replace")[-2000:])
        raise AudioError("I couldn't encode the audio.") from e
    return result.stdout
