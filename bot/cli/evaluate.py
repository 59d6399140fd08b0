"""``moodbot evaluate``: score a recogniser and the seed baseline on held-out speakers, or run a
whole cross-validation protocol (``--protocol loco`` / ``speaker-folds``) that retrains per fold."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a model against the seed baseline",
        description=(
            "Accuracy, UAR, macro-F1, per-class recall and confusion matrices on the test speakers "
            "of the model's own split, clean and through Discord's Opus codec."
        ),
    )
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: shipped)")
    parser.add_argument(
        "--corpora-dir", type=Path, default=None, help="corpora folder (default $MOODBOT_CORPORA_DIR)"
    )
    parser.add_argument(
        "--corpora", nargs="+", default=None, metavar="NAME", help="restrict to these corpora"
    )
    parser.add_argument(
        "--unseen",
        nargs="+",
        default=None,
        metavar="NAME",
        help="cross-corpus: score all speakers of these corpora, which the model was not trained on",
    )
    parser.add_argument(
        "--conditions",
        nargs="+",
        default=None,
        metavar="NAME",
        help="audio conditions to score: clean, discord-32k, discord-12k (default: all three)",
    )
    parser.add_argument(
        "--protocol",
        choices=("loco", "speaker-folds"),
        default=None,
        help=(
            "retrain and test the recipe instead of scoring one model: leave-one-corpus-out, or "
            "speaker folds of every corpus (slow: minutes per fold)"
        ),
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="with --protocol")
    parser.add_argument("--epochs", type=int, default=None, help="maximum epochs, with --protocol")
    parser.add_argument(
        "--variants",
        nargs="+",
        default=None,
        metavar="NAME",
        help="ablation, with --protocol: train on these variants (all five ship)",
    )
    parser.add_argument(
        "--no-band-means",
        action="store_true",
        help="ablation, with --protocol: leave the log-mel band means out of the network's inputs",
    )
    parser.add_argument(
        "--members", type=int, default=None, help="ablation, with --protocol: networks in the ensemble"
    )
    parser.add_argument(
        "--average-from-epoch",
        type=int,
        default=None,
        help="ablation, with --protocol: average weights from this epoch (0: keep the best epoch)",
    )
    parser.add_argument(
        "--input-quantiles",
        type=int,
        default=None,
        metavar="KNOTS",
        help=(
            "ablation, with --protocol: map every input through KNOTS training quantiles onto a normal "
            "(0: off, as v11 and older; 100 ships since 0.17.0)"
        ),
    )
    parser.add_argument("--mixup", type=float, default=None, help="ablation, with --protocol: mixup alpha")
    parser.add_argument(
        "--corpus-adversary",
        type=float,
        default=None,
        help="ablation, with --protocol: weight of a gradient-reversed corpus classifier",
    )
    parser.add_argument(
        "--speaker-shift",
        type=float,
        default=None,
        help="ablation, with --protocol: share of training draws moved towards another speaker's mean",
    )
    parser.add_argument(
        "--corpus-weight-power",
        type=float,
        default=None,
        help="ablation, with --protocol: a corpus's share of draws grows as its clips ** POWER (0.5 ships)",
    )
    parser.add_argument(
        "--corpus-share",
        action="append",
        default=None,
        metavar="CORPUS=FACTOR",
        help="ablation, with --protocol: multiply that corpus's share of training draws (repeatable)",
    )
    parser.add_argument(
        "--no-voicing",
        action="store_true",
        help="ablation, with --protocol: leave the 31 voicing statistics out of the functionals",
    )
    parser.add_argument(
        "--no-modulation",
        action="store_true",
        help="ablation, with --protocol: leave the 5 loudness modulation statistics out of the functionals",
    )
    parser.add_argument(
        "--angry-offset",
        type=float,
        default=None,
        help=(
            "with --protocol: score every answer with this angry offset (0 turns it off); by default "
            "leave-one-corpus-out chooses it on the other left-out corpora, speaker folds use the shipped one"
        ),
    )
    parser.add_argument("--folds", type=int, default=5, help="speaker folds, with --protocol speaker-folds")
    parser.add_argument("--workers", type=int, default=2, help="processes for feature extraction")
    parser.add_argument("--json", type=Path, default=None, help="also write the full report here")
    parser.set_defaults(func=run)


def run_protocol(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bot.cli.train import with_corpora
    from emotion_core import (
        ANGRY_OFFSET_GRID,
        AUGMENT_VARIANTS,
        FOLD_CONDITIONS,
        MODEL_NAME,
        SCORED_MODELS,
        ArchitectureConfig,
        EmotionCoreError,
        TrainConfig,
        cross_validate,
    )

    config = TrainConfig()
    if config.architecture.kind != "functional":
        config = replace(config, architecture=ArchitectureConfig(kind="functional"))
    if args.epochs:
        config = replace(config, epochs=args.epochs, baseline_epochs=args.epochs)
    if args.no_band_means:
        config = replace(config, architecture=replace(config.architecture, band_means=False))
    if args.variants:
        unknown = sorted(set(args.variants) - set(AUGMENT_VARIANTS))
        if unknown:
            raise EmotionCoreError(f"unknown variants {unknown}; known: {list(AUGMENT_VARIANTS)}")
        config = replace(config, variants=tuple(args.variants))
    if args.members is not None:
        if args.members < 1:
            raise EmotionCoreError("--members must be 1 or more")
        config = replace(config, architecture=replace(config.architecture, members=args.members))
    if args.input_quantiles is not None:
        if args.input_quantiles == 1 or args.input_quantiles < 0:
            raise EmotionCoreError("--input-quantiles needs 2 knots or more (0 turns it off)")
        arch = replace(config.architecture, input_quantiles=args.input_quantiles)
        config = replace(config, architecture=arch)
    if args.average_from_epoch is not None:
        config = replace(config, average_from_epoch=args.average_from_epoch)
    if args.mixup is not None:
        config = replace(config, mixup=args.mixup)
    if args.corpus_adversary is not None:
        config = replace(config, corpus_adversary=args.corpus_adversary)
    if args.speaker_shift is not None:
        if not 0.0 <= args.speaker_shift <= 1.0:
            raise EmotionCoreError("--speaker-shift is a share of draws, from 0 to 1")
        config = replace(config, speaker_shift=args.speaker_shift)
    if args.no_voicing:
        config = replace(config, features=replace(config.features, voicing=False))
    if args.no_modulation:
        config = replace(config, features=replace(config.features, modulation=False))
    if args.corpus_weight_power is not None:
        if not 0.0 <= args.corpus_weight_power <= 1.0:
            raise EmotionCoreError("--corpus-weight-power is from 0 (corpora equal) to 1 (as their size)")
        config = replace(config, corpus_weight_power=args.corpus_weight_power)
    if args.corpus_share:
        config = replace(config, corpus_share=_corpus_shares(args.corpus_share))
    config = with_corpora(config, args)
    if args.protocol == "loco" and len(config.corpora) < 2:
        raise EmotionCoreError("leave-one-corpus-out needs at least two corpora")
    if args.protocol == "speaker-folds" and args.folds < 3:
        raise EmotionCoreError("speaker folds need --folds 3 or more (one tests, one validates)")
    if args.angry_offset is not None and not 0.0 <= args.angry_offset <= ANGRY_OFFSET_GRID[-1]:
        raise EmotionCoreError(f"--angry-offset is from 0 to {ANGRY_OFFSET_GRID[-1]}")
    report = cross_validate(
        args.protocol,
        config,
        seeds=tuple(args.seeds),
        k=args.folds,
        corpora_root=args.corpora_dir,
        workers=args.workers,
        angry_offset=args.angry_offset,
    )
    print(
        f"{args.protocol}, seeds {list(report.seeds)}: UAR mean ± spread over seeds, on each corpus's classes"
    )
    print(
        f"{'corpus':16} {'condition':9} {'model':24} {'UAR':>13} {'angry':>6} {'ECE':>6} {'ECE cal':>7} "
        f"{'clips':>6}"
    )
    names = SCORED_MODELS
    for corpus, conditions in report.results.items():
        for condition in FOLD_CONDITIONS:
            for name in names:
                s = conditions[condition][name]
                print(
                    f"{corpus:16} {condition:9} {name:24} {s.uar_mean:6.3f} ± {s.uar_std:4.3f} "
                    f"{s.called_angry_mean:6.3f} {s.ece_mean:6.3f} {s.ece_calibrated_mean:7.3f} "
                    f"{s.n_clips:6d}"
                )
    for condition in FOLD_CONDITIONS:
        means = ", ".join(f"{n} {report.mean_uar(n, condition, list(report.results)):.3f}" for n in names)
        print(f"mean UAR over corpora ({condition}): {means}")
    for corpus, conditions in report.results.items():
        shares = conditions["clean"][MODEL_NAME].angry_share_mean
        print(f"{corpus} clips called angry (clean): " + ", ".join(f"{k} {v:.2f}" for k, v in shares.items()))
    print(
        "angry offset each corpus was scored with, per seed: "
        + "; ".join(f"{corpus} {list(values)}" for corpus, values in report.angry_offsets.items())
    )
    print(f"angry offset chosen on every corpus at once, per seed: {list(report.angry_offset_on_all)}")
    if args.json:
        report.save(args.json)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.protocol:
        return run_protocol(args)
    from emotion_core import (
        BASELINE_NAME,
        EVAL_CONDITIONS,
        MODEL_NAME,
        SHIPPED_RECOGNIZER_DIR,
        EmotionCoreError,
        available_corpora,
        evaluate_split,
        evaluate_unseen,
        load_corpora,
        load_split,
    )

    folder = args.model or SHIPPED_RECOGNIZER_DIR
    split = load_split(folder)
    seen = split.corpora("train") | split.corpora("val") | split.corpora("test")
    if args.unseen:
        trained_on = sorted(seen & set(args.unseen))
        if trained_on:
            raise EmotionCoreError(
                f"the model was trained on {', '.join(trained_on)}: that is not a cross-corpus test"
            )
        wanted = set(args.unseen)
    else:
        wanted = split.corpora("test")
    if args.corpora:
        wanted &= set(args.corpora)
    present = [name for name in sorted(wanted) if name in available_corpora(args.corpora_dir)]
    if not present:
        raise EmotionCoreError("none of the corpora to evaluate were found (see --corpora-dir)")
    unknown = sorted(set(args.conditions or ()) - set(EVAL_CONDITIONS))
    if unknown:
        raise EmotionCoreError(f"unknown conditions {unknown}; known: {list(EVAL_CONDITIONS)}")
    conditions = {name: EVAL_CONDITIONS[name] for name in args.conditions or EVAL_CONDITIONS}
    clips = load_corpora(present, args.corpora_dir)
    if args.unseen:
        report = evaluate_unseen(folder, clips, conditions=conditions)
    else:
        report = evaluate_split(folder, clips, split, conditions=conditions)
    print(
        f"{'corpus':16} {'condition':12} {'model':14} {'acc':>6} {'UAR':>6} {'F1':>6} "
        f"{'ECE':>6} {'angry':>6} {'clips':>6}"
    )
    for corpus, by_condition in report.results.items():
        for condition, models in by_condition.items():
            for name in (MODEL_NAME, BASELINE_NAME):
                m = models[name]
                print(
                    f"{corpus:16} {condition:12} {name:14} {m.accuracy:6.3f} {m.uar:6.3f} "
                    f"{m.macro_f1:6.3f} {m.ece:6.3f} {m.called_angry:6.3f} {m.n_clips:6d}"
                )
    print("angry: share of clips of other emotions that were called angry; ECE: calibration error")
    first = next(iter(conditions))
    for corpus, scored in report.results.items():
        recall = scored[first][MODEL_NAME].recall
        print(f"{corpus} recall ({first}): " + ", ".join(f"{k} {v:.2f}" for k, v in recall.items()))
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 0


def _corpus_shares(pairs: list[str]) -> tuple[tuple[str, float], ...]:
    """``--corpus-share`` values (``CORPUS=FACTOR``) as :attr:`TrainConfig.corpus_share`; raises the
    error to show the user for an unknown corpus or a factor that is not a positive number."""
    from emotion_core import CORPORA, EmotionCoreError

    shares: dict[str, float] = {}
    for pair in pairs:
        corpus, _, factor = pair.partition("=")
        if corpus not in CORPORA:
            raise EmotionCoreError(f"--corpus-share {pair!r}: unknown corpus; known: {sorted(CORPORA)}")
        try:
            value = float(factor)
        except ValueError:
            value = float("nan")
        if not 0.0 < value < float("inf"):
            raise EmotionCoreError(
                f"--corpus-share {pair!r}: the factor must be a positive number, e.g. RAVDESS=2"
            )
        shares[corpus] = value
    return tuple(sorted(shares.items()))
