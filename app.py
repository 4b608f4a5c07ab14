#!/usr/bin/env python3
"""CDK entry point: `make synth` (or `npx cdk synth`) runs this file."""

import sys

import aws_cdk as cdk

from stacks.application import build_app
from stacks.config import ConfigError

app = cdk.App()
try:
    build_app(app)
except ConfigError as error:
    # A configuration mistake is the user's to fix: show the message, not a traceback.
    print(error, file=sys.stderr)
    sys.exit(2)
app.synth()
