"""Audio in and out: any upload to mono float32 at the model's rate, and samples back to a file.

:func:`decode` turns bytes or a path into a :class:`Waveform`. It tries libsndfile (``soundfile``)
first, in memory: Ogg/Opus (Discord voice messages), Ogg/Vorbis, WAV of every bit depth, FLAC and
MP3. What libsndfile cannot read (M4A/AAC from phones, WebM/Opus from browsers) goes to the ffmpeg
bundled with ``imageio-ffmpeg``, under a time limit, through pipes (M4A from bytes through a private
temporary file, since its index may sit at the end). Only the first ``max_duration_s`` is decoded,
and Opus is decoded by libopus straight at the rate asked for where it can (16 kHz, not 48 kHz).
Bad input raises :class:`~emotion_core.errors.AudioError` with a message fit to show the person who
sent it; the decoder's own error is chained.

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
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import imageio_ffmpeg
import numpy as np
import soundfile as sf
import soxr

from emotion_core.errors import AudioError, AudioTooLargeError, AudioTooShortError

logger = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATE = 16000  # Hz, what the recogniser reads
OPUS_SAMPLE_RATE = 48000  # Hz, the rate Discord's voice messages are coded at
OPUS_BITRATE_RANGE_KBPS = (6, 256)  # libopus's range for one channel (kbit/s)
SOURCE_RATE_RANGE_HZ = (4000, 768000)  # a file's own rate outside this is a broken header (Hz)
MAX_CHANNELS = 32  # a file with more channels is refused before its samples are read
RESAMPLE_QUALITY = "HQ"  # soxr quality preset: flat to 0.91 of Nyquist, 144 dB stop band
ENCODE_TIMEOUT_S = 120.0  # time limit for ffmpeg encoding our own audio (s); 60 s take 1-3 s
SNIFF_BYTES = 512  # leading bytes looked at to tell the sender what an unreadable file seems to be
#: ffmpeg demuxers allowed in the fallback: what phones and browsers send, and nothing that can open
#: other files or URLs (playlists, concat lists), so an upload cannot make ffmpeg read our files.
FFMPEG_DEMUXERS = "ogg,matroska,webm,mov,mp4,m4a,mp3,aac,wav,flac"
OPUS_DECODE_RATES_HZ = (8000, 12000, 16000, 24000, 48000)  # the rates libopus decodes at
_MIB = 1024 * 1024
_LIBSNDFILE_UNRECOGNISED = 1  # SF_ERR_UNRECOGNISED_FORMAT
_SFC_SET_ORIGINAL_SAMPLERATE = 0x1500  # libsndfile command: for Ogg/Opus, the decoding rate
_SF_TRUE = 1
_FFMPEG_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_NOT_AUDIO_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "it looks like a JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "it looks like a PNG image"),
    (b"GIF8", "it looks like a GIF image"),
    (b"%PDF", "it looks like a PDF document"),
    (b"PK\x03\x04", "it looks like a ZIP archive"),
)


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
    original_duration_s : float
        Length of the whole input (s) before truncation. Where a truncated input states no length (a
        streamed WebM, say) this is the length decoded, a lower bound.
    truncated : bool
        The input was longer than ``AudioLimits.max_duration_s``; ``samples`` hold its start.
    """

    samples: np.ndarray
    sample_rate: int
    original_duration_s: float
    truncated: bool

    @property
    def duration_s(self) -> float:
        """Length of ``samples`` in seconds."""
        return self.samples.size / self.sample_rate


class _Decoded(NamedTuple):
    """One decoder's output: mono float32 ``samples`` at ``sample_rate`` Hz, already truncated."""

    samples: np.ndarray
    sample_rate: int
    original_duration_s: float
    truncated: bool


class _Unreadable(Exception):
    """A decoder could not read the input; ``reason`` is short and fit to show."""

    def __init__(self, reason: str, *, recognised: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.recognised = recognised  # the decoder knew the format, so its reason is the useful one


def decode(
    source: bytes | bytearray | memoryview | str | os.PathLike,
    *,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    limits: AudioLimits = AudioLimits(),
) -> Waveform:
    """Decode an audio file to mono float32 at ``sample_rate``.

    Parameters
    ----------
    source : bytes, bytearray, memoryview, str or os.PathLike
        The file's contents, or its path.
    sample_rate : int
        Output rate in Hz; the audio is resampled with soxr.
    limits : AudioLimits
        Size and duration limits and the ffmpeg time limit.

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
        Empty, missing, unreadable, corrupt, absurd header, NaN or infinite samples, or ffmpeg ran
        out of time. The message is fit to show the sender.
    """
    if not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")
    data = _load(source, limits)
    try:
        decoded = _read_soundfile(data, sample_rate, limits)
        logger.debug("decoded with libsndfile at %d Hz", decoded.sample_rate)
    except _Unreadable as sf_error:
        logger.debug("libsndfile could not read the input (%s); trying ffmpeg", sf_error.reason)
        try:
            decoded = _read_ffmpeg(data, sample_rate, limits)
        except _Unreadable as ff_error:
            reason = _sniff(data) or (sf_error if sf_error.recognised else ff_error).reason
            reason = reason[:1].lower() + reason[1:]
            raise AudioError(f"This doesn't look like audio I can read ({reason}).") from ff_error

    samples = decoded.samples
    if not np.isfinite(samples).all():
        raise AudioError("This file has broken samples in it (not-a-number or infinite values).")
    if decoded.sample_rate != sample_rate:
        samples = _resample(samples, decoded.sample_rate, sample_rate)
    np.clip(samples, -1.0, 1.0, out=samples)
    duration_s = samples.size / sample_rate
    if duration_s < limits.min_duration_s:
        raise AudioTooShortError(
            f"This recording is too short ({duration_s:.1f} s); "
            f"I need at least {limits.min_duration_s:g} s of audio.",
            duration_s=duration_s,
            min_duration_s=limits.min_duration_s,
        )
    return Waveform(
        samples=samples,
        sample_rate=sample_rate,
        original_duration_s=max(decoded.original_duration_s, duration_s),
        truncated=decoded.truncated,
    )


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
    limits = AudioLimits(max_duration_s=samples.size / sample_rate + 1.0, min_duration_s=0.0)
    decoded = _read_soundfile(ogg, sample_rate, limits)
    out = _resample(decoded.samples, decoded.sample_rate, sample_rate)[: samples.size]
    out = np.pad(out, (0, samples.size - out.size))
    return np.clip(out, -1.0, 1.0, out=out)


def _load(source: bytes | bytearray | memoryview | str | os.PathLike, limits: AudioLimits) -> bytes | Path:
    """Check the input's size before reading it; return the bytes, or the path of a regular file."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        _check_size(memoryview(source).nbytes, limits)
        return bytes(source)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be bytes or a path, got {type(source).__name__}")
    path = Path(source)
    try:
        size = path.stat().st_size
    except FileNotFoundError as e:
        raise AudioError(f"There is no file at {path}.") from e
    except OSError as e:
        raise AudioError(f"I couldn't open {path} ({e.strerror}).") from e
    if not path.is_file():
        raise AudioError(f"{path} is not a file.")
    _check_size(size, limits)
    return path


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


def _read_soundfile(data: bytes | Path, sample_rate: int, limits: AudioLimits) -> _Decoded:
    """Read with libsndfile, only up to ``limits.max_duration_s``.

    The result is at the file's own rate, except Ogg/Opus, which is decoded at the Opus rate
    nearest above ``sample_rate`` (see :func:`_set_opus_decode_rate`).
    """
    try:
        with sf.SoundFile(io.BytesIO(data) if isinstance(data, bytes) else data) as f:
            _check_header(f.samplerate, f.channels)
            rate = _set_opus_decode_rate(f, sample_rate)
            max_frames = math.ceil(limits.max_duration_s * rate)
            audio = f.read(max_frames + 1, dtype="float32", always_2d=True)  # (frames, channels)
            header_frames = f.frames * rate // f.samplerate  # soundfile counts at the header's rate
    except sf.LibsndfileError as e:
        recognised = e.code != _LIBSNDFILE_UNRECOGNISED
        raise _Unreadable(e.error_string.rstrip("."), recognised=recognised) from e
    except (RuntimeError, ValueError) as e:  # soundfile's own checks (odd headers, frame counts)
        raise _Unreadable(str(e)) from e
    if audio.shape[0] == 0:
        # A stream cut short (a truncated Vorbis file) can read as nothing here; ffmpeg may not.
        raise _Unreadable("it seems to be cut short")
    mono = audio[:, 0] if audio.shape[1] == 1 else audio.mean(axis=1, dtype=np.float32)
    truncated = mono.size > max_frames
    original_frames = max(header_frames, mono.size) if truncated else mono.size
    return _Decoded(mono[:max_frames], rate, original_frames / rate, truncated)


def _set_opus_decode_rate(f: sf.SoundFile, sample_rate: int) -> int:
    """Have libopus decode an Ogg/Opus file at the Opus rate nearest above ``sample_rate``.

    libsndfile decodes Opus at the rate in the file's header, 48 kHz for Discord voice messages;
    asking libopus for 16 kHz directly cut the decoding time of those by a third (and came out
    better aligned with the original than 48 kHz plus soxr). soundfile has no call for
    ``SFC_SET_ORIGINAL_SAMPLERATE``, so this uses its private ``_snd``/``_ffi`` handles; where they
    are missing, or for any other format, the file decodes at its header's rate. Must run before
    the first read. Returns the rate the file now decodes at, in Hz.
    """
    rate = next((r for r in OPUS_DECODE_RATES_HZ if r >= sample_rate), OPUS_SAMPLE_RATE)
    snd, ffi = getattr(sf, "_snd", None), getattr(sf, "_ffi", None)
    if (f.format, f.subtype) != ("OGG", "OPUS") or rate >= f.samplerate or snd is None or not ffi:
        return f.samplerate
    value = ffi.new("int *", rate)
    done = snd.sf_command(f._file, _SFC_SET_ORIGINAL_SAMPLERATE, value, ffi.sizeof("int"))
    return rate if done == _SF_TRUE else f.samplerate


def _check_header(sample_rate: int, channels: int) -> None:
    """Refuse headers no real recording has before reading samples (memory is channels x frames)."""
    lo, hi = SOURCE_RATE_RANGE_HZ
    if not lo <= sample_rate <= hi:
        raise AudioError(f"This file's header is broken (it claims {sample_rate} samples per second).")
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(f"This file's header is broken (it claims {channels} channels).")


def _read_ffmpeg(data: bytes | Path, sample_rate: int, limits: AudioLimits) -> _Decoded:
    """Decode with ffmpeg to mono float32 at ``sample_rate``, only up to ``limits.max_duration_s``.

    Bytes go through a pipe, except MP4-family files (M4A), whose index is often at the end where a
    pipe cannot seek back to: those go through a file in a private temporary folder, removed
    whatever happens.
    """
    if isinstance(data, bytes) and data[4:8] == b"ftyp":
        with tempfile.TemporaryDirectory(prefix="moodbot-audio-") as folder:
            path = Path(folder) / "upload.m4a"
            path.write_bytes(data)
            return _read_ffmpeg(path, sample_rate, limits)
    from_pipe = isinstance(data, bytes)
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats",
        "-protocol_whitelist", "pipe" if from_pipe else "file",
        "-format_whitelist", FFMPEG_DEMUXERS,
        "-i", "pipe:0" if from_pipe else f"file:{data}",
        "-map", "0:a:0",
        # Mono by a normalised downmix: for stereo, the average of the channels.
        "-af", f"aresample={sample_rate}:out_chlayout=mono:rematrix_maxval=1:resampler=soxr",
        # A little more than the limit tells a longer file from one exactly as long.
        "-t", f"{limits.max_duration_s + 2 / sample_rate:.6f}",
        "-f", "f32le", "pipe:1",
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command,
            input=data if from_pipe else None,
            stdin=None if from_pipe else subprocess.DEVNULL,
            capture_output=True,
            timeout=limits.decode_timeout_s,
        )
        result.check_returncode()
    except subprocess.TimeoutExpired as e:
        raise AudioError(
            f"Reading this file took longer than {limits.decode_timeout_s:g} s; it may be damaged."
        ) from e
    except subprocess.CalledProcessError as e:
        raise _Unreadable(_ffmpeg_reason(e.stderr)) from e
    mono = np.frombuffer(result.stdout, dtype="<f4").astype(np.float32)  # a writable copy
    max_samples = math.ceil(limits.max_duration_s * sample_rate)
    truncated = mono.size > max_samples
    original_s = mono.size / sample_rate
    match = _FFMPEG_DURATION.search(result.stderr.decode("utf-8", "replace"))
    if truncated and match:
        hours, minutes, seconds = match.groups()
        original_s = max(original_s, int(hours) * 3600 + int(minutes) * 60 + float(seconds))
    return _Decoded(mono[:max_samples], sample_rate, original_s, truncated)


def _ffmpeg_reason(stderr: bytes) -> str:
    """ffmpeg's last error line, without its ``[demuxer @ 0x...]`` and ``Error ...:`` prefixes."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return "the decoder gave no reason"
    return re.sub(r"^\[[^\]]*\]\s*", "", lines[-1]).rsplit(": ", 1)[-1].rstrip(".")


def _sniff(data: bytes | Path) -> str | None:
    """What a non-audio file seems to be, from its first bytes; ``None`` if nothing obvious."""
    if isinstance(data, Path):
        try:
            with data.open("rb") as f:
                head = f.read(SNIFF_BYTES)
        except OSError:
            return None
    else:
        head = data[:SNIFF_BYTES]
    for signature, description in _NOT_AUDIO_SIGNATURES:
        if head.startswith(signature):
            return description
    # A multi-byte character cut off by the end of the sample decodes to U+FFFD at the very end.
    text = head.decode("utf-8", "replace").rstrip("\ufffd")
    if text and "\ufffd" not in text and all(c.isprintable() or c.isspace() for c in text):
        return "it looks like text"
    return None


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
        stderr = e.stderr or b""
        raise AudioError(f"I couldn't encode the audio ({_ffmpeg_reason(stderr)}).") from e
    return result.stdout
