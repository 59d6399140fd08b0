"""How actors change their prosody for each emotion, learned from the corpora: the renderer's targets
and the yardstick its output is judged by.

RAVDESS, TESS, SAVEE, EmoDB and nEMO record every speaker both neutrally and in each emotion. For
each speaker, emotion and intensity this takes the change from *that speaker's own* neutral
readings (so voices, microphones and languages cancel out):

- ``f0_shift_st``: median F0, emotional minus neutral (semitones);
- ``f0_range_scale``: F0 range (10th to 90th percentile), emotional over neutral;
- ``rate``: neutral over emotional duration of the *same sentence* (RAVDESS statements, TESS words,
  EmoDB texts; SAVEE's and nEMO's sentences differ between emotions, so they give no rate);
- ``tilt_db_per_octave``: slope of the long-term spectrum above 1 kHz, emotional minus neutral;
- ``f0_slope_st_per_s``: the F0 contour's overall slope over the utterance, emotional minus neutral
  (semitones per second); measured, not rendered;
- ``pause_share``: the share of the utterance spent in pauses of 0.15 s or more, emotional minus
  neutral; measured, not rendered;
- the **spectral shape** (``spectra``): each band's share of the long-term spectrum, emotional minus
  neutral, in dB at :data:`~emotion_core.synth.prosody_measures.SHAPE_BANDS_HZ`: where vocal effort
  moves energy, which one slope does not say (anger adds 3-5 dB at 1-4 kHz relative to the rest,
  while its slope above 1 kHz barely changes).

Across speakers each scalar change is summarised by its median and interquartile range, the shape by
its median per band. Intensity
"strong" is RAVDESS's strong portrayals; "normal" is RAVDESS's normal ones and every other corpus
(which record one, full-blown but unexaggerated, intensity). The renderer speaks the normal median at
intensity 0.5 and the strong one at 1.0, but for a few quartiles named in
:data:`~emotion_core.synth.prosody.CONTRAST_QUARTILES`. :mod:`emotion_core.synth.learn_prosody` measures the
corpora and writes the shipped table (``actor_prosody.json``); this module only reads it, so speaking
never imports the corpus readers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from emotion_core.labels import Emotion

#: The shipped table, beside this module (package data), and its card.
TABLE_PATH = Path(__file__).with_name("actor_prosody.json")
CARD_PATH = Path(__file__).with_name("ACTOR_PROSODY_CARD.md")
INTENSITIES = ("normal", "strong")
#: Each quantity of the table and its heading in the card.
HEADINGS = {
    "f0_shift_st": "F0 shift (st)",
    "f0_range_scale": "F0 range (x)",
    "rate": "rate (x)",
    "tilt_db_per_octave": "tilt (dB/oct)",
    "f0_slope_st_per_s": "F0 slope (st/s)",
    "pause_share": "pauses (share)",
}
QUANTITIES = tuple(HEADINGS)
#: Quantities that are differences (printed with a sign), not factors.
SIGNED = ("f0_shift_st", "tilt_db_per_octave", "f0_slope_st_per_s", "pause_share")


@dataclass(frozen=True)
class Spread:
    """One change across speakers: median, quartiles and how many speakers it rests on."""

    median: float
    q25: float
    q75: float
    speakers: int

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies within the interquartile range."""
        return self.q25 <= value <= self.q75


@dataclass(frozen=True)
class ActorProsody:
    """``changes[emotion][intensity][quantity]``: how actors change prosody from their neutral;
    ``spectra[emotion][intensity]``: the median change of their spectral shape, per band (dB)."""

    changes: dict[str, dict[str, dict[str, Spread]]]
    corpora: tuple[str, ...]
    spectra: dict[str, dict[str, tuple[float, ...]]] = field(default_factory=dict)

    def spread(self, emotion: Emotion, intensity: str, quantity: str) -> Spread | None:
        return self.changes.get(emotion.value, {}).get(intensity, {}).get(quantity)

    def spectrum(self, emotion: Emotion, intensity: str) -> tuple[float, ...] | None:
        return self.spectra.get(emotion.value, {}).get(intensity)

    def save(self, path: Path = TABLE_PATH) -> None:
        data = {"corpora": list(self.corpora), "changes": self.changes, "spectra": self.spectra}
        path.write_text(json.dumps(data, indent=1, default=asdict) + "\n")

    def card(self) -> str:
        """The table's card (Markdown): data, method, the learned figures, limits."""
        rows = []
        for emotion in Emotion:
            for intensity in INTENSITIES:
                spreads = self.changes.get(emotion.value, {}).get(intensity)
                if not spreads:
                    continue
                cells = [_cell(spreads.get(q), signed=q in SIGNED) for q in QUANTITIES]
                shape = self.spectrum(emotion, intensity)
                peak = f"{max(shape):+.1f} / {min(shape[8:]):+.1f}" if shape else "—"
                rows.append(f"| {emotion.value} | {intensity} | " + " | ".join(cells) + f" | {peak} |")
        columns = ["emotion", "intensity", *HEADINGS.values(), "shape"]
        header = "| " + " | ".join(columns) + " |\n" + "|---" * len(columns) + "|"
        return _CARD.format(corpora=", ".join(self.corpora), header=header, rows="\n".join(rows))

    @classmethod
    def load(cls, path: Path = TABLE_PATH) -> ActorProsody:
        data = json.loads(path.read_text())
        changes = {
            emotion: {
                intensity: {quantity: Spread(**spread) for quantity, spread in quantities.items()}
                for intensity, quantities in by_intensity.items()
            }
            for emotion, by_intensity in data["changes"].items()
        }
        spectra = {
            emotion: {intensity: tuple(map(float, values)) for intensity, values in by_intensity.items()}
            for emotion, by_intensity in data.get("spectra", {}).items()
        }
        return cls(changes, tuple(data["corpora"]), spectra)


def _cell(spread: Spread | None, *, signed: bool) -> str:
    if spread is None:
        return "—"
    f = "+.2f" if signed else ".2f"
    return f"{spread.median:{f}} [{spread.q25:{f}}, {spread.q75:{f}}] n={spread.speakers}"


_CARD = """# Actors' prosody (the emotion renderer's targets)

Written by `python -m emotion_core.synth.learn_prosody` with `actor_prosody.json`; do not edit by hand.

**Data.** Every clip (at most 200 per speaker) of {corpora}: each records the same speakers
neutrally and in each emotion. "Strong" is RAVDESS's strong portrayals (24 actors); "normal" is
RAVDESS's normal ones and every other corpus. RAVDESS calm and EmoDB boredom are never taken for
neutral. Licences: RAVDESS, nEMO CC BY-NC-SA 4.0; TESS CC BY-NC-ND 4.0; SAVEE and EmoDB research use:
this table is derived data under their terms (non-commercial).

**Method.** For each speaker, the change of each quantity from *that speaker's own* neutral readings
(medians of each), so voices, microphones and languages cancel; then the median and interquartile
range across speakers. F0 in semitones (WORLD DIO + StoneMask); F0 range as the 10th to 90th
percentile; rate as neutral over emotional duration of the *same sentence* (RAVDESS, TESS, EmoDB only);
tilt as the slope (dB/octave) of the long-term spectrum over 1-7 kHz; F0 slope as the least-squares
slope of voiced F0 over the utterance (the contour's direction; measured, not rendered: rendered, the
round trip through the recogniser fell, see the README); pauses as the share of the utterance in
quiet runs of 0.15 s or more (30 dB below its loudest frame; measured, not rendered: the rate
already counts their time); spectral shape as each of 64 mel bands' share of the long-term
spectrum (dB), pauses left out. The renderer speaks the normal medians at
intensity 0.5 and the strong ones at 1.0 (Hibari inside the voice, other voices through
WORLD), within its limits (F0 ±7 semitones, or the actors' quartile nearest neutral where even that
lies beyond, as for strong fear; rate 0.7-1.3). Strong fear's F0 range and rate are spoken at the
quartiles away from strong anger (range: lower, rate: upper), whose medians it otherwise shares;
at the medians the recogniser heard strong fear as angry.

**Figures** (median [quartiles] across speakers, n speakers; shape: the largest band change / the
smallest above the eight lowest bands, dB):

{header}
{rows}

**Judged** against these actors by `python -m benchmarks.bench_prosody_actors` and by the shipped
recogniser by `python -m benchmarks.bench_speak_roundtrip` (figures in the README, "Speaking").

**Limits.** Acted, read speech in studios; English, German and Polish. Energy is not learned: EmoDB's
and nEMO's files are normalised one by one, so their level changes mean nothing. The shape's lowest
bands move with F0, which the renderer sets on its own, so it applies the shape only above 250 Hz.
"""
