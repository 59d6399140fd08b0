"""Hibari as a :class:`~emotion_core.synth.pipeline.Voice`: an offline neural voice, nothing downloaded.

``hibari-tts`` (Apache-2.0) ships one English voice ("heart", distilled from Kokoro, 7.9 MB of int8
ONNX) inside its wheel, with its own text-to-phoneme rules, and runs on ONNX Runtime, which serving
already has. Measured on these machines (MACHINE-NOTES, issue 12): a real-time factor of about 0.005,
and with it as the base voice the round trip through the recogniser rose from 0.14 (eSpeak NG, whose
neutral already sounds tense) to 0.32. Its other voices download on first use, so only "heart" is used:
the voice must work with nothing downloaded.

Hibari's network predicts, per 12.5 ms frame, an F0 and the log-amplitude envelopes of a harmonic and
a noise branch, and takes a speaking rate; its own signal processing (``hibari.dsp``) turns those into
a waveform. :meth:`HibariVoice.synthesize_with` renders an emotion there, natively: the rate goes
into the network as the speed that gives it (durations come from its own duration model), the F0
track is shifted and stretched before the pulses are made (the harmonics following the envelope the
network predicted), the learned spectral change is added to the envelopes, and breathiness moves
harmonic power into the noise branch. No analysis and resynthesis, so none of WORLD's artefacts and
a fraction of its time (issue 12).
"""

from __future__ import annotations

import threading

import numpy as np

from emotion_core.errors import SynthesisError
from emotion_core.synth.prosody import (
    ProsodyRule,
    breathiness_weight,
    envelope_change_db,
    render_f0,
)

VOICE = "heart"  # the one voice inside the wheel
SEED = 0  # the model adds noise; a fixed seed makes the same text sound the same every time
#: ``hibari.dsp.pulses`` treats frames with a lower F0 (Hz) as unvoiced.
VOICED_FROM_HZ = 40.0
#: Hibari's ``speed`` inputs and the speaking-rate ratio each gives (neutral frames / frames), median
#: over the 23 sentences of the round-trip and actors benchmarks. Its durations are whole frames and the
#: ratio moves in steps (0.8 gives 0.82, 0.825 already 0.89); a rule's rate is turned into the speed
#: that gives it, and rates past 1.16 (the most below a jump to 1.44 at speed 1.35) get 1.16.
SPEEDS = tuple(round(0.6 + 0.025 * i, 3) for i in range(29))  # 0.6 to 1.3
RATES_AT_SPEEDS = (
    0.607, 0.618, 0.629, 0.688, 0.715, 0.729, 0.743, 0.756, 0.817, 0.888,
    0.904, 0.939, 0.956, 0.969, 0.980, 0.990, 1.000, 1.011, 1.019, 1.032,
    1.043, 1.054, 1.067, 1.081, 1.104, 1.130, 1.138, 1.149, 1.161,
)  # fmt: skip
#: A Hann-windowed harmonic of magnitude 1 leaves this much power summed over its STFT bins, and
#: unit complex noise 2 per bin: the factors that put the two branches' powers on one scale.
HARMONIC_LOBE_POWER, NOISE_BIN_POWER = 1.5, 2.0


class HibariVoice:
    """Hibari's bundled voice: text in, float32 mono at 24 kHz out (neutral; emotion comes later)."""

    def __init__(self) -> None:
        import onnxruntime
        from hibari import SAMPLE_RATE, Hibari

        self._tts = Hibari(voice=VOICE, threads=1)
        # Hibari's own session keeps ONNX Runtime's memory arena, about 40 MB held for good after the
        # first sentence; without it synthesis is as fast here and the bot idles 40 MB lighter.
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_cpu_mem_arena = False
        self._tts.sess = onnxruntime.InferenceSession(
            self._tts.model_path, options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()  # one ONNX Runtime session, called from worker threads
        self.sample_rate: int = SAMPLE_RATE
        self.name = "Hibari heart (offline voice, neural)"

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """Speak ``text``; return ``(samples, sample_rate)``, float32 mono in [-1, 1] at 24 kHz."""
        return self.synthesize_with(text, None)

    def synthesize_with(
        self, text: str, rule: ProsodyRule | None, *, seed: int = SEED
    ) -> tuple[np.ndarray, int]:
        """Speak ``text`` with ``rule`` rendered inside the voice.

        ``None`` gives the voice's own prosody, exactly what ``Hibari(text)`` says, clipped to
        [-1, 1]; a rule's output may exceed full scale (the caller normalises it). ``seed`` seeds
        the rule's jitter; the voice's noise keeps its fixed seed, so emotions differ only in the rule.
        """
        from hibari import dsp

        rng = np.random.default_rng(SEED)
        speed = 1.0 if rule is None else float(np.interp(rule.rate, RATES_AT_SPEEDS, SPEEDS))
        parts: list[np.ndarray] = []
        try:
            with self._lock:
                for phonemes in self._tts.phonemize(text):
                    ids = self._tts.ids(phonemes)
                    if len(ids) < 3:  # the two pads and nothing to say
                        continue
                    inputs = {"ids": np.asarray([ids], np.int64), "speed": np.asarray([speed], np.float32)}
                    frames = [out[0] for out in self._tts.sess.run(None, inputs)]
                    if rule is not None:
                        frames = _render(*frames, rule=rule, seed=seed + len(parts))
                    parts.append(dsp.synth(*frames, rng))
        except (KeyError, ValueError, RuntimeError) as error:
            raise SynthesisError(f"The Hibari voice could not say this ({error}).") from error
        samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        if rule is None:
            return np.clip(samples, -1.0, 1.0), self.sample_rate
        # Like WORLD's rendering, a rule's output is left unclipped: louder emotions may pass full
        # scale until the synthesiser's gain and limiter (emotion_core.synth.output) bring them back.
        return samples * np.float32(10.0 ** (rule.energy_db / 20.0)), self.sample_rate


def _render(lh, th, ln, lr, phi, f0, *, rule: ProsodyRule, seed: int):
    """One sentence's network outputs (log-amplitude envelopes ``[601, frames]``, F0 ``[frames]``)
    with ``rule`` applied; the rate was already given to the network."""
    from hibari import dsp

    freqs_hz = np.fft.rfftfreq(dsp.N_FFT, 1.0 / dsp.SR)[:, None]
    change = (envelope_change_db(rule, freqs_hz) * (np.log(10.0) / 20.0)).astype(np.float32)
    voiced = f0 > VOICED_FROM_HZ
    rendered_f0 = render_f0(f0.astype(np.float64), rule, seed=seed, voiced_from_hz=VOICED_FROM_HZ)
    # Keep the power per hertz as the harmonics spread or crowd: unit-amplitude harmonics would
    # otherwise make every semitone up about 0.25 dB quieter, which WORLD's rendering does not do.
    density = np.zeros(f0.shape)
    density[voiced] = 0.5 * np.log(rendered_f0[voiced] / f0[voiced])
    lh = _harmonic_envelope(lh, f0) + density
    f0 = rendered_f0.astype(np.float32)
    lh, ln, lr = lh + change, ln + change, lr + change
    if rule.breathiness:
        weight = breathiness_weight(rule, freqs_hz)
        spacing_bins = np.maximum(f0, VOICED_FROM_HZ) * (dsp.N_FFT / dsp.SR)  # harmonics per bin, inverted
        harmonic = np.where(f0 > VOICED_FROM_HZ, HARMONIC_LOBE_POWER * np.exp(2.0 * lh) / spacing_bins, 0.0)
        noise = NOISE_BIN_POWER * np.exp(2.0 * ln)
        lh = lh + 0.5 * np.log(1.0 - weight)
        ln = 0.5 * np.log((noise + weight * harmonic) / NOISE_BIN_POWER)
    return lh.astype(np.float32), th, ln.astype(np.float32), lr, phi, f0


def _harmonic_envelope(lh: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """The harmonic branch's log-amplitudes read at each voiced frame's own harmonics and joined
    linearly between them.

    The network shapes ``lh`` for the F0 it predicted, with dips of up to 9 dB where its harmonics
    fall; a harmonic moved off those dips would be up to 5 dB too loud (measured: F0 × 1.2 made the
    branch 4.9 dB louder). Read only at the harmonics, ``lh`` is the envelope a moved harmonic should
    follow. Unvoiced frames, which the pulses leave silent, are kept as they are.
    """
    from hibari import dsp

    bins = np.arange(lh.shape[0], dtype=np.float64)
    out = lh.astype(np.float64)
    for frame in np.flatnonzero(f0 > VOICED_FROM_HZ):
        step = f0[frame] * dsp.N_FFT / dsp.SR  # harmonic spacing in bins
        harmonics = np.arange(step, bins[-1], step)
        out[:, frame] = np.interp(bins, harmonics, np.interp(harmonics, bins, lh[:, frame]))
    return out
