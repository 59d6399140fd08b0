"""The model card: what a recogniser was trained on, under which licenses, and how well it does.

Written as ``model_card.json`` (for programs: the bot and the README read figures from it),
``MODEL_CARD.md`` (for people) and ``confusion.png`` (confusion matrices of the held-out speakers).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from emotion_core.corpora import CORPORA
from emotion_core.features import FeatureConfig
from emotion_core.functionals import network_input_size
from emotion_core.labels import CORPUS_LABELS
from emotion_core.recognizer.config import WEIGHTS_FILE
from emotion_core.recognizer.evaluate import (
    BASELINE_NAME,
    EVAL_CONDITIONS,
    MODEL_NAME,
    TEST_SAMPLE_CLIPS,
    Evaluation,
)

CARD_JSON = "model_card.json"
CARD_MD = "MODEL_CARD.md"
CONFUSION_PNG = "confusion.png"

_CONDITION_NOTES = {
    "clean": "as stored in the corpora (already Ogg/Opus, 16 kHz, 32 kbit/s)",
    "discord-32k": "a further Opus encode at 48 kHz, 32 kbit/s (a Discord voice message)",
    "discord-12k": "a further Opus encode at 48 kHz, 12 kbit/s (stress test)",
}


def _license_note(corpora: list[str]) -> str:
    """Say which corpora's non-commercial terms the weights inherit."""
    restricted = [
        f"{name} ({CORPORA[name].license})"
        for name in corpora
        if "NC" in CORPORA[name].license or "research" in CORPORA[name].license
    ]
    if not restricted:
        return "Check each corpus's terms below before any commercial use."
    return (
        f"Trained on {', '.join(restricted)}: their non-commercial and research-only terms carry "
        "over to these weights. Do not use them commercially."
    )


def _architecture_note(arch: dict, features: FeatureConfig) -> str:
    if arch["kind"] == "functional":
        widths = " -> ".join(str(w) for w in arch["hidden"])
        inputs = f"{network_input_size(features, arch['band_means'])} utterance functionals"
        members = arch.get("members", 1)
        shape = f"Dense {widths} with batch norm and dropout {arch['dropout']}"
        if members > 1:
            shape = (
                f"an ensemble of {members} networks ({shape}), trained apart with different seeds, their "
                "logits averaged"
            )
        knots = arch.get("input_quantiles", 0)
        scaled = (
            f"each mapped through {knots} of its training quantiles onto a standard normal (rank-Gauss), "
            "then standardised"
            if knots
            else "standardised"
        )
        return (
            f"{inputs} (log-mel band statistics, cepstral spread, loudness, rhythm and pitch), {scaled}, "
            f"{shape}; a single prosody network of that shape in `prosody/` hears only the "
            f"{network_input_size(features, arch['band_means'], True)} prosodic ones (loudness, pitch, "
            "rhythm, voice quality), its calibrated probabilities averaged with the ensemble's; "
            "a single profile network of that shape in `profile/` hears people against their "
            "voice profile, its probabilities averaged with those, and a single community "
            "network in `community/`, trained on corpora each aligned onto the training reference, "
            "hears clips aligned on a deployment's community statistics."
        )
    return (
        f"1-D convolutions over log-mel frames, {arch['channels']} channels, dilations "
        f"{tuple(arch['dilations'])}, attentive statistics pooling, embedding {arch['embedding']}."
    )


def write_model_card(out_dir: Path, evaluation: Evaluation, record: dict) -> dict:
    """Write the card's three files into ``out_dir`` and return the JSON content."""
    split = record["split"]
    corpora = record["config"]["corpora"]
    features = FeatureConfig(**record["config"]["features"])
    card = {
        "name": out_dir.name,
        "date": dt.date.today().isoformat(),
        "task": "speech emotion recognition, 7 classes",
        "labels": list(evaluation.labels),
        "parameters": record["parameters"],
        "weights_bytes": (out_dir / WEIGHTS_FILE).stat().st_size,
        "baseline_parameters": record["baseline_parameters"],
        "corpora": [
            {
                "name": name,
                "license": CORPORA[name].license,
                "citation": CORPORA[name].citation,
                "language": CORPORA[name].language,
                "label_mapping": {k: v.value for k, v in CORPUS_LABELS[name].items()},
                "speakers": {
                    part: [s.split(":", 1)[1] for s in split[part] if s.startswith(name + ":")]
                    for part in ("train", "val", "test")
                },
            }
            for name in corpora
        ],
        "license_note": _license_note(corpora),
        "split": "speaker-independent: no speaker in two of train, validation and test",
        "conditions": {name: _CONDITION_NOTES[name] for name in EVAL_CONDITIONS},
        "training": {
            **{
                k: record["config"].get(k)
                for k in ("seed", "epochs", "batch_size", "crop_frames", "variants", "average_from_epoch")
            },
            "crop_s": (record["config"].get("crop_frames") or 0) / features.frame_rate,
        },
        "architecture": record["config"]["architecture"],
        "architecture_note": _architecture_note(record["config"]["architecture"], features),
        "epochs_run": sum(point.get("member", 0) == 0 for point in record["history"]),  # per member
        "evaluation": evaluation.to_dict(),
    }
    (out_dir / CARD_JSON).write_text(json.dumps(card, indent=2) + "\n")
    (out_dir / CARD_MD).write_text(_markdown(card))
    _confusion_png(evaluation, out_dir / CONFUSION_PNG)
    return card


def _markdown(card: dict) -> str:
    results = card["evaluation"]["results"]
    lines = [
        f"# Model card: {card['name']}",
        "",
        f"Speech emotion recogniser, {len(card['labels'])} classes ({', '.join(card['labels'])}); "
        f"{card['parameters']:,} parameters, {card['weights_bytes'] / 1e6:.1f} MB of weights; "
        f"trained {card['date']}.",
        "",
        f"**License.** {card['license_note']}",
        "",
        "## Evaluation: unweighted average recall (UAR) on held-out speakers",
        "",
        "Speaker-independent: the test speakers below were never heard in training or validation. "
        f"The seed baseline ({card['baseline_parameters']:,} parameters: MFCC means, Dense 256-128, "
        "dropout) was trained on exactly the same clips and augmentations. Where a corpus's test "
        f"speakers have more than {TEST_SAMPLE_CLIPS} clips (TESS, nEMO), a fixed stratified sample of "
        f"{TEST_SAMPLE_CLIPS} (the same "
        "number per class, seed 0) is scored, the same clips for both models. These are the "
        "networks' answers as trained (with a prosody network, the mean of the two views), before "
        "`moodbot calibrate` adds the fused temperature and the angry offset that "
        'leave-one-corpus-out chose (README, "Confidence"); `moodbot evaluate` scores the model as '
        "it is served.",
        "",
        "| corpus | condition | MoodBot UAR | seed baseline UAR | gain | MoodBot accuracy | macro-F1 "
        "| clips |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for corpus, conditions in results.items():
        for condition, models in conditions.items():
            ours, base = models[MODEL_NAME], models[BASELINE_NAME]
            lines.append(
                f"| {corpus} | {condition} | {ours['uar']:.3f} | {base['uar']:.3f} | "
                f"{100 * (ours['uar'] - base['uar']):+.1f} pts | {ours['accuracy']:.3f} | "
                f"{ours['macro_f1']:.3f} | {ours['n_clips']} |"
            )
    lines += ["", "Conditions:", ""]
    lines += [f"- `{name}`: {note}" for name, note in card["conditions"].items()]
    lines += ["", "## Per-class recall (MoodBot, clean)", ""]
    labels = card["labels"]
    lines += ["| corpus | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for corpus, conditions in results.items():
        recall = conditions["clean"][MODEL_NAME]["recall"]
        cells = [f"{recall[label]:.2f}" if label in recall else "–" for label in labels]
        lines.append(f"| {corpus} | " + " | ".join(cells) + " |")
    lines += ["", f"![confusion matrices]({CONFUSION_PNG})", "", "## Data", ""]
    lines += [
        "| corpus | language | license | train / val / test speakers | citation |",
        "|---|---|---|---|---|",
    ]
    for corpus in card["corpora"]:
        speakers = corpus["speakers"]
        lines.append(
            f"| {corpus['name']} | {corpus['language']} | {corpus['license']} | "
            f"{len(speakers['train'])} / {len(speakers['val'])} / {len(speakers['test'])} "
            f"(test: {', '.join(speakers['test'])}) | {corpus['citation']} |"
        )
    lines += [
        "",
        "RAVDESS, TESS, SAVEE and EmoDB reuse the same sentences (TESS: words) for every speaker, "
        "so these splits are speaker-independent but not text-independent.",
        "",
        "Label mapping: RAVDESS calm, EmoDB boredom and IndianEmoSpeech calm count as neutral; "
        "TESS pleasant surprise as surprised; nEMO has no disgust (its UAR is over the six classes "
        "it has). The full table is in `model_card.json` and `emotion_core/labels.py`.",
        "",
        f"Network: {card['architecture_note']}",
        "",
        f"Training: seed {card['training']['seed']}, {card['epochs_run']} epochs run "
        + ("per member " if card["architecture"].get("members", 1) > 1 else "")
        + (
            f"(weights averaged from epoch {card['training']['average_from_epoch']} on)"
            if card["training"].get("average_from_epoch")
            else "(best by validation UAR kept)"
        )
        + f", batch {card['training']['batch_size']}"
        + (
            f", {card['training']['crop_s']:.1f} s crops."
            if card["architecture"]["kind"] == "tdnn"
            else f"; augmentation variants {', '.join(card['training']['variants'])}."
        ),
        "",
    ]
    return "\n".join(lines)


def _confusion_png(evaluation: Evaluation, path: Path) -> None:
    """One row per corpus: MoodBot clean, MoodBot through Discord's codec, seed baseline clean."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("clean", MODEL_NAME), ("discord-32k", MODEL_NAME), ("clean", BASELINE_NAME)]
    corpora = list(evaluation.results)
    fig, axes = plt.subplots(len(corpora), 3, figsize=(12, 3.8 * len(corpora)), squeeze=False)
    short = [label[:4] for label in evaluation.labels]
    for row, corpus in enumerate(corpora):
        for col, (condition, model) in enumerate(panels):
            metrics = evaluation.results[corpus][condition][model]
            matrix = np.array(metrics.confusion, dtype=float)
            norm = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
            ax = axes[row, col]
            ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
            ax.set_xticks(range(len(short)), short, rotation=45)
            ax.set_yticks(range(len(short)), short)
            ax.set_title(f"{corpus} · {model} · {condition}\nUAR {metrics.uar:.3f}", fontsize=9)
            for i in range(len(short)):
                for j in range(len(short)):
                    if matrix[i, j]:
                        ax.text(
                            j,
                            i,
                            int(matrix[i, j]),
                            ha="center",
                            va="center",
                            fontsize=7,
                            color="white" if norm[i, j] > 0.5 else "black",
                        )
    fig.supxlabel("predicted")
    fig.supylabel("true")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
