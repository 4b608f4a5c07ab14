"""How the commands reach AWS: the client factory they are handed, the session and its region."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import boto3

from .errors import SetupError

AWS_REGION_ENV = "AWS_REGION"

ClientFactory = Callable[[boto3.session.Session, str], Any]
"""Makes the boto3 client of a service from a session; tests pass one that hands out stubbed clients."""


def session(args: argparse.Namespace) -> boto3.session.Session:
    """The boto3 session of ``--profile`` in the command's region; a missing region is a setup error."""
    made = boto3.session.Session(profile_name=args.profile, region_name=region_name(args))
    region(made)
    return made


def region_name(args: argparse.Namespace) -> str | None:
    """``--region``, else ``$AWS_REGION``, else None (boto3's own chain: ``$AWS_DEFAULT_REGION``, then the
    profile). boto3 reads only ``AWS_DEFAULT_REGION``; the AWS CLI v2 and CI systems set ``AWS_REGION``,
    which the AWS CLI lets override ``AWS_DEFAULT_REGION``, so Ladder does the same."""
    return args.region or os.environ.get(AWS_REGION_ENV) or None


def region(made: boto3.session.Session) -> str:
    """The session's region, or a setup error that says how to set one."""
    if not made.region_name:
        raise SetupError(
            f"no AWS region: pass --region, set {AWS_REGION_ENV}, or set a region in your AWS profile "
            "(aws configure set region us-east-1)"
        )
    return made.region_name
