"""The training image's own documentation sends a reader to `make training-image`, the target that builds it.

The Dockerfile's header and the training README's file table are where a reader lands first; they describe
the prebuilt image as the default for real runs and name the target instead of hand-typed build commands.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "training_jobs" / "Dockerfile"
README = ROOT / "training_jobs" / "README.md"


def _header(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(
        line for line in lines[: next(i for i, line in enumerate(lines) if not line.startswith("#"))]
    )


def test_make_training_image_builds_this_dockerfile():
    printed = subprocess.run(
        ["make", "-n", "--no-print-directory", "training-image"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert printed.returncode == 0, printed.stderr
    assert (
        'docker build --platform linux/amd64 --build-arg REGION="$region" -t "$uri" training_jobs'
        in printed.stdout
    )


def test_the_dockerfile_header_points_to_the_make_target_for_real_runs():
    header = _header(DOCKERFILE)

    assert "for real runs" in header
    assert "make training-image" in header
    assert "docker build" not in header and "docker push" not in header
    assert "for network-isolated jobs" not in header


def test_the_training_readme_names_the_make_target_in_its_dockerfile_row():
    [row] = [
        line
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `Dockerfile` |")
    ]

    assert "for real runs" in row
    assert "`make training-image`" in row
    assert "network-isolated" not in row
