"""Habits of the code base that review alone did not keep: checked on every run.

- ``bot`` reaches the core only through the typed facade ``emotion_core`` (``__init__.pyi``), so the
  core can reorganize its modules without breaking the bot, and editors can follow every name.
- ``import emotion_core`` loads nothing else: the facade is lazy.
- One logger name, ``log``, and no logger left unused.
- US spelling in identifiers (``analyze``, ``color``, ``normalize``): one spelling, so a search finds
  every use.
"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "emotion_core")
SOURCES = sorted(p for folder in (*PACKAGES, "tests", "benchmarks") for p in (ROOT / folder).rglob("*.py"))

_STEMS = (
    "normal|recogn|synthes|featur|optim|organ|initial|serial|minim|maxim|summar|visual|token|quant|"
    "random|standard|regular|custom|prior|util|vector|memor|categor|character|emphas|real|final|author|"
    "apolog|critic|capital|central|special|stabil|parallel|local"
)
#: British forms of words whose US form identifiers use (matched against whole words of a name).
BRITISH = re.compile(
    r"analys(e|ed|ing|er|ers)|(colour|honour|favour|behaviour|neighbour|flavour|labour)(s|ed|ing|ful)?"
    rf"|(centre|licence|metre|litre|fibre|catalogue)(s|d)?|artefacts?|({_STEMS})is(e|ed|es|ing|er|ers|ation)"
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def british_words(source: str) -> list[tuple[int, str]]:
    """(line, identifier) for every name in ``source`` that has a word spelled the British way."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and any(
            BRITISH.fullmatch(word.lower()) for word in _WORD.findall(token.string)
        ):
            found.append((token.start[0], token.string))
    return found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def analyse_message(): pass", [(1, "analyse_message")]),
        ("NO_SPEECH_COLOUR = 1", [(1, "NO_SPEECH_COLOUR")]),
        ("x = normaliseInput", [(1, "normaliseInput")]),
        ("class Synthesiser: pass", [(1, "Synthesiser")]),
        ("def analyze(): raise SynthesisError  # analyse in a comment is prose", []),
        ("text = 'colour in a string is prose'", []),
    ],
)
def test_the_spelling_check_finds_british_identifiers_and_only_those(source: str, expected: list) -> None:
    assert british_words(source) == expected


def test_identifiers_use_us_spelling() -> None:
    offenders = [
        f"{_relative(path)}:{line}: {name}"
        for path in SOURCES
        for line, name in british_words(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _core_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every import of a module inside ``emotion_core`` (not the facade itself)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("emotion_core.")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("emotion_core."):
            found.append((node.lineno, str(node.module)))
    return found


def test_the_bot_uses_only_the_facade() -> None:
    offenders = [
        f"{_relative(path)}:{line}: {module}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for line, module in _core_imports(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == [], "import these names from emotion_core (add them to emotion_core/__init__.pyi)"


def test_the_facade_check_sees_internal_imports() -> None:
    tree = ast.parse(
        "import emotion_core\nfrom emotion_core import decode\nfrom emotion_core.audio import decode\n"
    )
    assert _core_imports(tree) == [(3, "emotion_core.audio")]


def test_importing_the_facade_loads_no_module_of_the_core() -> None:
    code = "import sys, emotion_core; print(sorted(m for m in sys.modules if m.startswith('emotion_core.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_stub_and_the_module_export_the_same_names() -> None:
    import emotion_core

    stub = ast.parse((ROOT / "emotion_core" / "__init__.pyi").read_text(encoding="utf-8"))
    names = {
        a.asname or a.name for node in ast.walk(stub) if isinstance(node, ast.ImportFrom) for a in node.names
    }
    assert names == set(emotion_core.__all__)


def _loggers(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, target) for every module-level ``target = logging.getLogger(__name__)``."""
    found = []
    for node in getattr(tree, "body", []):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and ast.unparse(node.value) == "logging.getLogger(__name__)"
        ):
            found += [(node.lineno, ast.unparse(target)) for target in node.targets]
    return found


def test_every_module_logger_is_called_log_and_is_used() -> None:
    offenders = []
    for path in sorted(p for folder in PACKAGES for p in (ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, name in _loggers(tree):
            uses = [
                n
                for n in ast.walk(tree)
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == name
            ]
            if name != "log":
                offenders.append(f"{_relative(path)}:{line}: logger named {name!r}, not 'log'")
            elif not uses:
                offenders.append(f"{_relative(path)}:{line}: logger never used")
    assert offenders == []


def test_shared_test_code_lives_in_tests_helpers() -> None:
    """Tests and benchmarks import shared code from ``tests.helpers``, never from a conftest or another
    test module (pytest may load those twice), and benchmarks need no ``sys.path`` edits."""
    offenders = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module and module.startswith("tests.") and not module.startswith("tests.helpers"):
                offenders.append(f"{_relative(path)}:{node.lineno}: from {module}")
            if isinstance(node, ast.Attribute) and ast.unparse(node) == "sys.path.insert":
                if path.parts[-2] == "benchmarks":
                    offenders.append(f"{_relative(path)}:{node.lineno}: sys.path.insert")
    assert offenders == []


def test_no_extension_imports_another() -> None:
    """Each extension (``bot/exts``) can be loaded or unloaded alone: what two need lives outside."""
    offenders = [
        f"{_relative(path)}:{line}: {module}"
        for path in sorted((ROOT / "bot" / "exts").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
        for line, module in [(node.lineno, node.module or "")]
        if module.startswith("bot.exts")
    ]
    assert offenders == []
