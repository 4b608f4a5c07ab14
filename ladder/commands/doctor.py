"""``ladder doctor``: check the target account and region before `make deploy`."""

from __future__ import annotations

import argparse
from typing import Any

import boto3

from .. import doctor
from ..aws import ClientFactory
from ..console import print_json
from ..errors import EXIT_FAILED
from .common import PROFILE_HELP, add_context_options, command


def register(commands: Any) -> None:
    """Add ``doctor`` to the root's subparsers."""
    doctor_parser = command(commands, "doctor", cmd_doctor)
    add_context_options(doctor_parser)
    doctor_parser.add_argument("--region", help="check this region (the same as -c region=REGION)")
    doctor_parser.add_argument("--profile", help=PROFILE_HELP)
    doctor_parser.add_argument("--json", action="store_true", help="print the checks as JSON (for CI)")


def cmd_doctor(args: argparse.Namespace, clients: ClientFactory) -> int:
    """Check the target account and region before `make deploy`, read-only, with your credentials.

    The configuration is cdk.json's context plus -c overrides, as the app reads it; the region is the
    configuration's `region`. Each check prints a line with ✓ or ✗ and, when it fails, the fix.
    Exit 0 when every check passes, 1 when one fails or a configuration value is invalid, 2 when
    cdk.json or AWS credentials are missing.
    """
    overrides = [*args.context, *([f"region={args.region}"] if args.region else [])]
    config = doctor.load_config(args.cdk_json, overrides)
    session = boto3.session.Session(profile_name=args.profile, region_name=config.region)
    report = doctor.run(lambda service: clients(session, service), config)
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.format())
    return 0 if report.ok else EXIT_FAILED
