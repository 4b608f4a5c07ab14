"""train.py as torchrun starts it, with a merge that takes ``LADDER_TEST_MERGE_DELAY_S`` seconds longer.

The first process sleeps before it saves the merged model, as a large model's CPU merge keeps it busy, and
every process writes the time it finished ``main`` (``rank-N-done``), and the first the time its merge was
saved (``merge-done``), into ``LADDER_TEST_TIMES_DIR``. test_distributed_train.py reads the times to see
whether the other process waited for the merge.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from training_jobs import train

DELAY_S = float(os.environ["LADDER_TEST_MERGE_DELAY_S"])
TIMES = Path(os.environ["LADDER_TEST_TIMES_DIR"])
_real_save_merged = train._save_merged


def _slow_save_merged(*args: Any, **kwargs: Any) -> None:
    time.sleep(DELAY_S)
    _real_save_merged(*args, **kwargs)
    (TIMES / "merge-done").write_text(repr(time.time()))


if __name__ == "__main__":
    train._save_merged = _slow_save_merged
    train.main(train.parse_args())
    (TIMES / f"rank-{os.environ['RANK']}-done").write_text(repr(time.time()))
