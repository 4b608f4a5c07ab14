"""The evaluation engine, one copy for ``ladder eval`` and the evaluation function in AWS.

:mod:`.evalset` (the set's JSON Lines format), :mod:`.run` (the run folder's files, ``run.json`` and the
``responses.jsonl`` record), :mod:`.summary` (``scores.jsonl`` and ``summary.json``), :mod:`.uncertainty`
(intervals, differences, repeat spread), :mod:`.agreement` (judge vs rules), :mod:`.costs` and
:mod:`.prices` (the whole cost of a query). Standard library only, like the rest of ``ladder_core``.
"""
