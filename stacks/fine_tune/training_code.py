"""The SageMaker source directory: ``training_jobs/`` packed as ``sourcedir.tar.gz`` without Docker.

The SageMaker training toolkit unpacks ``sagemaker_submit_directory`` (a tar.gz) into /opt/ml/code and runs
``sagemaker_program`` from there. The archive is built deterministically (sorted names, fixed times and
owners), so the asset hash, and with it the template, only changes when the code does.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from stacks.lambda_code import REPO_ROOT

TRAINING_JOBS_DIR = REPO_ROOT / "training_jobs"
ARCHIVE_NAME = "sourcedir.tar.gz"
ENTRY_POINT = "train.py"
REQUIREMENTS = "requirements.txt"
SOURCE_FILES = ("__init__.py", ENTRY_POINT, "job_contract.py", "dataprep.py", REQUIREMENTS)
"""What the job needs: the entry point, its contract, the data checks and the pip requirements (which the
toolkit installs when it finds them: left out for an image that already holds them, which may be isolated)."""


def source_files(*, with_requirements: bool = True) -> tuple[str, ...]:
    return tuple(name for name in SOURCE_FILES if with_requirements or name != REQUIREMENTS)


def write_source_archive(source_dir: Path, target: Path, *, with_requirements: bool = True) -> None:
    """Pack the source files of ``source_dir`` into a reproducible tar.gz at ``target``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(source_files(with_requirements=with_requirements)):
            data = (source_dir / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    with target.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as packed:
        packed.write(buffer.getvalue())


@jsii.implements(cdk.ILocalBundling)
class _SourceArchiveBundler:
    """Writes the archive into the bundling output folder (pure Python, so Docker is never needed)."""

    def __init__(self, *, with_requirements: bool) -> None:
        self._with_requirements = with_requirements

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_: object) -> bool:
        write_source_archive(
            TRAINING_JOBS_DIR, Path(output_dir) / ARCHIVE_NAME, with_requirements=self._with_requirements
        )
        return True


def training_code_asset(
    scope: Construct, construct_id: str, *, with_requirements: bool = True
) -> s3_assets.Asset:
    """``training_jobs/`` as a single ``.tar.gz`` object in the CDK assets bucket."""
    missing = [name for name in SOURCE_FILES if not (TRAINING_JOBS_DIR / name).is_file()]
    if missing:
        raise FileNotFoundError(f"training_jobs/ lacks {', '.join(missing)}")
    return s3_assets.Asset(
        scope,
        construct_id,
        path=str(TRAINING_JOBS_DIR),
        asset_hash_type=cdk.AssetHashType.OUTPUT,
        bundling=cdk.BundlingOptions(
            # Never pulled: local bundling always succeeds.
            image=cdk.DockerImage.from_registry("local-bundling-only"),
            local=_SourceArchiveBundler(with_requirements=with_requirements),
            output_type=cdk.BundlingOutput.ARCHIVED,
        ),
    )
