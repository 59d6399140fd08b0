"""Loaders for emotional-speech corpora, one per corpus, by each corpus's published file naming.

Each loader walks a corpus folder and returns :class:`Clip` records (path, speaker, canonical label);
audio is read later, by whoever needs it. Any audio extension is accepted, because the copies under
``shared/corpora`` are Ogg/Opus while the published releases are WAV. Name parsers are separate pure
functions so they can be tested on names alone (CREMA-D and EmoDB are tested that way).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from emotion_core.audio import AUDIO_SUFFIXES
from emotion_core.labels import Emotion, map_label
from emotion_core.paths import corpora_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Clip:
    """One labelled recording of a corpus."""

    path: Path
    corpus: str
    speaker: str  # unique across corpora: "<corpus>:<id>"
    label: Emotion
    raw_label: str  # the corpus's own code, for the mapping table and the model card


@dataclass(frozen=True)
class ParsedName:
    """What a file name says: the speaker's own id and the corpus's label code."""

    speaker: str
    raw_label: str


class CorpusNameError(ValueError):
    """A file name does not follow the corpus's published naming."""


def parse_ravdess(stem: str) -> ParsedName:
    """``03-01-EE-II-SS-RR-AA``: modality, channel, emotion, intensity, statement, repetition, actor."""
    parts = stem.split("-")
    if len(parts) != 7 or not all(p.isdigit() for p in parts) or parts[1] != "01":
        raise CorpusNameError(f"not a RAVDESS speech name: {stem}")
    return ParsedName(speaker=parts[6], raw_label=parts[2])


def parse_cremad(stem: str) -> ParsedName:
    """``1001_DFA_ANG_XX``: actor, sentence, emotion, level."""
    parts = stem.split("_")
    if len(parts) != 4 or not parts[0].isdigit():
        raise CorpusNameError(f"not a CREMA-D name: {stem}")
    return ParsedName(speaker=parts[0], raw_label=parts[2])


_TESS_LABELS = {"fear": "fear", "ps": "ps", "pleasant_surprise": "ps", "pleasant_surprised": "ps"}


def parse_tess(stem: str) -> ParsedName:
    """``OAF_back_fear``: speaker (OAF older, YAF younger; one published file says ``OA``), word, emotion."""
    speaker, _, rest = stem.partition("_")
    word, _, emotion = rest.partition("_")
    emotion = emotion.lower()
    if not word or not emotion:
        raise CorpusNameError(f"not a TESS name: {stem}")
    speaker = {"OA": "OAF"}.get(speaker, speaker)
    return ParsedName(speaker=speaker, raw_label=_TESS_LABELS.get(emotion, emotion))


def parse_emodb(stem: str) -> ParsedName:
    """``03a01Fa``: speaker (2 digits), text code (3), emotion letter, version letter."""
    if not re.fullmatch(r"\d\d[ab]\d\d[A-Z][a-z]", stem):
        raise CorpusNameError(f"not an EmoDB name: {stem}")
    return ParsedName(speaker=stem[:2], raw_label=stem[5])


_SAVEE_NAME = re.compile(r"(DC|JE|JK|KL)_(sa|su|a|d|f|h|n)(\d\d)")


def parse_savee(stem: str) -> ParsedName:
    """``DC_sa01``: speaker, emotion code (a, d, f, h, n, sa, su), sentence number."""
    match = _SAVEE_NAME.fullmatch(stem)
    if match is None:
        raise CorpusNameError(f"not a SAVEE name: {stem}")
    return ParsedName(speaker=match.group(1), raw_label=match.group(2))


def parse_nemo(stem: str) -> ParsedName:
    """``EB0_anger_1``: speaker, emotion, number."""
    parts = stem.split("_")
    if len(parts) != 3 or not parts[2].isdigit():
        raise CorpusNameError(f"not an nEMO name: {stem}")
    return ParsedName(speaker=parts[0], raw_label=parts[1])


#: IndianEmoSpeech's hash for recordings whose speaker was not recorded; it may be several people.
IESC_UNKNOWN_USER = "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"
#: The speaker id given to that pool. It may mix voices, so it is never held out for testing.
IESC_UNKNOWN_SPEAKER = "unknown"
_IESC_NAME = re.compile(r"([a-z]+)-([a-z]+)-(angry|calm|fearful|happy)-(\d+)-([0-9a-f]{56})")


def parse_iesc(stem: str) -> ParsedName:
    """``go-safe-angry-20190712133514-<user hash>``: keyword, environment, emotion, time, user."""
    match = _IESC_NAME.fullmatch(stem)
    if match is None:
        raise CorpusNameError(f"not an IndianEmoSpeech name: {stem}")
    user = match.group(5)
    speaker = IESC_UNKNOWN_SPEAKER if user == IESC_UNKNOWN_USER else user[:12]
    return ParsedName(speaker=speaker, raw_label=match.group(3))


def is_pooled_speaker(speaker: str) -> bool:
    """Whether a ``corpus:id`` speaker is a pool of unidentified voices (training only)."""
    return speaker == f"IndianEmoSpeech:{IESC_UNKNOWN_SPEAKER}"


@dataclass(frozen=True)
class CorpusSpec:
    """Where a corpus keeps its audio below its root, and how to read its names."""

    name: str
    folder: str
    pattern: str  # glob below the corpus folder
    parse: Callable[[str], ParsedName]
    license: str
    citation: str
    language: str


CORPORA: dict[str, CorpusSpec] = {
    spec.name: spec
    for spec in (
        CorpusSpec(
            "RAVDESS",
            "RAVDESS",
            "Actor_*/*",
            parse_ravdess,
            "CC BY-NC-SA 4.0",
            "Livingstone & Russo (2018), PLoS ONE 13(5): e0196391",
            "en",
        ),
        CorpusSpec(
            "CREMA-D",
            "CREMA-D",
            "AudioWAV/*",
            parse_cremad,
            "ODbL 1.0 + DbCL 1.0",
            "Cao et al. (2014), IEEE Trans. Affective Computing 5(4)",
            "en",
        ),
        CorpusSpec(
            "TESS",
            "TESS",
            "*/*",
            parse_tess,
            "CC BY-NC-ND 4.0",
            "Dupuis & Pichora-Fuller (2010), Toronto emotional speech set, doi:10.5683/SP2/E8H2MF",
            "en",
        ),
        CorpusSpec(
            "EmoDB",
            "EmoDB",
            "wav/*",
            parse_emodb,
            "free for research (TU Berlin)",
            "Burkhardt et al. (2005), A Database of German Emotional Speech, Interspeech",
            "de",
        ),
        CorpusSpec(
            "SAVEE",
            "SAVEE",
            "ALL/*",
            parse_savee,
            "free for research use (University of Surrey)",
            "Haq & Jackson (2009), Speaker-dependent audio-visual emotion recognition, AVSP",
            "en",
        ),
        CorpusSpec(
            "nEMO",
            "nEMO",
            "samples/*",
            parse_nemo,
            "CC BY-NC-SA 4.0",
            "Christop (2024), nEMO: Dataset of Emotional Speech in Polish, LREC-COLING",
            "pl",
        ),
        CorpusSpec(
            "IndianEmoSpeech",
            "IndianEmoSpeech",
            "*/*",
            parse_iesc,
            "CC BY-NC-SA 4.0",
            "Banga et al. (2019), Indian EmoSpeech Command Dataset, arXiv:1910.13801",
            "en/hi",
        ),
    )
}


def load_corpus(name: str, root: Path | None = None) -> list[Clip]:
    """All labelled clips of corpus ``name`` below ``root`` (default: :func:`corpora_dir`).

    Files whose names do not parse are skipped with a warning rather than failing the whole corpus.
    Raises ``FileNotFoundError`` if the corpus folder is absent and ``KeyError`` for an unknown name.
    """
    spec = CORPORA[name]
    folder = (root or corpora_dir()) / spec.folder
    if not folder.is_dir():
        raise FileNotFoundError(f"{name} not found at {folder}")
    clips = []
    for path in sorted(folder.glob(spec.pattern)):
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        try:
            parsed = spec.parse(path.stem)
            label = map_label(name, parsed.raw_label)
        except (CorpusNameError, KeyError) as error:
            log.warning("skipping %s: %s", path, error)
            continue
        clips.append(Clip(path, name, f"{name}:{parsed.speaker}", label, parsed.raw_label))
    return clips


def available_corpora(root: Path | None = None) -> list[str]:
    """Names of the known corpora present below ``root``."""
    base = root or corpora_dir()
    return [name for name, spec in CORPORA.items() if (base / spec.folder).is_dir()]


def load_corpora(names: Iterable[str], root: Path | None = None) -> list[Clip]:
    """Clips of several corpora, in the order given."""
    return [clip for name in names for clip in load_corpus(name, root)]
