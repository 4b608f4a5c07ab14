"""``ladder eval``: one evaluation set, sent through every rung of the ladder, scored side by side.

Modules: :mod:`.evalset` (the set's JSON Lines format), :mod:`ladder_core.scoring` (scoring one answer),
:mod:`.runner` (sending the set, with retries and resume), :mod:`.summary` (``scores.jsonl``,
``summary.json``), :mod:`.report` (``report.md`` and, with :mod:`.viewer`, ``report.html``; their numbers in
:mod:`.tables`, the item matrix in :mod:`.matrix`, the figure in :mod:`.figure`), :mod:`.uncertainty` (the
summary's intervals, differences and repeat spread), :mod:`.check` (``make eval-check``), :mod:`.judge`
(Bedrock evaluation jobs).
"""
