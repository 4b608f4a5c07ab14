"""The commands the CLI prints for a person to run next, in a form that works when pasted."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def program() -> str:
    """How to start ``ladder`` again from here: ``ladder`` when that is what the shell finds (an activated
    virtual environment), else the path it was started with, such as ``.venv/bin/ladder``, or
    ``python -m ladder``."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("ladder")
    if started.name == "__main__.py" and started.parent.name == "ladder":
        return f"{shlex.quote(_relative(Path(sys.executable)))} -m ladder"
    if started.name != "ladder":
        return "ladder"
    found = shutil.which("ladder")
    if found and started.exists() and os.path.samefile(found, started):
        return "ladder"
    return shlex.quote(_relative(started))


def command(*words: str) -> str:
    """``ladder WORDS...`` with every word quoted for a POSIX shell."""
    return " ".join([program(), *(shlex.quote(word) for word in words)])


def _relative(path: Path) -> str:
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
