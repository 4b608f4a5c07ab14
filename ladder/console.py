"""What the commands print besides their text: a JSON document for ``--json``, a message on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(document: Any) -> None:
    """Print ``document`` as indented JSON, non-ASCII characters as they are (the one form of ``--json``)."""
    print(json.dumps(document, indent=2, ensure_ascii=False))


def error(message: str) -> None:
    """Print a message for the person at the terminal on stderr, leaving stdout to the command's output."""
    print(message, file=sys.stderr)
