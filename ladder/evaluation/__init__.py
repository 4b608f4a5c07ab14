"""``ladder eval``: one evaluation set, sent through every rung of the ladder, scored side by side.

Modules: :mod:`.evalset` (the set's JSON Lines format), :mod:`.metrics` (scoring one answer),
:mod:`.runner` (sending the set, with retries and resume), :mod:`.summary` and :mod:`.report` (the run
folder's ``summary.json``, ``report.md`` and charts), :mod:`.uncertainty` (the summary's intervals,
differences and repeat spread), :mod:`.judge` (Bedrock evaluation jobs).
"""
