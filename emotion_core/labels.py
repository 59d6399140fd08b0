"""Canonical emotions and the one table that maps every corpus's labels onto them.

The seven canonical emotions are the seed tutorial's classes. Corpora name their labels differently and
some have labels we fold in; the choices are made here once, documented, and tested per corpus:

- RAVDESS ``calm`` -> neutral: calm is a low-arousal neutral rendition of the same sentences, and the
  tutorial (and most 7-class SER work) folds it in rather than dropping an eighth of RAVDESS.
- EmoDB ``boredom`` (L) -> neutral: low arousal, neutral valence; the closest canonical class.
- TESS ``pleasant surprise`` (ps) -> surprised, not happy: it is surprise with positive valence.
- IndianEmoSpeech ``calm`` -> neutral: its low-arousal class, folded in as RAVDESS calm is.
- nEMO has no disgust; MK0 has no surprised. Nothing is invented for them.
"""

from __future__ import annotations

from enum import Enum


class Emotion(str, Enum):
    """The seven canonical emotions, in the fixed order used for model outputs."""

    NEUTRAL = "neutral"
    HAPPY = "happy"
    SAD = "sad"
    ANGRY = "angry"
    FEARFUL = "fearful"
    DISGUSTED = "disgusted"
    SURPRISED = "surprised"

    @property
    def emoji(self) -> str:
        """The emoji shown beside the label in replies."""
        return EMOJI[self]

    @classmethod
    def parse(cls, name: str) -> Emotion:
        """Return the emotion called ``name`` (case-insensitive); raise ``ValueError`` listing valid names."""
        key = name.strip().lower()
        for emotion in cls:
            if emotion.value == key:
                return emotion
        valid = ", ".join(e.value for e in cls)
        raise ValueError(f"Unknown emotion {name!r}; choose one of: {valid}.")


#: Model output order. A saved model stores its own label list; this is the default for new models.
EMOTIONS: tuple[Emotion, ...] = tuple(Emotion)

EMOJI: dict[Emotion, str] = {
    Emotion.NEUTRAL: "\N{NEUTRAL FACE}",
    Emotion.HAPPY: "\N{SMILING FACE WITH SMILING EYES}",
    Emotion.SAD: "\N{DISAPPOINTED FACE}",
    Emotion.ANGRY: "\N{POUTING FACE}",
    Emotion.FEARFUL: "\N{FEARFUL FACE}",
    Emotion.DISGUSTED: "\N{NAUSEATED FACE}",
    Emotion.SURPRISED: "\N{HUSHED FACE}",
}

#: Corpus label -> canonical emotion. Keys are the corpus's own codes as they appear in file names.
CORPUS_LABELS: dict[str, dict[str, Emotion]] = {
    # RAVDESS: third field of 03-01-EE-II-SS-RR-AA.
    "RAVDESS": {
        "01": Emotion.NEUTRAL,
        "02": Emotion.NEUTRAL,  # calm
        "03": Emotion.HAPPY,
        "04": Emotion.SAD,
        "05": Emotion.ANGRY,
        "06": Emotion.FEARFUL,
        "07": Emotion.DISGUSTED,
        "08": Emotion.SURPRISED,
    },
    # CREMA-D: third field of 1001_DFA_ANG_XX.
    "CREMA-D": {
        "NEU": Emotion.NEUTRAL,
        "HAP": Emotion.HAPPY,
        "SAD": Emotion.SAD,
        "ANG": Emotion.ANGRY,
        "FEA": Emotion.FEARFUL,
        "DIS": Emotion.DISGUSTED,
    },
    # TESS: last field of <SPK>_<word>_<emotion>, lower-cased.
    "TESS": {
        "neutral": Emotion.NEUTRAL,
        "happy": Emotion.HAPPY,
        "sad": Emotion.SAD,
        "angry": Emotion.ANGRY,
        "fear": Emotion.FEARFUL,
        "disgust": Emotion.DISGUSTED,
        "ps": Emotion.SURPRISED,  # pleasant surprise
    },
    # EmoDB: sixth character of 03a01Fa (German initials).
    "EmoDB": {
        "N": Emotion.NEUTRAL,
        "L": Emotion.NEUTRAL,  # Langeweile, boredom
        "F": Emotion.HAPPY,  # Freude
        "T": Emotion.SAD,  # Trauer
        "W": Emotion.ANGRY,  # Wut
        "A": Emotion.FEARFUL,  # Angst
        "E": Emotion.DISGUSTED,  # Ekel
    },
    # SAVEE: letters before the number in DC_sa01.
    "SAVEE": {
        "n": Emotion.NEUTRAL,
        "h": Emotion.HAPPY,
        "sa": Emotion.SAD,
        "a": Emotion.ANGRY,
        "f": Emotion.FEARFUL,
        "d": Emotion.DISGUSTED,
        "su": Emotion.SURPRISED,
    },
    # nEMO: second field of EB0_anger_1.
    "nEMO": {
        "neutral": Emotion.NEUTRAL,
        "happiness": Emotion.HAPPY,
        "sadness": Emotion.SAD,
        "anger": Emotion.ANGRY,
        "fear": Emotion.FEARFUL,
        "surprised": Emotion.SURPRISED,
    },
    # IndianEmoSpeech: third field of go-safe-angry-<time>-<user>; no sad, disgust or surprise.
    "IndianEmoSpeech": {
        "calm": Emotion.NEUTRAL,
        "happy": Emotion.HAPPY,
        "angry": Emotion.ANGRY,
        "fearful": Emotion.FEARFUL,
    },
}


def corpus_emotions(corpus: str) -> tuple[Emotion, ...]:
    """The canonical emotions a corpus has clips of, in canonical order.

    A corpus can only teach and test the classes it has: cross-corpus scores are computed over
    these, with predictions restricted to them.
    """
    present = set(CORPUS_LABELS[corpus].values())
    return tuple(emotion for emotion in EMOTIONS if emotion in present)


def map_label(corpus: str, label: str) -> Emotion:
    """Map a corpus's own label to a canonical emotion; ``KeyError`` names the corpus and label."""
    try:
        return CORPUS_LABELS[corpus][label]
    except KeyError:
        raise KeyError(f"{corpus} label {label!r} has no canonical emotion") from None
