"""Emotion as prosody: rules learned from actors (the literature's where actors cannot teach them),
applied with WORLD or by the voice itself.

Every voice gets the same :class:`ProsodyRule` for an emotion and intensity. Hibari renders it
inside the voice (:mod:`emotion_core.synth.hibari_voice`, with :func:`render_f0`,
:func:`envelope_change_db` and :func:`breathiness_weight` from here); eSpeak NG and Tacotron 2 + a
vocoder produce neutral speech and :meth:`ProsodyRenderer.apply` renders the emotion onto it
(neutral too, through the same resynthesis). There the speech is analysed with the WORLD vocoder
(``pyworld``: DIO + StoneMask for F0, CheapTrick for the spectral envelope, D4C for aperiodicity),
the parameters are changed, and it is resynthesised:

- **F0 level**: voiced F0 shifted by ``f0_shift_st`` semitones (the median moves by exactly that).
- **F0 range**: log-F0 excursions around the utterance median scaled by ``f0_range_scale``.
- **Speaking rate**: the frame sequence resynthesised at a shorter or longer frame period
  (``rate`` > 1 is faster), which changes duration without changing pitch.
- **Energy**: a gain of ``energy_db``. The pipeline normalises loudness from the *neutral* voice's
  level, so this difference survives into the output file.
- **Voice quality**: ``spectrum_db`` changes the spectral envelope band by band (the actors' median
  change of their long-term spectrum's shape: where vocal effort moves energy); ``tilt_db_per_octave``
  tilts it above 1 kHz (positive: more high-frequency energy, the "tense"/"blaring" effortful voice;
  negative: lax, dull);
  ``breathiness`` mixes aperiodicity into the bands above 500 Hz; ``jitter`` perturbs F0 frame to
  frame (irregular voicing).

Rules are written for a full-blown emotion (intensity 1). ``intensity`` interpolates from neutral:
additive quantities (semitones, dB, breathiness, jitter) scale linearly, multiplicative ones (range
scale, rate) geometrically, so intensity 0 is exactly neutral and 0.5 is "half as far" on a log
scale.

Directions follow the literature cited on each rule (which gives directions and rough degrees such
as "much higher", not numbers that transfer between voices); the magnitudes are ours, chosen to be
clearly measurable yet moderate, because WORLD resynthesis degrades beyond about ±7 semitones and
±30 % rate.

References
----------
- Murray, I. R. & Arnott, J. L. (1993). Toward the simulation of emotion in synthetic speech: a
  review of the literature on human vocal emotion. JASA 93(2), 1097-1108 (Table I: rate, pitch
  average, pitch range, intensity, voice quality, pitch changes and articulation for anger,
  happiness, sadness, fear and disgust).
- Banse, R. & Scherer, K. R. (1996). Acoustic profiles in vocal emotion expression. JPSP 70(3),
  614-636.
- Scherer, K. R. (2003). Vocal communication of emotion: a review of research paradigms. Speech
  Communication 40, 227-256 (its summary of intensity, F0 mean, F0 variability/range,
  high-frequency energy and speech rate for stress, anger, fear, sadness, joy and boredom).
- Cahn, J. E. (1990). The generation of affect in synthesized speech. Journal of the American Voice
  I/O Society 8, 1-19 (the only classic source with parameter settings for "surprised").
- Schröder, M. (2001). Emotional speech synthesis: a review. Proc. Eurospeech 2001, 561-564 (reviews
  the rule sets above, including Cahn's).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

import numpy as np

from emotion_core.errors import SynthesisError
from emotion_core.labels import Emotion
from emotion_core.synth.actor_prosody import ActorProsody, Spread
from emotion_core.synth.prosody_measures import SHAPE_BANDS_HZ
from emotion_core.synth.request import check_intensity

log = logging.getLogger(__name__)

#: Frequency (Hz) above which spectral tilt applies: the region where vocal effort changes the
#: spectrum most (Scherer 2003's "high-frequency energy" is energy above 0.5-1 kHz).
TILT_PIVOT_HZ = 1000.0
#: Breathiness ramps in from this frequency (Hz) to full weight at ``BREATHINESS_FULL_HZ``.
BREATHINESS_START_HZ = 500.0
BREATHINESS_FULL_HZ = 3000.0
#: Hard limits (Hz) on rendered F0, so extreme combinations stay within what WORLD resynthesises
#: well.
F0_MIN_HZ = 40.0
F0_MAX_HZ = 1000.0


@dataclass(frozen=True)
class ProsodyRule:
    """How one emotion changes prosody at full intensity. The defaults are neutral (no change).

    Attributes
    ----------
    f0_shift_st : float
        Shift of voiced F0 in semitones (12 per octave); the median F0 moves by exactly this.
    f0_range_scale : float
        Factor on log-F0 deviations from the median: > 1 widens the pitch range, < 1 flattens it.
    rate : float
        Speaking-rate factor: 1.25 is 25 % faster (duration / 1.25), 0.8 slower.
    energy_db : float
        Level change in dB relative to the neutral rendering.
    tilt_db_per_octave : float
        Spectral tilt added above ``TILT_PIVOT_HZ``, dB per octave: > 0 brighter (more effort).
    spectrum_db : tuple of float
        Change of the spectral envelope (dB) at each of
        :data:`~emotion_core.synth.prosody_measures.SHAPE_BANDS_HZ`, held at its
        ``SPECTRUM_FLOOR_HZ`` value below that; empty for none.
    breathiness : float
        0-1, how far aperiodicity above ``BREATHINESS_START_HZ`` is pushed towards pure noise.
    jitter : float
        Standard deviation of the relative frame-to-frame F0 perturbation (0.02 = 2 %).
    source : str
        The literature the directions come from.
    """

    f0_shift_st: float = 0.0
    f0_range_scale: float = 1.0
    rate: float = 1.0
    energy_db: float = 0.0
    tilt_db_per_octave: float = 0.0
    breathiness: float = 0.0
    jitter: float = 0.0
    spectrum_db: tuple[float, ...] = ()
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.spectrum_db and len(self.spectrum_db) != len(SHAPE_BANDS_HZ):
            raise ValueError(f"spectrum_db needs {len(SHAPE_BANDS_HZ)} bands, not {len(self.spectrum_db)}")
        if self.f0_range_scale <= 0 or self.rate <= 0:
            raise ValueError("f0_range_scale and rate must be positive")
        if not 0.0 <= self.breathiness <= 1.0:
            raise ValueError(f"breathiness must be within [0, 1], not {self.breathiness}")
        if self.jitter < 0:
            raise ValueError(f"jitter must be non-negative, not {self.jitter}")

    def at_intensity(self, intensity: float) -> ProsodyRule:
        """This rule interpolated from neutral: ``intensity`` 0 is neutral, 1 is the rule itself."""
        check_intensity(intensity)
        return blend(ProsodyRule(source=self.source), self, intensity)


NEUTRAL_RULE = ProsodyRule(source="Reference: the voice's own prosody, resynthesised with nothing changed.")

#: The rules from the literature (full intensity). Each rule's ``source`` names where its directions
#: come from. The renderer takes energy, breathiness and jitter from here; F0 level, range, rate and
#: spectral shape (or, without one, tilt) come from the actors (:data:`EMOTION_RULES`).
LITERATURE_RULES: Mapping[Emotion, ProsodyRule] = MappingProxyType(
    {
        Emotion.NEUTRAL: NEUTRAL_RULE,
        Emotion.HAPPY: ProsodyRule(
            f0_shift_st=3.5,
            f0_range_scale=1.5,
            rate=1.1,
            energy_db=2.0,
            tilt_db_per_octave=1.5,
            breathiness=0.15,
            source=(
                "Murray & Arnott 1993 (happiness: pitch average much higher, range much wider, "
                "intensity higher, breathy 'blaring' quality, smooth upward inflections; rate "
                "'faster or slower'); Scherer 2003 and Banse & Scherer 1996 (joy/elation: F0 mean,"
                " F0 variability, intensity, high-frequency energy and speech rate all up)."
            ),
        ),
        Emotion.SAD: ProsodyRule(
            f0_shift_st=-2.0,
            f0_range_scale=0.6,
            rate=0.82,
            energy_db=-4.0,
            tilt_db_per_octave=-3.0,
            breathiness=0.1,
            source=(
                "Murray & Arnott 1993 (sorrow: rate slightly slower, pitch average slightly lower,"
                " range slightly narrower, intensity lower, downward inflections, slurred); "
                "Scherer 2003 and Banse & Scherer 1996 (sadness: F0 mean, F0 variability, "
                "intensity, high-frequency energy and rate all down)."
            ),
        ),
        Emotion.ANGRY: ProsodyRule(
            f0_shift_st=4.0,
            f0_range_scale=1.6,
            rate=1.08,
            energy_db=5.0,
            tilt_db_per_octave=4.0,
            breathiness=0.1,
            source=(
                "Murray & Arnott 1993 (anger: rate slightly faster, pitch average very much "
                "higher, range much wider, intensity higher, breathy chest tone, abrupt changes, "
                "tense); Scherer 2003 and Banse & Scherer 1996 (hot anger: intensity, F0 mean, F0 "
                "range and high-frequency energy up, rate up)."
            ),
        ),
        Emotion.FEARFUL: ProsodyRule(
            f0_shift_st=5.0,
            f0_range_scale=1.3,
            rate=1.25,
            energy_db=0.0,
            tilt_db_per_octave=1.0,
            breathiness=0.2,
            jitter=0.03,
            source=(
                "Murray & Arnott 1993 (fear: rate much faster, pitch average very much higher, "
                "range much wider, intensity normal, irregular voicing); Scherer 2003 and Banse & "
                "Scherer 1996 (fear/panic: F0 mean and range up, high-frequency energy up, rate "
                "up)."
            ),
        ),
        Emotion.DISGUSTED: ProsodyRule(
            f0_shift_st=-3.0,
            f0_range_scale=1.15,
            rate=0.78,
            energy_db=-2.0,
            tilt_db_per_octave=-1.5,
            source=(
                "Murray & Arnott 1993 (disgust: rate very much slower, pitch average very much "
                "lower, range slightly wider, intensity lower, grumbled chest tone, wide downward "
                "terminal inflections); Banse & Scherer 1996 (disgust: low F0 mean, slow)."
            ),
        ),
        Emotion.SURPRISED: ProsodyRule(
            f0_shift_st=4.5,
            f0_range_scale=1.7,
            rate=1.05,
            energy_db=2.0,
            tilt_db_per_octave=1.0,
            source=(
                "Cahn 1990, as reviewed by Schröder 2001 (surprised: pitch average high, range "
                "wide, slightly fast, loud). Absent from Murray & Arnott 1993 and Scherer 2003's "
                "tables."
            ),
        ),
    }
)


#: Below this frequency (Hz) a learned spectral change is held at its value here: the actors'
#: long-term spectrum changes most below it because their F0 moved (the fundamental enters or leaves
#: the lowest bands), which the F0 rule already renders.
SPECTRUM_FLOOR_HZ = 250.0
#: Limits on learned changes: WORLD resynthesis degrades beyond about 7 semitones and 30 % rate.
#: Hibari's native rendering does not, but with the actors' medians uncapped (strong fear +12.9,
#: anger +10.2, happiness +8.9 semitones) the round trip at intensity 1.0 heard strong happiness as
#: angry 4 times in 8 (2 with the limit), so one limit serves both paths. It never holds a change
#: below the actors' interquartile range (see :func:`_limited_shift`).
MAX_SHIFT_ST = 7.0
RATE_LIMITS = (0.7, 1.3)
RANGE_LIMITS = (0.5, 2.0)
MAX_TILT_DB_PER_OCTAVE = 6.0


def blend(a: ProsodyRule, b: ProsodyRule, t: float) -> ProsodyRule:
    """The rule ``t`` of the way from ``a`` to ``b``: additive quantities (semitones, dB,
    breathiness, jitter) linearly, factors (range, rate) geometrically. Keeps ``b``'s source."""
    return replace(
        b,
        f0_shift_st=a.f0_shift_st + (b.f0_shift_st - a.f0_shift_st) * t,
        f0_range_scale=a.f0_range_scale ** (1 - t) * b.f0_range_scale**t,
        rate=a.rate ** (1 - t) * b.rate**t,
        energy_db=a.energy_db + (b.energy_db - a.energy_db) * t,
        tilt_db_per_octave=a.tilt_db_per_octave + (b.tilt_db_per_octave - a.tilt_db_per_octave) * t,
        breathiness=a.breathiness + (b.breathiness - a.breathiness) * t,
        jitter=a.jitter + (b.jitter - a.jitter) * t,
        spectrum_db=_blend_spectra(a.spectrum_db, b.spectrum_db, t),
    )


def _blend_spectra(a: tuple[float, ...], b: tuple[float, ...], t: float) -> tuple[float, ...]:
    """``t`` of the way from envelope change ``a`` to ``b`` (an empty one is no change)."""
    if t == 0.0 or t == 1.0:  # exactly one of the two rules, empty where that one is
        return a if t == 0.0 else b
    if not a and not b:
        return ()
    start = np.asarray(a or np.zeros(len(b)))
    end = np.asarray(b or np.zeros(len(a)))
    return tuple(float(v) for v in start + (end - start) * t)


def _limited_shift(spread: Spread) -> float:
    """The actors' median F0 change held to :data:`MAX_SHIFT_ST`, but never beyond their own
    interquartile range: where even the quartile nearest neutral lies past the limit (strong fear,
    +9.6 to +14.6 semitones), that quartile, the mildest change the actors agree on."""
    limit = max(MAX_SHIFT_ST, spread.q25, -spread.q75)
    return float(np.clip(spread.median, -limit, limit))


#: Cells rendered at one of the actors' quartiles instead of their median, to keep apart two emotions
#: whose medians the actors share. Strong fear and strong anger differ little in the actors' median
#: F0 level (+12.9 and +10.2 semitones), tilt and spectral shape; they differ in F0 range (0.78
#: against 1.23) and rate (0.93 against 0.85). At the medians the recogniser heard strong fear as
#: angry in 4 of the round trip's 8 sentences; the quartiles away from anger (range 0.60, rate
#: 1.08), still what a quarter of the actors do, were chosen on 12 other sentences (fear heard as
#: such 12 times against 7 at the medians), never the benchmark's.
CONTRAST_QUARTILES: Mapping[tuple[Emotion, str], Mapping[str, str]] = MappingProxyType(
    {(Emotion.FEARFUL, "strong"): MappingProxyType({"f0_range_scale": "q25", "rate": "q75"})}
)


def _learned(table: ActorProsody, intensity: str) -> Mapping[Emotion, ProsodyRule]:
    """Rules at one actor intensity: the actors' median F0 level, range and rate changes (within
    WORLD's limits) and their median change of spectral shape where the table has one (else their
    median tilt: the shape carries the tilt, so the two are never applied together); energy,
    breathiness and jitter from the literature (full at "strong", half at "normal")."""
    rules = {Emotion.NEUTRAL: NEUTRAL_RULE}
    for emotion in Emotion:
        if emotion is Emotion.NEUTRAL:
            continue
        literature = LITERATURE_RULES[emotion].at_intensity(1.0 if intensity == "strong" else 0.5)

        spreads = table.changes[emotion.value][intensity]
        shape = table.spectrum(emotion, intensity)
        contrast = CONTRAST_QUARTILES.get((emotion, intensity), {})

        def actors(quantity: str, default: float, spreads: dict = spreads, contrast=contrast) -> float:
            """The actors' median, or the quartile :data:`CONTRAST_QUARTILES` names."""
            if quantity not in spreads:
                return default
            return getattr(spreads[quantity], contrast.get(quantity, "median"))

        rules[emotion] = replace(
            literature,
            f0_shift_st=_limited_shift(spreads["f0_shift_st"]) if "f0_shift_st" in spreads else 0.0,
            f0_range_scale=float(np.clip(actors("f0_range_scale", 1.0), *RANGE_LIMITS)),
            rate=float(np.clip(actors("rate", literature.rate), *RATE_LIMITS)),
            tilt_db_per_octave=0.0
            if shape
            else float(
                np.clip(actors("tilt_db_per_octave", 0.0), -MAX_TILT_DB_PER_OCTAVE, MAX_TILT_DB_PER_OCTAVE)
            ),
            spectrum_db=shape or (),
            source=(
                f"F0 level, range, rate and {'spectral shape' if shape else 'tilt'}: the median change "
                + ("(" + "; ".join(f"{q}: their {w}" for q, w in contrast.items()) + ") " if contrast else "")
                + "from their own neutral of "
                f"{max(s.speakers for s in spreads.values())} actors ({', '.join(table.corpora)}; "
                f"{intensity} portrayals); energy, breathiness, jitter: {LITERATURE_RULES[emotion].source}"
            ),
        )
    return MappingProxyType(rules)


_ACTORS = ActorProsody.load()
#: The renderer's rules at full intensity (1.0): the actors' strong portrayals.
EMOTION_RULES: Mapping[Emotion, ProsodyRule] = _learned(_ACTORS, "strong")
#: The renderer's rules at intensity 0.5: the actors' normal portrayals.
NORMAL_RULES: Mapping[Emotion, ProsodyRule] = _learned(_ACTORS, "normal")


@dataclass(frozen=True)
class RenderOptions:
    """Analysis settings for WORLD; runtime knobs, not part of any rule (a voice that renders rules
    itself, :class:`~emotion_core.synth.pipeline.NativeProsodyVoice`, does not use them).

    Attributes
    ----------
    frame_period_ms : float
        Analysis hop in milliseconds (WORLD's default is 5 ms).
    f0_floor_hz, f0_ceil_hz : float
        Search range of the F0 estimator, wide enough for male and female voices.
    f0_method : {"dio", "harvest"}
        DIO + StoneMask is about 10x faster; Harvest is more robust on noisy or creaky voices.
    seed : int
        Seed of the jitter noise, so a given text and emotion always render identically.
    """

    frame_period_ms: float = 5.0
    f0_floor_hz: float = 60.0
    f0_ceil_hz: float = 600.0
    f0_method: Literal["dio", "harvest"] = "dio"
    seed: int = 0


class ProsodyRenderer:
    """Renders an emotion onto speech with WORLD, from tables of :class:`ProsodyRule` s: the full
    rules (intensity 1) and, optionally, the normal ones (intensity 0.5); by default the actors'.

    Stateless apart from its table and options, so one renderer may be shared between threads.
    """

    def __init__(
        self,
        rules: Mapping[Emotion, ProsodyRule] = EMOTION_RULES,
        *,
        normal_rules: Mapping[Emotion, ProsodyRule] | None = NORMAL_RULES,
        options: RenderOptions = RenderOptions(),
    ) -> None:
        missing = [e.value for e in Emotion if e not in rules or (normal_rules and e not in normal_rules)]
        if missing:
            raise ValueError(f"No prosody rule for: {', '.join(missing)}")
        self.rules = rules
        self.normal_rules = normal_rules
        self.options = options

    def rule(self, emotion: Emotion, intensity: float) -> ProsodyRule:
        """The rule for ``emotion`` at ``intensity`` in [0, 1]: from neutral to the normal rule over
        [0, 0.5], then on to the full rule over [0.5, 1] (straight to the full rule without normal
        rules)."""
        check_intensity(intensity)
        emotion = Emotion(emotion)
        full = self.rules[emotion]
        if self.normal_rules is None:
            return full.at_intensity(intensity)
        normal = self.normal_rules[emotion]
        if intensity <= 0.5:
            return normal.at_intensity(intensity / 0.5)
        return blend(normal, full, (intensity - 0.5) / 0.5)

    def render(
        self, samples: np.ndarray, sample_rate: int, emotion: Emotion, *, intensity: float = 0.5
    ) -> np.ndarray:
        """Speak ``samples`` with ``emotion`` at ``intensity``; see :meth:`apply`."""
        return self.apply(samples, sample_rate, self.rule(emotion, intensity))

    def apply(self, samples: np.ndarray, sample_rate: int, rule: ProsodyRule) -> np.ndarray:
        """Apply ``rule`` to speech.

        Parameters
        ----------
        samples : np.ndarray, shape (n_samples,)
            Mono speech, float in [-1, 1].
        sample_rate : int
            Hz; WORLD works at any rate, 16-48 kHz in practice.
        rule : ProsodyRule
            Already interpolated to the wanted intensity.

        Returns
        -------
        np.ndarray, shape (about n_samples / rule.rate,), float32
            Resynthesised by WORLD even when the rule is neutral: resynthesis is not lossless, and
            if neutral skipped it, neutral alone would lack WORLD's colouring and every other
            emotion would differ from it in that as well as in the emotion (issue 12).
        """
        x = np.asarray(samples, dtype=np.float64)
        if x.ndim != 1 or x.size == 0:
            raise SynthesisError("Prosody rendering needs non-empty mono samples.")

        import pyworld

        opts = self.options
        x = np.ascontiguousarray(x)
        if opts.f0_method == "harvest":
            f0, times = pyworld.harvest(
                x, sample_rate, opts.f0_floor_hz, opts.f0_ceil_hz, opts.frame_period_ms
            )
        else:
            f0, times = pyworld.dio(x, sample_rate, opts.f0_floor_hz, opts.f0_ceil_hz, opts.frame_period_ms)
            f0 = pyworld.stonemask(x, f0, times, sample_rate)
        spectrum = pyworld.cheaptrick(x, f0, times, sample_rate)  # (n_frames, fft_size // 2 + 1)
        aperiodicity = pyworld.d4c(x, f0, times, sample_rate)

        f0 = render_f0(f0, rule, seed=opts.seed)
        freqs_hz = np.linspace(0.0, sample_rate / 2, spectrum.shape[1])
        spectrum = spectrum * 10.0 ** (envelope_change_db(rule, freqs_hz) / 10.0)  # power
        if rule.breathiness:
            aperiodicity = aperiodicity + (1.0 - aperiodicity) * breathiness_weight(rule, freqs_hz)

        # Resynthesising the same frames at a shorter period speeds speech up without changing F0.
        y = pyworld.synthesize(f0, spectrum, aperiodicity, sample_rate, opts.frame_period_ms / rule.rate)
        y *= 10.0 ** (rule.energy_db / 20.0)
        if not np.all(np.isfinite(y)):
            raise SynthesisError("Prosody rendering produced non-finite samples.")
        return y.astype(np.float32)


def envelope_change_db(rule: ProsodyRule, freqs_hz: np.ndarray) -> np.ndarray:
    """The change ``rule`` makes to the spectral envelope at ``freqs_hz``, in dB: its learned shape
    (held at its ``SPECTRUM_FLOOR_HZ`` value below that) plus its tilt above ``TILT_PIVOT_HZ``.
    Shared by WORLD's rendering and voices that render natively, so both apply the same rule."""
    change = np.zeros(freqs_hz.shape)
    if rule.spectrum_db:
        change += np.interp(np.maximum(freqs_hz, SPECTRUM_FLOOR_HZ), SHAPE_BANDS_HZ, rule.spectrum_db)
    if rule.tilt_db_per_octave:
        change += rule.tilt_db_per_octave * np.log2(np.maximum(freqs_hz, TILT_PIVOT_HZ) / TILT_PIVOT_HZ)
    return change


def breathiness_weight(rule: ProsodyRule, freqs_hz: np.ndarray) -> np.ndarray:
    """How far (0-1) each frequency's periodic power is moved to noise: ``rule.breathiness`` ramped
    in from ``BREATHINESS_START_HZ`` to ``BREATHINESS_FULL_HZ``, as breath noise fills the upper
    harmonics first."""
    ramp = (freqs_hz - BREATHINESS_START_HZ) / (BREATHINESS_FULL_HZ - BREATHINESS_START_HZ)
    return rule.breathiness * np.clip(ramp, 0.0, 1.0)


def render_f0(f0_hz: np.ndarray, rule: ProsodyRule, *, seed: int, voiced_from_hz: float = 0.0) -> np.ndarray:
    """Shift, stretch and jitter the voiced frames of an F0 track (Hz; frames at or below
    ``voiced_from_hz`` are unvoiced and stay as they are)."""
    f0 = f0_hz.copy()
    voiced = f0 > voiced_from_hz
    if not np.any(voiced):
        log.debug("No voiced frames: F0 left unchanged")
        return f0
    log_f0 = np.log2(f0[voiced])
    median = np.median(log_f0)
    log_f0 = median + (log_f0 - median) * rule.f0_range_scale + rule.f0_shift_st / 12.0
    rendered = 2.0**log_f0
    if rule.jitter:
        rng = np.random.default_rng(seed)
        rendered *= 1.0 + rule.jitter * rng.standard_normal(rendered.shape)
    f0[voiced] = np.clip(rendered, F0_MIN_HZ, F0_MAX_HZ)
    return f0
