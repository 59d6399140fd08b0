"""The core is a library: it never imports discord, and its public API resolves."""

import ast
import subprocess
import sys
from pathlib import Path

import emotion_core

CORE = Path(emotion_core.__file__).parent


def test_no_module_of_the_core_imports_discord():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in ("discord", "bot")]
    assert offenders == []


def test_importing_the_whole_recogniser_loads_no_discord():
    code = (
        "import sys, emotion_core.recognizer.infer, emotion_core.recognizer.train, "
        "emotion_core.synth.pipeline; print('discord' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_public_name_resolves():
    for name in emotion_core.__all__:
        assert getattr(emotion_core, name) is not None
