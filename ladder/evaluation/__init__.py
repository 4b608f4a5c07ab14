"""``ladder eval``: one evaluation set, sent through every rung of the ladder, scored side by side.

Modules: :mod:`.evalset` (the set's JSON Lines format), :mod:`.metrics` (scoring one answer),
:mod:`.runner` (sending the set, with retries and resume), :mod:`.summary` (``scores.jsonl``,
``summary.json``), :mod:`.report` (``report.md`` and, with :mod:`.viewer`, ``report.html``; their numbers in
:mod:`.tables`, the item matrix in :mod:`.matrix`, the figure in :mod:`.figure`), :mod:`.check` (``make
eval-check``), :mod:`.judge` (Bedrock evaluation jobs).
"""
