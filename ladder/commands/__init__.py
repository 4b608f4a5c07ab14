"""The ``ladder`` command groups: each module's ``register(subparsers)`` adds its commands beside
their handlers; ``ladder/cli.py`` builds the root parser, calls each ``register`` in ``GROUPS`` order,
then dispatches."""

from __future__ import annotations

from . import ask, data, docs, doctor, eval, examples, finetune, justify

GROUPS = (ask, docs, doctor, data, examples, justify, finetune, eval)
"""The command groups in the order ``ladder --help`` lists them."""
