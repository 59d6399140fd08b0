"""Training augmentation that imitates what Discord and real rooms do to a voice.

Every training clip is used as stored (already Opus at 32 kbit/s, see the corpora README) and in two
degraded copies, made once and cached with the features:

- ``discord``: a random gain and a fresh Opus encode at 48 kHz and a voice-message bit rate
  (12–32 kbit/s), as a voice message posted from a phone would arrive.
- ``room``: a small speed change (pitch and tempo together, as in Kaldi's speed perturbation),
  optional synthetic reverb, additive noise at a random SNR, then the same Opus encode.
- ``phone``: another microphone: a band limit (the 300–3400 Hz telephone band, or random high- and
  low-pass corners), a random equaliser of three peaking filters, sometimes clipping from a hot
  input gain, then the same Opus encode.
- ``speed``: Kaldi's speed perturbation, ×0.9 or ×1.1: F0, formants and tempo move together, as if
  another, smaller or larger, speaker said it; a random gain and the same Opus encode. In the shipped
  recipe since 0.10.0, after it gained in both protocols on every seed (README, "What was tried").

The room's pitch and tempo changes stay within ±6 %, well inside one speaker's natural variation, so
the label still holds (emotion shifts F0 and rate by 10–50 %; see Banse & Scherer 1996); ``speed``'s
10 % is at the edge of that, which is why it was measured before it was used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal
import soxr

from emotion_core.audio import opus_roundtrip

#: Every variant the feature tables hold; new ones go last, so that the random draws of the earlier
#: ones, and their cached features, stay as they were.
AUGMENT_VARIANTS = ("clean", "discord", "room", "phone", "speed")
#: The variants the shipped recipe trains on.
TRAINING_VARIANTS = AUGMENT_VARIANTS


def variant_indices(variants: tuple[str, ...]) -> np.ndarray:
    """Where ``variants`` sit in the feature tables' first axis (:data:`AUGMENT_VARIANTS`)."""
    return np.array([AUGMENT_VARIANTS.index(v) for v in variants])


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges that the random degradations are drawn from (uniformly unless said)."""

    opus_bitrates_kbps: tuple[int, ...] = (12, 16, 24, 32)
    gain_db: tuple[float, float] = (-18.0, 3.0)
    speed: tuple[float, float] = (0.94, 1.06)
    speed_perturbation: tuple[float, ...] = (0.9, 1.1)
    reverb_probability: float = 0.4
    rt60_s: tuple[float, float] = (0.15, 0.6)
    snr_db: tuple[float, float] = (5.0, 30.0)
    telephone_probability: float = 0.4
    highpass_hz: tuple[float, float] = (50.0, 400.0)
    lowpass_hz: tuple[float, float] = (3400.0, 7800.0)
    eq_gain_db: tuple[float, float] = (-8.0, 8.0)
    clip_probability: float = 0.25
    clip_drive_db: tuple[float, float] = (6.0, 18.0)


def _gain(samples: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    out = samples * np.float32(10 ** (rng.uniform(*config.gain_db) / 20))
    return np.clip(out, -1.0, 1.0)


def _speed(samples: np.ndarray, sample_rate: int, factor: float) -> np.ndarray:
    """Play ``factor`` times faster: resample and reinterpret at the original rate."""
    return soxr.resample(samples, sample_rate, sample_rate / factor).astype(np.float32)


def _reverb(samples: np.ndarray, sample_rate: int, rt60_s: float, rng: np.random.Generator):
    """Convolve with an exponentially decaying noise tail, a standard synthetic room response."""
    n = int(rt60_s * sample_rate)
    t = np.arange(n) / sample_rate
    rir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60_s)  # -60 dB at rt60
    rir[0] = 1.0 + abs(rir[0])  # a direct path that dominates the early part
    rir /= np.sqrt(np.sum(rir**2))
    wet = scipy.signal.fftconvolve(samples, rir)[: samples.size]
    return wet.astype(np.float32)


def _colored_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """White, pink or brown noise: spectrum slope 0, -3 or -6 dB per octave."""
    exponent = rng.choice([0.0, 0.5, 1.0])
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.maximum(np.fft.rfftfreq(n), 1.0 / n)
    noise = np.fft.irfft(spectrum / freqs**exponent, n)
    return (noise / (np.std(noise) + 1e-12)).astype(np.float32)


def _add_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    power = np.mean(samples**2) + 1e-12
    noise = _colored_noise(samples.size, rng) * np.float32(np.sqrt(power / 10 ** (snr_db / 10)))
    return samples + noise


def _peaking(samples: np.ndarray, sample_rate: int, freq_hz: float, gain_db: float, q: float):
    """One peaking equaliser band (the Audio EQ Cookbook biquad)."""
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * freq_hz / sample_rate
    alpha = np.sin(w0) / (2 * q)
    b = [1 + alpha * a, -2 * np.cos(w0), 1 - alpha * a]
    den = [1 + alpha / a, -2 * np.cos(w0), 1 - alpha / a]
    return scipy.signal.lfilter(b, den, samples).astype(np.float32)


def _microphone(samples: np.ndarray, sample_rate: int, rng: np.random.Generator, config: AugmentConfig):
    """Band limit, random EQ and optional clipping: what a cheap headset or phone does to a voice."""
    nyquist = sample_rate / 2
    if rng.random() < config.telephone_probability:
        low, high = 300.0, 3400.0
    else:
        low, high = rng.uniform(*config.highpass_hz), min(rng.uniform(*config.lowpass_hz), 0.95 * nyquist)
    sos = scipy.signal.butter(4, [low, high], btype="bandpass", fs=sample_rate, output="sos")
    out = scipy.signal.sosfilt(sos, samples).astype(np.float32)
    for _ in range(3):
        freq = float(np.exp(rng.uniform(np.log(150.0), np.log(min(6000.0, 0.8 * nyquist)))))
        out = _peaking(out, sample_rate, freq, rng.uniform(*config.eq_gain_db), rng.uniform(0.7, 2.0))
    if rng.random() < config.clip_probability:
        peak = float(np.max(np.abs(out))) or 1.0
        out = np.clip(out / peak * np.float32(10 ** (rng.uniform(*config.clip_drive_db) / 20)), -1.0, 1.0)
    return out.astype(np.float32)


def _normalize_peak(samples: np.ndarray) -> np.ndarray:
    peak = np.max(np.abs(samples)) if samples.size else 0.0
    return (samples / peak * 0.9).astype(np.float32) if peak > 0.9 else samples


def degrade(
    samples: np.ndarray,
    sample_rate: int,
    variant: str,
    *,
    rng: np.random.Generator,
    config: AugmentConfig = AugmentConfig(),
) -> np.ndarray:
    """The part of a variant before the codec: gain for ``discord``; speed, reverb, noise for ``room``;
    band limit, EQ and clipping for ``phone``; a speed perturbation for ``speed``.

    The Opus encode that follows is done by :func:`opus_roundtrip_many`, many clips per encoder run.
    """
    if variant == "clean":
        return samples
    if variant == "room":
        samples = _speed(samples, sample_rate, rng.uniform(*config.speed))
        if rng.random() < config.reverb_probability:
            samples = _reverb(samples, sample_rate, rng.uniform(*config.rt60_s), rng)
        samples = _normalize_peak(_add_noise(samples, rng.uniform(*config.snr_db), rng))
    elif variant == "phone":
        samples = _normalize_peak(_microphone(samples, sample_rate, rng, config))
    elif variant == "speed":
        samples = _normalize_peak(_speed(samples, sample_rate, float(rng.choice(config.speed_perturbation))))
    elif variant != "discord":
        raise ValueError(f"unknown variant {variant!r}; expected one of {AUGMENT_VARIANTS}")
    return _gain(samples, rng, config)


#: Silence between clips that share one encoder run, longer than Opus's look-ahead and pre-skip.
_GAP_S = 0.25


def opus_roundtrip_many(clips: list[np.ndarray], sample_rate: int, *, bitrate_kbps: int) -> list[np.ndarray]:
    """:func:`~emotion_core.audio.opus_roundtrip` of several clips in one encoder run.

    Starting the encoder costs more than coding a short clip, so clips are joined with gaps of
    silence, coded once and cut apart again; each comes back with its own length.
    """
    gap = np.zeros(int(_GAP_S * sample_rate), dtype=np.float32)
    pieces, offsets, position = [], [], 0
    for clip in clips:
        pieces += [clip.astype(np.float32), gap]
        offsets.append(position)
        position += clip.size + gap.size
    coded = opus_roundtrip(np.concatenate(pieces), sample_rate, bitrate_kbps=bitrate_kbps)
    return [coded[o : o + c.size] for o, c in zip(offsets, clips, strict=True)]
