"""Learning :mod:`emotion_core.synth.actor_prosody`'s table from the corpora.

``python -m emotion_core.synth.learn_prosody`` measures every clip of RAVDESS, TESS, SAVEE, EmoDB and
nEMO in ``$MOODBOT_CORPORA_DIR`` (at most :data:`MAX_CLIPS_PER_SPEAKER` per speaker; about two
minutes on two cores) and rewrites the shipped ``actor_prosody.json`` and its card.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np

from emotion_core.audio import decode
from emotion_core.corpora import Clip, load_corpora
from emotion_core.labels import Emotion
from emotion_core.recognizer.dataset import cap_per_speaker
from emotion_core.synth.actor_prosody import CARD_PATH, INTENSITIES, TABLE_PATH, ActorProsody, Spread
from emotion_core.synth.prosody_measures import (
    CONFIG,
    ProsodyMeasures,
    change,
    measure_with_shape,
    median_of,
)

CORPORA = ("RAVDESS", "TESS", "SAVEE", "EmoDB", "nEMO")
T = TypeVar("T")

#: Clips read per speaker at most (TESS and nEMO have hundreds; the medians settle long before).
MAX_CLIPS_PER_SPEAKER = 200


def sentence_of(clip: Clip) -> str | None:
    """The sentence a clip reads, where the corpus reuses sentences across emotions; else ``None``."""
    stem = clip.path.stem
    if clip.corpus == "RAVDESS":
        return stem.split("-")[4]
    if clip.corpus == "TESS":
        return stem.split("_")[1].lower()
    if clip.corpus == "EmoDB":
        return stem[2:5]
    return None


def intensity_of(clip: Clip) -> str:
    """RAVDESS marks strong portrayals (intensity 02); everything else counts as normal."""
    return "strong" if clip.corpus == "RAVDESS" and clip.path.stem.split("-")[3] == "02" else "normal"


def _near_neutral(clip: Clip) -> bool:
    """RAVDESS calm and EmoDB boredom count as neutral for recognition, but their prosody is not a
    speaker's plain reading, so they are no baseline for change."""
    return (clip.corpus, clip.raw_label) in {("RAVDESS", "02"), ("EmoDB", "L")}


def _measure_clip(path: str) -> tuple[ProsodyMeasures | None, np.ndarray]:
    audio = decode(Path(path), sample_rate=CONFIG.sample_rate)
    return measure_with_shape(audio.samples, audio.sample_rate)


def _speaker_changes(
    neutral: Sequence[tuple[Clip, ProsodyMeasures]], emotional: Sequence[tuple[Clip, ProsodyMeasures]]
) -> dict[str, float]:
    """One speaker's changes from their neutral readings to their readings of one emotion: between
    the medians of each, except the rate, which compares readings of the same sentence only."""
    changes = change(median_of([m for _, m in neutral]), median_of([m for _, m in emotional]))
    del changes["rate"]
    neutral_duration: dict[str, list[float]] = {}
    for clip, m in neutral:
        if (sentence := sentence_of(clip)) is not None:
            neutral_duration.setdefault(sentence, []).append(m.duration_s)
    log_ratios = [
        np.log(np.median(neutral_duration[s]) / m.duration_s)
        for clip, m in emotional
        if (s := sentence_of(clip)) in neutral_duration
    ]
    if log_ratios:
        changes["rate"] = float(np.exp(np.median(log_ratios)))
    return changes


def _per_speaker(
    clips: Iterable[tuple[Clip, T]],
) -> Iterator[tuple[Emotion, str, list[tuple[Clip, T]], list[tuple[Clip, T]]]]:
    """For every speaker with plain neutral readings, and every emotion and intensity they portray:
    ``(emotion, intensity, their neutral readings, their readings of it)``."""
    by_speaker: dict[str, list[tuple[Clip, T]]] = {}
    for clip, value in clips:
        by_speaker.setdefault(clip.speaker, []).append((clip, value))
    for readings in by_speaker.values():
        neutral = [(c, v) for c, v in readings if c.label is Emotion.NEUTRAL and not _near_neutral(c)]
        if not neutral:
            continue
        for emotion in Emotion:
            if emotion is Emotion.NEUTRAL:
                continue
            for intensity in INTENSITIES:
                emotional = [
                    (c, v) for c, v in readings if c.label is emotion and intensity_of(c) == intensity
                ]
                if emotional:
                    yield emotion, intensity, neutral, emotional


def learn(
    measured: Iterable[tuple[Clip, ProsodyMeasures]],
    corpora: Sequence[str],
    shapes: Iterable[tuple[Clip, np.ndarray]] = (),
) -> ActorProsody:
    """Summarise measured clips into per-emotion, per-intensity changes across speakers; ``shapes``
    (each clip's shape from :func:`~emotion_core.synth.prosody_measures.measure_with_shape`) into the median
    change of the spectral shape."""
    per_speaker: dict[tuple[str, str, str], list[float]] = {}
    for emotion, intensity, neutral, emotional in _per_speaker(measured):
        for quantity, value in _speaker_changes(neutral, emotional).items():
            per_speaker.setdefault((emotion.value, intensity, quantity), []).append(value)
    changes: dict[str, dict[str, dict[str, Spread]]] = {}
    for (emotion_name, intensity, quantity), values in sorted(per_speaker.items()):
        q25, median, q75 = np.percentile(values, [25, 50, 75])
        spread = Spread(float(median), float(q25), float(q75), len(values))
        changes.setdefault(emotion_name, {}).setdefault(intensity, {})[quantity] = spread
    shape_changes: dict[tuple[str, str], list[np.ndarray]] = {}
    for emotion, intensity, plain_shapes, emotional_shapes in _per_speaker(shapes):
        change_db = np.median([v for _, v in emotional_shapes], axis=0) - np.median(
            [v for _, v in plain_shapes], axis=0
        )
        shape_changes.setdefault((emotion.value, intensity), []).append(change_db)
    spectra: dict[str, dict[str, tuple[float, ...]]] = {}
    for (emotion_name, intensity), per_speaker_db in sorted(shape_changes.items()):
        median_db = np.median(per_speaker_db, axis=0)
        spectra.setdefault(emotion_name, {})[intensity] = tuple(round(float(v), 2) for v in median_db)
    return ActorProsody(changes, tuple(corpora), spectra)


def learn_from_corpora(root: Path | None = None, *, workers: int = 2) -> ActorProsody:
    """Measure the corpora's clips (at most :data:`MAX_CLIPS_PER_SPEAKER` per speaker) and learn."""
    clips = cap_per_speaker(load_corpora(CORPORA, root), MAX_CLIPS_PER_SPEAKER)
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(_measure_clip, [str(c.path) for c in clips], chunksize=32))
    measured = [(c, m) for c, (m, _) in zip(clips, results, strict=True) if m is not None]
    return learn(measured, CORPORA, [(c, shape) for c, (_, shape) in zip(clips, results, strict=True)])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Re-learn the actors' prosody table from the corpora.")
    parser.add_argument(
        "--corpora", type=Path, default=None, help="corpora folder (default $MOODBOT_CORPORA_DIR)"
    )
    parser.add_argument("-o", "--output", type=Path, default=TABLE_PATH, help="where to write the table")
    parser.add_argument("--card", type=Path, default=CARD_PATH, help="where to write its card")
    args = parser.parse_args(argv)
    table = learn_from_corpora(args.corpora)
    table.save(args.output)
    args.card.write_text(table.card())
    print(f"wrote {args.output} and {args.card}")


if __name__ == "__main__":
    main()
