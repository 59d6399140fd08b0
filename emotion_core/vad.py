"""Is anyone speaking? A cheap voice-activity check run before the recogniser.

Silence, hiss, hum or a test tone must be answered "I hear no speech", not given a random emotion.
The check uses four well-understood features on 25 ms frames, all relative to the clip itself, so it
does not depend on the recording level:

1. **Energy above the clip's noise floor** (80 Hz--4 kHz, smoothed over 50 ms). The floor is a low
   percentile of the frame energies; a speech frame is well above it, and above an absolute silence
   level. Stationary sounds (white or pink noise, mains hum, a steady tone) at any level never rise
   above their own floor.
2. **Spectral flatness** (geometric over arithmetic mean of the power spectrum). Noise is flat;
   voiced speech has harmonics and formants, so noise bursts are not speech.
3. **Peak concentration**: the share of a frame's power within two bins of its strongest bin. A pure
   tone puts nearly all its power there; a voice spreads it over many harmonics.
4. **Syllabic modulation.** Speech switches on and off at the syllable rate: its energy envelope
   swings by several dB at 2--8 Hz, while a steady sound that merely starts and stops does not.

Limits: the check is relative, so in a clip that is otherwise silence a breath or a rustle can count
as speech (19 of the 1440 RAVDESS lead-ins, the 0.5 s before the actor speaks, did); a beeping tone
pattern can pass the modulation test, though its frames are not counted as speech.

About 3 ms for 10 s of 16 kHz audio on one core (see ``benchmarks/bench_audio.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

log = logging.getLogger(__name__)

FRAME_S = 0.025  # analysis frame length (s)
HOP_S = 0.010  # frame step (s); the energy envelope is sampled at 1 / HOP_S = 100 Hz
SILENCE_DBFS = -70.0  # frames quieter than this (RMS, dB re full scale) are silence in any clip
SMOOTH_FRAMES = 5  # frames the band energy is averaged over (50 ms, shorter than a syllable)
NOISE_FLOOR_PERCENTILE = 10.0  # percentile of frame energies taken as the clip's noise floor
SPEECH_MARGIN_DB = 6.0  # a speech frame is at least this far above the noise floor (dB)
SPECTRUM_BAND_HZ = (80.0, 4000.0)  # band of the spectral features (Hz), where speech has its power
MAX_FLATNESS = 0.35  # flatter frames are noise-like (white noise is about 0.56)
MAX_PEAK_CONCENTRATION = 0.99  # frames with more of their power at one peak are tonal
PEAK_HALF_WIDTH_BINS = 2  # bins either side of the peak counted as the peak (Hann main lobe)
MODULATION_BAND_HZ = (2.0, 8.0)  # syllable rate (Hz)
MIN_SYLLABIC_DEPTH_DB = 1.0  # speech's envelope swings at least this much at 2-8 Hz (RMS, dB)
MIN_SPEECH_S = 0.2  # less speech than this (s) is not enough to call a clip speech


@dataclass(frozen=True)
class _Frames:
    """The frame-level analysis of a whole clip, kept so that any stretch of it can be judged
    against the clip's own noise floor without analysing the audio again."""

    envelope_db: np.ndarray  # band energy per frame (dB), clipped from below at the noise floor
    loud: np.ndarray  # frames well above the noise floor
    speech: np.ndarray  # loud frames that are neither noise-like nor tonal
    hop: int  # frame step (samples)
    frame: int  # frame length (samples)
    sample_rate: int


@dataclass(frozen=True)
class SpeechActivity:
    """How much of a clip is speech.

    Attributes
    ----------
    speech_ratio : float
        Fraction of frames judged speech, in [0, 1].
    speech_duration_s : float
        Time judged speech (s): speech frames times the frame step.
    has_speech : bool
        The clip has at least ``MIN_SPEECH_S`` of speech frames and speech's syllabic modulation.
    """

    speech_ratio: float
    speech_duration_s: float
    has_speech: bool
    _frames: _Frames | None = field(default=None, repr=False, compare=False)

    def within(self, start: int, end: int) -> SpeechActivity:
        """The same judgement for samples ``start:end`` of the clip, from the frames already analysed.

        A stretch is judged against the whole clip's noise floor, not its own, so a window that is
        speech from end to end is not taken for its own background, and the audio is analysed once
        however many windows a long clip has.
        """
        frames = self._frames
        if frames is None:
            return self
        first = -(-start // frames.hop)  # frames lying wholly inside the stretch
        last = (end - frames.frame) // frames.hop + 1
        if last <= first:
            return SpeechActivity(speech_ratio=0.0, speech_duration_s=0.0, has_speech=False)
        return _judge(replace(frames, **{
            name: getattr(frames, name)[first:last] for name in ("envelope_db", "loud", "speech")
        }))  # fmt: skip


def detect_speech(samples: np.ndarray, sample_rate: int) -> SpeechActivity:
    """Decide whether a clip contains speech.

    Parameters
    ----------
    samples : np.ndarray
        Mono audio, shape ``(n,)``, finite, nominally in [-1, 1] (levels are dB re full scale).
    sample_rate : int
        Sample rate in Hz; at least 8 kHz so that the 80 Hz--4 kHz band exists.

    Returns
    -------
    SpeechActivity
        No speech for clips shorter than one frame. :meth:`SpeechActivity.within` judges any stretch
        of the clip (a window of a long one) from the same analysis.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"samples must be mono, shape (n,); got shape {samples.shape}")
    if sample_rate < 2 * SPECTRUM_BAND_HZ[1]:
        raise ValueError(f"sample_rate must be at least {2 * SPECTRUM_BAND_HZ[1]:.0f} Hz")
    frame = round(FRAME_S * sample_rate)
    hop = round(HOP_S * sample_rate)
    if samples.size < frame:
        return SpeechActivity(speech_ratio=0.0, speech_duration_s=0.0, has_speech=False)

    frames = sliding_window_view(samples, frame)[::hop]  # (n_frames, frame), a view
    window = np.hanning(frame).astype(np.float32)
    lo, hi = (round(f * frame / sample_rate) for f in SPECTRUM_BAND_HZ)
    # scipy keeps float32 (numpy would compute in float64 at twice the cost).
    power = np.abs(scipy.fft.rfft(frames * window, axis=1)[:, lo:hi]).astype(np.float64) ** 2
    # Mean square of the band-passed frame (Parseval, one-sided, corrected for the window): DC
    # offset, rumble and hiss above the band do not count as loudness.
    band_energy = 2 * power.sum(axis=1) / (frame * np.sum(window**2))
    # Smoothing over a few frames evens out the beat of periodic sounds (mains hum against the frame
    # step) and the jitter of noise, and keeps syllables.
    band_energy = np.convolve(band_energy, np.full(SMOOTH_FRAMES, 1 / SMOOTH_FRAMES), mode="same")
    energy_db = 10 * np.log10(band_energy + 1e-12)
    floor_db = np.percentile(energy_db, NOISE_FLOOR_PERCENTILE)
    loud = (energy_db > floor_db + SPEECH_MARGIN_DB) & (energy_db > SILENCE_DBFS)

    power = power[loud] + 1e-12 * power.max(initial=0.0)  # floor the log for exact digital zeros
    total = power.sum(axis=1)
    flatness = np.exp(np.log(power).mean(axis=1)) / (total / power.shape[1])
    cumulative = np.concatenate([np.zeros((len(power), 1)), np.cumsum(power, axis=1)], axis=1)
    peak = np.argmax(power, axis=1)
    upper = np.minimum(peak + PEAK_HALF_WIDTH_BINS + 1, power.shape[1])
    lower = np.maximum(peak - PEAK_HALF_WIDTH_BINS, 0)
    rows = np.arange(len(power))
    concentration = (cumulative[rows, upper] - cumulative[rows, lower]) / total
    speech = loud.copy()
    speech[loud] = (flatness < MAX_FLATNESS) & (concentration < MAX_PEAK_CONCENTRATION)
    envelope_db = np.maximum(energy_db, max(floor_db, SILENCE_DBFS))
    log.debug("%d of %d frames speech; floor %.0f dBFS", speech.sum(), speech.size, floor_db)
    return _judge(_Frames(envelope_db, loud, speech, hop, frame, sample_rate))


def _judge(frames: _Frames) -> SpeechActivity:
    """Speech or not, from a run of analysed frames: enough speech frames, and syllabic modulation."""
    speech_duration_s = float(frames.speech.sum()) * frames.hop / frames.sample_rate
    depth_db = _syllabic_depth_db(frames.envelope_db, frames.loud)
    return SpeechActivity(
        speech_ratio=float(frames.speech.mean()),
        speech_duration_s=speech_duration_s,
        has_speech=bool(speech_duration_s >= MIN_SPEECH_S and depth_db >= MIN_SYLLABIC_DEPTH_DB),
        _frames=frames,
    )


def _syllabic_depth_db(envelope_db: np.ndarray, loud: np.ndarray) -> float:
    """RMS (dB) of the energy envelope's ``MODULATION_BAND_HZ`` part, first to last loud frame.

    ``envelope_db`` has shape ``(n_frames,)`` at ``1 / HOP_S`` Hz, clipped from below at the noise
    floor; ``loud`` is the boolean mask of frames well above it. Silence around the sound is left
    out, so that a sound starting and stopping once does not count as modulation.
    """
    where = np.flatnonzero(loud)
    if where.size == 0:
        return 0.0
    span = envelope_db[where[0] : where[-1] + 1]
    spectrum = np.fft.rfft(span - span.mean())
    freqs = np.fft.rfftfreq(span.size, d=HOP_S)
    in_band = (freqs >= MODULATION_BAND_HZ[0]) & (freqs <= MODULATION_BAND_HZ[1])
    # Parseval: one-sided bins count twice.
    return float(np.sqrt(2 * np.sum(np.abs(spectrum[in_band]) ** 2)) / span.size)
