"""Speech-like test signals and real encoded audio files, made by the tests themselves.

Deterministic (seeded), so a failing test fails the same way twice:

- :func:`speechlike` -- a speech-like signal: a harmonic source with vibrato and a syllable-rate
  envelope, which the voice-activity detector accepts as speech.
- :func:`make_encoded_audio` -- that signal (or given samples) encoded as a real file in one of
  :data:`ENCODED_FORMATS` (Ogg/Opus, Ogg/Vorbis, WAV in each bit depth, FLAC, MP3, M4A/AAC,
  WebM/Opus), returned as bytes.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import soundfile as sf
import soxr

#: Format name -> (soundfile format, soundfile subtype), for the formats libsndfile writes itself.
_SOUNDFILE_FORMATS: dict[str, tuple[str, str]] = {
    "ogg-opus": ("OGG", "OPUS"),
    "ogg-vorbis": ("OGG", "VORBIS"),
    "wav-u8": ("WAV", "PCM_U8"),
    "wav-16": ("WAV", "PCM_16"),
    "wav-24": ("WAV", "PCM_24"),
    "wav-32": ("WAV", "PCM_32"),
    "wav-float": ("WAV", "FLOAT"),
    "flac": ("FLAC", "PCM_16"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}
#: Format name -> ffmpeg output arguments, for what only ffmpeg writes (phones, browsers).
_FFMPEG_FORMATS: dict[str, list[str]] = {
    "m4a-aac": ["-c:a", "aac", "-b:a", "64k", "-f", "ipod"],
    "webm-opus": ["-c:a", "libopus", "-b:a", "32k", "-f", "webm"],
}
#: Every format :func:`make_encoded_audio` can write.
ENCODED_FORMATS: tuple[str, ...] = (*_SOUNDFILE_FORMATS, *_FFMPEG_FORMATS)
#: Rate of the file (Hz) where the codec does not take the caller's rate.
_CODEC_RATE_HZ = 48000


def speechlike(
    duration_s: float, sample_rate: int = 16000, *, seed: int = 0, f0_hz: float = 140.0
) -> np.ndarray:
    """A deterministic signal with the features a voice-activity detector looks for in speech.

    A harmonic source (harmonics up to 4 kHz, falling at 6 dB/octave, shaped by two formant peaks
    that move from syllable to syllable) with 5.5 Hz vibrato and a slow pitch drift, gated by a
    syllable envelope: raised-cosine syllables of 120--300 ms, short gaps and an occasional longer
    pause, about four syllables a second.

    Parameters
    ----------
    duration_s : float
        Length in seconds.
    sample_rate : int
        Sample rate in Hz.
    seed : int
        Seed of the syllable timing and formants.
    f0_hz : float
        Mean fundamental frequency in Hz.

    Returns
    -------
    np.ndarray
        float32, shape ``(round(duration_s * sample_rate),)``, peak 0.5.
    """
    rng = np.random.default_rng(seed)
    n = round(duration_s * sample_rate)
    t = np.arange(n) / sample_rate
    envelope = np.zeros(n)
    formant_hz = np.zeros((n, 2))
    start = round(rng.uniform(0.05, 0.2) * sample_rate)
    while start < n:
        length = round(rng.uniform(0.12, 0.3) * sample_rate)
        stop = min(start + length, n)
        envelope[start:stop] = np.hanning(length)[: stop - start]
        formant_hz[start:stop] = (rng.uniform(300, 800), rng.uniform(900, 2500))
        pause_s = rng.uniform(0.3, 0.5) if rng.random() < 0.15 else rng.uniform(0.03, 0.12)
        start = stop + round(pause_s * sample_rate)
    f0 = f0_hz * (1 + 0.03 * np.sin(2 * np.pi * 5.5 * t)) * (1 + 0.1 * np.sin(2 * np.pi * 0.3 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    signal = np.zeros(n)
    for k in range(1, int(4000 // f0_hz) + 1):
        harmonic_hz = k * f0
        gain = sum(1 / (1 + ((harmonic_hz - formant_hz[:, i]) / 150) ** 2) for i in range(2))
        signal += (0.2 + gain) / k * np.sin(k * phase)
    signal *= envelope
    return (0.5 * signal / max(np.abs(signal).max(), 1e-9)).astype(np.float32)


def make_encoded_audio(
    fmt: str,
    *,
    duration_s: float = 2.0,
    sample_rate: int = 16000,
    channels: int = 1,
    samples: np.ndarray | None = None,
) -> bytes:
    """Encode a signal as a real audio file and return its bytes.

    Parameters
    ----------
    fmt : str
        One of :data:`ENCODED_FORMATS`.
    duration_s : float
        Length (s) of the default signal, :func:`speechlike`; ignored when ``samples`` is given.
    sample_rate : int
        Sample rate of the signal in Hz, and of the file where the codec takes it (Opus takes 8,
        12, 16, 24 or 48 kHz, MP3 up to 48 kHz; otherwise the file is written at 48 kHz).
    channels : int
        Channel count of the file; channel ``c`` carries the signal times ``0.5 ** c``, so the
        average of the channels is known (0.75 of the signal for two).
    samples : np.ndarray, optional
        float32, shape ``(n,)``, the signal to encode instead of :func:`speechlike`.
    """
    mono = speechlike(duration_s, sample_rate) if samples is None else samples.astype(np.float32)
    audio = np.stack([mono * 0.5**c for c in range(channels)], axis=1)
    if fmt in _SOUNDFILE_FORMATS:
        container, subtype = _SOUNDFILE_FORMATS[fmt]
        rate = sample_rate
        if (subtype == "OPUS" and rate not in (8000, 12000, 16000, 24000, 48000)) or (
            container == "MP3" and rate > _CODEC_RATE_HZ
        ):
            rate = _CODEC_RATE_HZ
            audio = soxr.resample(audio, sample_rate, rate)
        buffer = io.BytesIO()
        sf.write(buffer, audio, rate, format=container, subtype=subtype)
        return buffer.getvalue()
    if fmt in _FFMPEG_FORMATS:
        # Through a file, not a pipe: the MP4 muxer seeks back to put its index at the end, as
        # phones do, which is the case a decoder reading from a pipe gets wrong.
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "out"
            command = [
                imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
                "-f", "f32le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "pipe:0",
                *_FFMPEG_FORMATS[fmt], str(out),
            ]  # fmt: skip
            subprocess.run(command, input=audio.tobytes(), capture_output=True, check=True)
            return out.read_bytes()
    raise ValueError(f"unknown format {fmt!r}; choose one of {ENCODED_FORMATS}")
