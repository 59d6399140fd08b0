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
- the **spectral shape** (``spectra``): each band's share of the long-term spectrum, emotional minus
  neutral, in dB at :data:`~emotion_core.synth.prosody_measures.SHAPE_BANDS_HZ`: where vocal effort
  moves energy, which one slope does not say (anger adds 3-5 dB at 1-4 kHz relative to the rest,
  while its slope above 1 kHz barely changes).

Across speakers each scalar change is summarised by its median and interquartile range, the shape by
its median per band. Intensity
"strong" is RAVDESS's strong portrayals; "normal" is RAVDESS's normal ones and every other corpus
(which record one, full-blown but unexaggerated, intensity). The renderer speaks the normal median at
intensity 0.5 and the strong one at 1.0. :mod:`emotion_core.synth.learn_prosody` measures the
corpora and writes the shipped table (``actor_prosody.json``); this module only reads it, so speaking
never imports the corpus readers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from emotion_core.labels import Emotion

#: The shipped table, beside this module (package data).
TABLE_PATH = Path(__file__).with_name("actor_prosody.json")
INTENSITIES = ("normal", "strong")
QUANTITIES = ("f0_shift_st", "f0_range_scale", "rate", "tilt_db_per_octave")


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
