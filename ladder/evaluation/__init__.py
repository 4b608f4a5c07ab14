"""``ladder eval``: one evaluation set, sent through every rung of the ladder, scored side by side.

The rules (the set's format, scoring, ``summary.json``, intervals, costs) are ``ladder_core.evaluation``'s,
shared with the evaluation function in AWS. Here: :mod:`.evalset` (reading a set file), :mod:`.runner`
(sending the set, with retries and resume), :mod:`.rundir` (the local run folder), :mod:`.summary`
(rewriting ``scores.jsonl`` and ``summary.json``), :mod:`.report` (``report.md`` and, with :mod:`.viewer`,
``report.html``; their numbers in :mod:`.tables`, the item matrix in :mod:`.matrix`, the figure in
:mod:`.figure`), :mod:`.check` (``make eval-check``), :mod:`.judge` (Bedrock evaluation jobs).
"""
