"""The two decoders behind :func:`emotion_core.audio.decode`, each held to budgets a file cannot talk past.

A hostile upload's cost is set by what its header claims, not by its size: a 200 KB file can claim
32 channels at 655 kHz, or 1 Hz that the resampler multiplies by 16,000. So both decoders check the
source's rate and channel count before reading samples, read at most the samples the duration limit
allows at that rate, and stop at a deadline:

- :func:`read_soundfile` (libsndfile, in process) reads in blocks of ``BLOCK_SAMPLES`` and downmixes
  each block as it comes, so memory is one block plus the mono signal; the deadline is checked
  between blocks.
- :func:`read_ffmpeg` (the ffmpeg bundled with imageio-ffmpeg) runs under
  :func:`~emotion_core.bounded_process.run_bounded`: its output is read until the duration limit's
  bytes and it is then stopped, its own report of the stream is checked as it is printed, and it is
  killed at the deadline.

Only the formats the README documents are read (ogg, opus, wav, mp3, m4a, webm, flac), by container
and by codec; anything else libsndfile recognises (AIFF, CAF, W64, VOC, ...) is refused by name.
Failures raise :class:`Unreadable` with a category, never the decoder's own words; those go to the
debug log and the exception chain.
"""

from __future__ import annotations

import io
import logging
import math
import re
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import imageio_ffmpeg
import numpy as np
import soundfile as sf

from emotion_core.bounded_process import run_bounded
from emotion_core.errors import AudioError

log = logging.getLogger(__name__)

SOURCE_RATE_RANGE_HZ = (4000, 192000)  # a file's own rate outside this is a broken header (Hz)
MAX_CHANNELS = 8  # a file with more channels is refused before its samples are read
#: Samples per second of source (rate x channels) above this are refused: 96 kHz stereo or 48 kHz quad
#: cover what people record voices with; more is a file built to cost time (decoding is per sample).
#: A minute at this rate decodes in about 0.3 s on one core and holds about 46 MB at the source rate.
MAX_SOURCE_SAMPLES_PER_S = 192000
BLOCK_SAMPLES = 1 << 18  # samples (all channels) read per block by libsndfile: 1 MiB of float32
#: Containers and codecs read in process, as libsndfile names them; a recognised format outside this
#: is refused by name rather than parsed.
SOUNDFILE_FORMATS: dict[str, frozenset[str]] = {
    "WAV": frozenset({"PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "ULAW", "ALAW",
                      "IMA_ADPCM", "MS_ADPCM"}),
    "WAVEX": frozenset({"PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"}),
    "OGG": frozenset({"OPUS", "VORBIS"}),
    "FLAC": frozenset({"PCM_S8", "PCM_16", "PCM_24"}),
    "MP3": frozenset({"MPEG_LAYER_III"}),
}  # fmt: skip
#: ffmpeg demuxers allowed in the fallback: what phones and browsers send, and nothing that can open
#: other files or URLs (playlists, concat lists), so an upload cannot make ffmpeg read our files.
FFMPEG_DEMUXERS = "ogg,matroska,webm,mov,mp4,m4a,mp3,aac,wav,flac"
#: ffmpeg decoders allowed: the codecs of those containers that people actually send.
FFMPEG_DECODERS = "opus,libopus,vorbis,aac,aac_fixed,mp3,mp3float,flac,alac,pcm_s16le,pcm_s24le,pcm_f32le"
OPUS_DECODE_RATES_HZ = (8000, 12000, 16000, 24000, 48000)  # the rates libopus decodes at
SNIFF_BYTES = 512  # leading bytes looked at to tell the sender what an unreadable file seems to be
#: Longest length a file may claim (s) for it to be shown: longer is a broken or hostile header.
MAX_PLAUSIBLE_DURATION_S = 24 * 3600.0
MIN_PLAUSIBLE_BITRATE_BPS = 1000  # no codec people send codes speech below this, so a file of n bytes
#                                   cannot hold more than 8n / 1000 s of it
_LIBSNDFILE_UNRECOGNIZED = 1  # SF_ERR_UNRECOGNISED_FORMAT
_SFC_SET_ORIGINAL_SAMPLERATE = 0x1500  # libsndfile command: for Ogg/Opus, the decoding rate
_SF_TRUE = 1
_FFMPEG_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_FFMPEG_AUDIO_STREAM = re.compile(r"Stream #0:\d+.*?: Audio: [^,]+, (\d+) Hz, ([^,]+)")
_FFMPEG_LAYOUT_CHANNELS = {
    "mono": 1, "stereo": 2, "downmix": 2, "2.1": 3, "3.0": 3, "3.0(back)": 3, "4.0": 4, "quad": 4,
    "quad(side)": 4, "3.1": 4, "5.0": 5, "5.0(side)": 5, "4.1": 5, "5.1": 6, "5.1(side)": 6,
    "6.0": 6, "6.0(front)": 6, "hexagonal": 6, "6.1": 7, "6.1(back)": 7, "6.1(front)": 7, "7.0": 7,
    "7.0(front)": 7, "7.1": 8, "7.1(wide)": 8, "7.1(wide-side)": 8, "octagonal": 8,
    "hexadecagonal": 16, "22.2": 24,
}  # fmt: skip
_NOT_AUDIO_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "it looks like a JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "it looks like a PNG image"),
    (b"GIF8", "it looks like a GIF image"),
    (b"%PDF", "it looks like a PDF document"),
    (b"PK\x03\x04", "it looks like a ZIP archive"),
    (b"\x1f\x8b", "it looks like a compressed archive"),
    (b"<!DOCTYPE", "it looks like a web page"),
    (b"<html", "it looks like a web page"),
)


class Decoded(NamedTuple):
    """One decoder's output.

    ``samples`` are mono float32 at ``sample_rate`` Hz, already cut to the duration limit;
    ``original_duration_s`` is the whole input's plausible length, or ``None`` where it states none.
    """

    samples: np.ndarray
    sample_rate: int
    original_duration_s: float | None
    truncated: bool


class Unreadable(Exception):
    """A decoder could not read the input; its own words go to the debug log, never to the person.

    ``recognised`` says the decoder knew the format, so the file is :data:`DAMAGED` rather than
    something else altogether.
    """

    def __init__(self, *, recognized: bool = True) -> None:
        super().__init__(DAMAGED if recognized else "format not recognised")
        self.recognized = recognized


class DecodeTimeout(Exception):
    """A decoder ran past its deadline."""


DAMAGED = "it seems damaged or cut short"


def check_source(sample_rate: int, channels: int) -> None:
    """Refuse a source rate or channel count no real recording has, before reading any sample."""
    lo, hi = SOURCE_RATE_RANGE_HZ
    if not lo <= sample_rate <= hi:
        raise AudioError(
            f"This file's header claims {sample_rate} samples per second; it is broken, "
            f"or outside the {lo} to {hi} I read."
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(
            f"This file's header is broken or it has too many channels ({channels}; "
            f"I read up to {MAX_CHANNELS})."
        )
    if sample_rate * channels > MAX_SOURCE_SAMPLES_PER_S:
        raise AudioError(
            f"This file has more audio per second than I read ({channels} channels at {sample_rate} Hz); "
            "please send it as mono or stereo at 48 kHz or less."
        )


def plausible_duration(claimed_s: float, size_bytes: int) -> float | None:
    """``claimed_s`` if a file of ``size_bytes`` can really hold that much audio, else ``None``."""
    limit = min(MAX_PLAUSIBLE_DURATION_S, 8 * size_bytes / MIN_PLAUSIBLE_BITRATE_BPS)
    return claimed_s if math.isfinite(claimed_s) and 0 <= claimed_s <= limit else None


def read_soundfile(data: bytes, sample_rate: int, max_duration_s: float, deadline: float) -> Decoded:
    """Read with libsndfile, block by block, up to ``max_duration_s``, before ``deadline``.

    The result is at the file's own rate, except Ogg/Opus, which is decoded at the Opus rate nearest
    above ``sample_rate`` (see :func:`_set_opus_decode_rate`). ``deadline`` is a
    :func:`time.monotonic` time.
    """
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            _check_documented(f.format, f.subtype)
            check_source(f.samplerate, f.channels)
            rate = _set_opus_decode_rate(f, sample_rate)
            max_frames = math.ceil(max_duration_s * rate)
            mono = _read_blocks(f, max_frames + 1, deadline)
            header_frames = f.frames * rate // f.samplerate  # soundfile counts at the header's rate
    except sf.LibsndfileError as e:
        log.debug("libsndfile: %s", e.error_string)
        raise Unreadable(recognized=e.code != _LIBSNDFILE_UNRECOGNIZED) from e
    except (RuntimeError, ValueError, OverflowError) as e:  # soundfile's own checks (odd headers)
        log.debug("soundfile: %s", e)
        raise Unreadable() from e
    if mono.size == 0:
        # A stream cut short (a truncated Vorbis file) can read as nothing here; ffmpeg may not.
        raise Unreadable()
    truncated = mono.size > max_frames
    original_s: float | None = mono.size / rate
    if truncated:
        original_s = plausible_duration(max(header_frames, mono.size) / rate, len(data))
    return Decoded(mono[:max_frames], rate, original_s, truncated)


def _check_documented(container: str, codec: str) -> None:
    """Refuse, by name, a format libsndfile reads but the README does not offer."""
    if codec not in SOUNDFILE_FORMATS.get(container, frozenset()):
        name = sf.available_formats().get(container, container)
        raise AudioError(
            f"I don't read {name} files ({codec.replace('_', ' ').lower()}); "
            "please send a voice message or an ogg, opus, wav, mp3, m4a, webm or flac file."
        )


def _read_blocks(f: sf.SoundFile, max_frames: int, deadline: float) -> np.ndarray:
    """Up to ``max_frames`` frames of ``f``, downmixed to mono one block at a time.

    The output is allocated once for ``max_frames`` and filled in place: pages never written are never
    resident, so memory is what was decoded plus one block, not twice that.
    """
    block_frames = max(1, BLOCK_SAMPLES // f.channels)
    mono = np.empty(max_frames, np.float32)
    done = 0
    while done < max_frames:
        if time.monotonic() > deadline:
            raise DecodeTimeout
        block = f.read(min(block_frames, max_frames - done), dtype="float32", always_2d=True)
        if block.shape[0] == 0:
            break
        block.mean(axis=1, dtype=np.float32, out=mono[done : done + block.shape[0]])
        done += block.shape[0]
    return mono[:done]


def _set_opus_decode_rate(f: sf.SoundFile, sample_rate: int) -> int:
    """Have libopus decode an Ogg/Opus file at the Opus rate nearest above ``sample_rate``.

    libsndfile decodes Opus at the rate in the file's header, 48 kHz for Discord voice messages;
    asking libopus for 16 kHz directly cut the decoding time of those by a third (and came out
    better aligned with the original than 48 kHz plus soxr). soundfile has no call for
    ``SFC_SET_ORIGINAL_SAMPLERATE``, so this uses its private ``_snd``/``_ffi`` handles; where they
    are missing, or for any other format, the file decodes at its header's rate. Must run before
    the first read. Returns the rate the file now decodes at, in Hz.
    """
    rate = next((r for r in OPUS_DECODE_RATES_HZ if r >= sample_rate), 48000)
    snd, ffi = getattr(sf, "_snd", None), getattr(sf, "_ffi", None)
    if (f.format, f.subtype) != ("OGG", "OPUS") or rate >= f.samplerate or snd is None or not ffi:
        return f.samplerate
    value = ffi.new("int *", rate)
    done = snd.sf_command(f._file, _SFC_SET_ORIGINAL_SAMPLERATE, value, ffi.sizeof("int"))
    return rate if done == _SF_TRUE else f.samplerate


def read_ffmpeg(data: bytes, sample_rate: int, max_duration_s: float, deadline: float) -> Decoded:
    """Decode with ffmpeg to mono float32 at ``sample_rate``, up to ``max_duration_s``, by ``deadline``.

    The bytes go through a pipe, except MP4-family files (M4A), whose index is often at the end where a
    pipe cannot seek back to: those go through a file in a private temporary folder, removed whatever
    happens.
    """
    if data[4:8] == b"ftyp":
        with tempfile.TemporaryDirectory(prefix="moodbot-audio-") as folder:
            path = Path(folder) / "upload.m4a"
            path.write_bytes(data)
            return _run_ffmpeg(data, path, sample_rate, max_duration_s, deadline)
    return _run_ffmpeg(data, None, sample_rate, max_duration_s, deadline)


def _run_ffmpeg(
    data: bytes, path: Path | None, sample_rate: int, max_duration_s: float, deadline: float
) -> Decoded:
    """Run ffmpeg on ``path`` (or ``data`` through a pipe) and read its mono output within budget."""
    max_samples = math.ceil(max_duration_s * sample_rate)
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats",
        "-protocol_whitelist", "pipe" if path is None else "file",
        "-format_whitelist", FFMPEG_DEMUXERS,
        "-codec_whitelist", FFMPEG_DECODERS,
        "-i", "pipe:0" if path is None else f"file:{path}",
        "-map", "0:a:0",
        # Mono by a normalised downmix: for stereo, the average of the channels.
        "-af", f"aresample={sample_rate}:out_chlayout=mono:rematrix_maxval=1:resampler=soxr",
        # A little more than the limit tells a longer file from one exactly as long.
        "-t", f"{max_duration_s + 2 / sample_rate:.6f}",
        "-f", "f32le", "pipe:1",
    ]  # fmt: skip
    result = run_bounded(
        command,
        stdin=data if path is None else None,
        max_stdout_bytes=4 * (max_samples + 1),  # float32: one sample past the limit marks truncation
        timeout_s=max(deadline - time.monotonic(), 0.001),
        check_stderr=_check_stream_line,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    if result.timed_out:
        raise DecodeTimeout
    if result.refusal:
        raise AudioError(result.refusal)
    if not result.output_full and result.returncode != 0:
        log.debug("ffmpeg exited with %d: %s", result.returncode, stderr[-2000:])
        recognized = "Invalid data found when processing input" not in stderr
        raise Unreadable(recognized=recognized)
    mono = np.frombuffer(result.stdout[: len(result.stdout) // 4 * 4], dtype="<f4").astype(np.float32)
    truncated = mono.size > max_samples
    original_s: float | None = mono.size / sample_rate
    if truncated:
        match = _FFMPEG_DURATION.search(stderr)
        claimed = 0.0
        if match:
            hours, minutes, seconds = match.groups()
            claimed = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        original_s = plausible_duration(max(claimed, mono.size / sample_rate), len(data))
    return Decoded(mono[:max_samples], sample_rate, original_s, truncated)


def _check_stream_line(line: str) -> str | None:
    """ffmpeg prints each input stream before decoding it: refuse an absurd rate or channel count."""
    match = _FFMPEG_AUDIO_STREAM.search(line)
    if not match:
        return None
    rate, layout = int(match.group(1)), match.group(2).strip()
    channels = _FFMPEG_LAYOUT_CHANNELS.get(layout)
    if channels is None and (count := re.match(r"(\d+) channels", layout)):
        channels = int(count.group(1))
    try:
        check_source(rate, channels or 1)  # a layout we cannot count is held by the output budget
    except AudioError as e:
        return str(e)
    return None


def sniff(data: bytes) -> str | None:
    """What a non-audio file seems to be, from its first bytes; ``None`` if nothing obvious."""
    head = data[:SNIFF_BYTES]
    for signature, description in _NOT_AUDIO_SIGNATURES:
        if head.startswith(signature):
            return description
    # A multi-byte character cut off by the end of the sample decodes to U+FFFD at the very end.
    text = head.decode("utf-8", "replace").rstrip("\ufffd")
    if text and "\ufffd" not in text and all(c.isprintable() or c.isspace() for c in text):
        return "it looks like text"
    return None
