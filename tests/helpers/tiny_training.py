"""Training runs small enough for the tests: SAVEE-named clips, tiny networks, three epochs."""

from dataclasses import replace

from emotion_core.recognizer.config import ArchitectureConfig
from emotion_core.recognizer.train import TrainConfig

#: A training run small enough for the tests: SAVEE-named clips, tiny networks, three epochs.
TINY_TRAINING = TrainConfig(
    corpora=("SAVEE",),
    epochs=3,
    baseline_epochs=3,
    batch_size=8,
    crop_frames=80,
    architecture=ArchitectureConfig(kind="tdnn", channels=16, dilations=(1, 2), embedding=16),
)


#: The same tiny run with the functional recogniser (what ships: an ensemble, here of two).
TINY_FUNCTIONAL = replace(
    TINY_TRAINING, architecture=ArchitectureConfig(kind="functional", hidden=(16,), members=2)
)
