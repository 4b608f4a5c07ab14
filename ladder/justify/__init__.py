"""``ladder justify``: a verdict on the rung from an evaluation run's numbers (offline, no AWS call).

The rules are in :mod:`ladder.justify.rules`, the verdict file's shape in ``stacks/fine_tune/verdict.py``
(the synth gate reads the same shape), the scale case's assumptions in :mod:`ladder.justify.economics`.
"""

from .command import JustifyOptions, format_result, run_justify

__all__ = ["JustifyOptions", "format_result", "run_justify"]
