"""Progress lines name what they count: answers for an evaluation, examples for an upload."""

from __future__ import annotations

import io

from ladder.evaluation.progress import progress_bar


def test_plain_lines_name_the_unit_and_count_errors() -> None:
    stream = io.StringIO()
    with progress_bar(3, stream, unit="examples embedded") as bar:
        assert bar is not None
        for ok in (True, False, True):
            bar.advance(ok=ok)
    lines = stream.getvalue().splitlines()
    assert lines[-1].startswith("examples embedded 3/3, 1 errors, elapsed ")


def test_nothing_to_count_gives_no_bar() -> None:
    with progress_bar(0, io.StringIO()) as bar:
        assert bar is None
