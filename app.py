#!/usr/bin/env python3
"""CDK entry point: `make synth` (or `npx cdk synth`) runs this file."""

import aws_cdk as cdk

from stacks.application import build_app

app = cdk.App()
build_app(app)
app.synth()
