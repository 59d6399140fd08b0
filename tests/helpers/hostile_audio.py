"""Hostile uploads, made on the spot from a seed: what a person trying to hurt the bot would post.

:func:`hostile_inputs` yields ``(kind, bytes)`` pairs drawn from real files of every documented
format (and some undocumented ones) by truncation, bit flips, absurd header fields, amplifiers
(headers that claim a rate or channel count that would multiply the cost of a small file), non-audio
and polyglots (audio hidden inside an archive or a PDF). The same seed gives the same inputs, so the
suite's fuzz test and ``benchmarks/fuzz_decode.py`` can be compared and any failure replayed.
:class:`PeakRss` and :func:`child_processes` measure what a decode cost and what it left running.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import os
import struct
import subprocess
import tarfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import soundfile as sf

from tests.helpers.audio import make_encoded_audio, speechlike

_DOCUMENTED = ("ogg-opus", "ogg-vorbis", "wav-16", "wav-float", "flac", "mp3", "m4a-aac", "webm-opus",
               "flac-stereo", "mkv-pcm")  # fmt: skip
_SECONDS = 1.5  # length of every seed file (s): long enough to be read, short enough to be quick


@functools.cache
def seed_files() -> dict[str, bytes]:
    """One real file per format, documented and not: the material every mutation starts from."""
    files = {fmt: make_encoded_audio(fmt, duration_s=_SECONDS) for fmt in _DOCUMENTED[:8]}
    files["flac-stereo"] = make_encoded_audio("flac", duration_s=_SECONDS, channels=2)
    files["mkv-pcm"] = _ffmpeg_encode(["-c:a", "pcm_s16le", "-f", "matroska"])
    mono = speechlike(_SECONDS, 16000)
    for container, subtype in (("AIFF", "PCM_16"), ("CAF", "PCM_16"), ("W64", "PCM_16"), ("VOC", "PCM_16"),
                               ("NIST", "PCM_16"), ("MAT5", "DOUBLE"), ("AU", "PCM_16"), ("IRCAM", "PCM_16"),
                               ("RF64", "PCM_16"), ("SVX", "PCM_16")):  # fmt: skip
        buffer = io.BytesIO()
        sf.write(buffer, mono, 16000, format=container, subtype=subtype)
        files[container.lower()] = buffer.getvalue()
    return files


def _ffmpeg_encode(output_args: list[str]) -> bytes:
    """A sine tone of ``_SECONDS`` at 16 kHz encoded by ffmpeg with ``output_args``."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
               "-i", f"sine=f=220:d={_SECONDS}:sample_rate=16000", *output_args, "pipe:1"]  # fmt: skip
    return subprocess.run(command, capture_output=True, check=True).stdout


def _truncate(rng: np.random.Generator, data: bytes) -> bytes:
    return data[: int(rng.integers(1, len(data)))]


def _flip_bits(rng: np.random.Generator, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 24))):
        out[int(rng.integers(0, len(out)))] ^= 1 << int(rng.integers(0, 8))
    return bytes(out)


def _absurd(rng: np.random.Generator, bits: int) -> int:
    """A header value no real file has: 0, 1, all ones, a power of two, or random, in ``bits`` bits."""
    choices = [0, 1, (1 << bits) - 1, 1 << (bits - 1), int(rng.integers(0, 1 << min(bits, 62)))]
    return choices[int(rng.integers(0, len(choices)))] & ((1 << bits) - 1)


def _patch_wav(rng: np.random.Generator, data: bytes) -> bytes:
    """Rewrite one field of a WAV's ``fmt`` or ``data`` chunk (channels, rate, block, bits or size)."""
    out = bytearray(data)
    fmt = data.find(b"fmt ") + 8
    size = data.find(b"data") + 4
    size = data.find(b"data") + 4
    field = [(fmt + 2, 16), (fmt + 4, 32), (fmt + 8, 32), (fmt + 12, 16), (fmt + 14, 16), (size, 32)]
    offset, bits = field[int(rng.integers(0, len(field)))]
    out[offset : offset + bits // 8] = _absurd(rng, bits).to_bytes(bits // 8, "little")
    return bytes(out)


def _patch_flac(rng: np.random.Generator, data: bytes) -> bytes:
    """Rewrite STREAMINFO's rate (20 bits), channels (3), bit depth (5) or total samples (36)."""
    start = data.find(b"fLaC") + 8 + 10  # after the block header and block/frame sizes
    info = int.from_bytes(data[start : start + 8], "big")
    shift, bits = [(44, 20), (41, 3), (36, 5), (0, 36)][int(rng.integers(0, 4))]
    info = (info & ~(((1 << bits) - 1) << shift)) | (_absurd(rng, bits) << shift)
    return data[:start] + info.to_bytes(8, "big") + data[start + 8 :]


def _patch_matroska(rng: np.random.Generator, data: bytes) -> bytes:
    """Rewrite the sampling frequency (a float, EBML 0xB5) or the channel count (0x9F) of a track."""
    rate_at = data.find(b"\xb5\x88")
    if rng.random() < 0.6 and rate_at >= 0:
        value = [0.0, 1.0, 5.0, 1e9, float("nan"), float("inf"), -48000.0][int(rng.integers(0, 7))]
        return data[: rate_at + 2] + struct.pack(">d", value) + data[rate_at + 10 :]
    channels_at = data.find(b"\x9f\x81")
    if channels_at < 0:
        return _flip_bits(rng, data)
    return data[: channels_at + 2] + bytes([int(rng.integers(0, 256))]) + data[channels_at + 3 :]


def _patch_ogg(rng: np.random.Generator, data: bytes) -> bytes:
    """Rewrite the channel count or input rate of an OpusHead, or the rate of a Vorbis header."""
    out = bytearray(data)
    if (head := data.find(b"OpusHead")) >= 0:
        offset, size = [(head + 9, 1), (head + 12, 4), (head + 10, 2)][int(rng.integers(0, 3))]
    elif (head := data.find(b"\x01vorbis")) >= 0:
        offset, size = [(head + 11, 1), (head + 12, 4)][int(rng.integers(0, 2))]
    else:
        return _flip_bits(rng, data)
    out[offset : offset + size] = _absurd(rng, 8 * size).to_bytes(size, "little")
    return bytes(out)  # the page checksum is now wrong too, as a careless attacker's would be


@functools.cache
def amplifiers() -> tuple[bytes, ...]:
    """Small real files whose cost is all in their claims: high rates, many channels, long silence."""
    made = []
    for audio, rate, fmt in (
        (np.zeros((2 * 192000, 8), np.float32), 192000, "FLAC"),  # refused: too many samples a second
        (np.zeros(90 * 192000, np.float32), 192000, "FLAC"),  # allowed; only 60 s of it decoded
        (np.zeros(384000, np.float32), 384000, "FLAC"),  # refused: a rate above any voice recording
        (np.zeros((3 * 48000, 8), np.float32), 48000, "OGG"),  # 8 channels of Vorbis
        (np.zeros((96000, 32), np.float32), 192000, "OGG"),  # 32 channels of Vorbis at 192 kHz
        (np.zeros((327675, 8), np.float32), 655350, "FLAC"),  # 8 channels at FLAC's highest rate
    ):
        buffer = io.BytesIO()
        sf.write(buffer, audio, rate, format=fmt, subtype="VORBIS" if fmt == "OGG" else "PCM_16")
        made.append(buffer.getvalue())
    header = make_encoded_audio("wav-16", duration_s=0.6)  # a WAV claiming 4 GB over a few bytes
    at = header.find(b"data") + 4
    made.append(header[:at] + struct.pack("<I", 0xFFFFFFF0) + header[at + 4 :])
    return tuple(made)


def _not_audio(rng: np.random.Generator) -> bytes:
    kinds = [
        b"%PDF-1.7\n" + rng.bytes(2000),
        b"\x89PNG\r\n\x1a\n" + rng.bytes(2000),
        b"\xff\xd8\xff\xe0" + rng.bytes(2000),
        b"<!DOCTYPE html><html><body>Not Found</body></html>\n",
        b"Bonjour, ceci n'est pas un message vocal. " * 30,
        gzip.compress(rng.bytes(2000)),
        rng.bytes(int(rng.integers(1, 5000))),
        b"\x00" * int(rng.integers(1, 5000)),
    ]
    return kinds[int(rng.integers(0, len(kinds)))]


def _polyglot(rng: np.random.Generator, audio: bytes) -> bytes:
    """Audio inside something else, or something else around audio."""
    kind = int(rng.integers(0, 5))
    if kind == 0:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("voice.ogg", audio)
        return buffer.getvalue()
    if kind == 1:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            info = tarfile.TarInfo("voice.ogg")
            info.size = len(audio)
            archive.addfile(info, io.BytesIO(audio))
        return buffer.getvalue()
    if kind == 2:
        return b"%PDF-1.4\n1 0 obj <<>> stream\n" + audio + b"\nendstream endobj\n%%EOF\n"
    if kind == 3:
        return rng.bytes(int(rng.integers(1, 600))) + audio
    return audio + rng.bytes(int(rng.integers(1, 60000)))


def hostile_inputs(seed: int, count: int) -> Iterator[tuple[str, bytes]]:
    """``count`` hostile uploads drawn with ``seed``, as ``(kind, bytes)``; the same seed, the same inputs.

    Kinds: ``truncated``, ``bit-flips``, ``header`` (an absurd field in a WAV, FLAC, Matroska or Ogg
    header), ``amplifier``, ``not-audio``, ``polyglot`` and ``undocumented`` (a real file in a format
    the README does not offer).
    """
    rng = np.random.default_rng(seed)
    files = seed_files()
    documented = [name for name in files if name in _DOCUMENTED]
    undocumented = [name for name in files if name not in _DOCUMENTED]
    patchers: dict[str, Callable[[np.random.Generator, bytes], bytes]] = {
        "wav-16": _patch_wav, "wav-float": _patch_wav, "flac": _patch_flac, "flac-stereo": _patch_flac,
        "mkv-pcm": _patch_matroska, "webm-opus": _patch_matroska, "ogg-opus": _patch_ogg,
        "ogg-vorbis": _patch_ogg,
    }  # fmt: skip
    kinds = ("truncated", "bit-flips", "header", "amplifier", "not-audio", "polyglot", "undocumented")
    weights = np.array([3, 3, 4, 1, 1, 1, 1], float)
    for _ in range(count):
        kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
        source = files[documented[int(rng.integers(0, len(documented)))]]
        if kind == "truncated":
            yield kind, _truncate(rng, source)
        elif kind == "bit-flips":
            yield kind, _flip_bits(rng, source)
        elif kind == "header":
            name = list(patchers)[int(rng.integers(0, len(patchers)))]
            yield kind, patchers[name](rng, files[name])
        elif kind == "amplifier":
            yield kind, amplifiers()[int(rng.integers(0, len(amplifiers())))]
        elif kind == "not-audio":
            yield kind, _not_audio(rng)
        elif kind == "polyglot":
            yield kind, _polyglot(rng, files["ogg-opus"])
        else:
            yield kind, files[undocumented[int(rng.integers(0, len(undocumented)))]]


def rss_bytes() -> int:
    """This process's resident memory now (bytes), from ``/proc/self/statm``."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Sample resident memory every ``interval_s`` inside a ``with`` block; ``growth`` is peak minus start.

    A sampler rather than ``ru_maxrss``, which only ever rises, so each decode gets its own figure;
    a peak shorter than the interval can be missed, so keep the interval well under a decode's time.
    """

    def __init__(self, interval_s: float = 0.002) -> None:
        self.interval_s = interval_s
        self.growth = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRss:
        self._start = rss_bytes()
        self._peak = self._start
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, rss_bytes())
        self.growth = self._peak - self._start

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._peak = max(self._peak, rss_bytes())


def child_processes() -> list[int]:
    """Process ids of this process's children still alive or unreaped (Linux)."""
    children: list[int] = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with contextlib.suppress(OSError):
            children += [int(pid) for pid in (task / "children").read_text().split()]
    return children
