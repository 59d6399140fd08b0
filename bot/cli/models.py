"""``moodbot models``: list the downloadable models and fetch them with verified downloads.

``moodbot models list`` shows every registered model and whether it is present; ``moodbot models
download NAME|all`` fetches into ``$MOODBOT_MODELS_DIR`` (default ``models/``), see
``emotion_core.hub``.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``models list`` and ``models download`` to the ``moodbot`` parser."""
    parser = subparsers.add_parser("models", help="list and download speech-synthesis models")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="registered models and which are present")
    listing.add_argument(
        "--models-dir", type=Path, default=None, help="models folder (default $MOODBOT_MODELS_DIR)"
    )
    listing.set_defaults(func=_list)

    download = actions.add_parser("download", help="download a model (or all) and verify it")
    download.add_argument("name", help="a name from `moodbot models list`, or 'all'")
    download.add_argument(
        "--models-dir", type=Path, default=None, help="models folder (default $MOODBOT_MODELS_DIR)"
    )
    download.add_argument("--url", default=None, help="download from this mirror instead")
    download.add_argument("--sha256", default=None, help="expected SHA-256 (hex) of the file")
    download.add_argument(
        "--allow-unverified",
        action="store_true",
        help="accept a file with no known SHA-256 (its digest is printed so you can pin it)",
    )
    download.add_argument("--force", action="store_true", help="download again even if present")
    download.add_argument(
        "--deadline-s",
        type=float,
        default=None,
        help="give up when the whole download takes longer (default: grows with the model's size cap)",
    )
    download.set_defaults(func=_download)


def _list(args: argparse.Namespace) -> int:
    from emotion_core import hub

    for info in hub.REGISTRY.values():
        path = hub.path_of(info.name, models_dir=args.models_dir)
        state = f"present ({path.stat().st_size / 1e6:.1f} MB)" if path.is_file() else "missing"
        checksum = "sha256 pinned" if info.sha256 else "no published sha256"
        print(f"{info.name:<10} {state:<22} {path}")
        print(f"{'':<10} {info.description}; {checksum}; license: {info.license}")
    return 0


def _download(args: argparse.Namespace) -> int:
    from emotion_core import DownloadError, hub

    names = (
        [name for name, info in hub.REGISTRY.items() if info.in_all] if args.name == "all" else [args.name]
    )
    if args.name == "all" and (args.url or args.sha256):
        raise DownloadError("--url and --sha256 apply to one model, not to 'all'.")
    for name in names:
        path = hub.download(
            name,
            models_dir=args.models_dir,
            url=args.url,
            sha256=args.sha256,
            allow_unverified=args.allow_unverified,
            force=args.force,
            deadline_s=args.deadline_s,
        )
        print(f"{name}: {path} (sha256 {hub.sha256_of(path)})")
    return 0
