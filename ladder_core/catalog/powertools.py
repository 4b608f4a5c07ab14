"""Where AWS publishes its Powertools for AWS Lambda (Python) layer.

Source: Powertools for AWS Lambda (Python), "Lambda Layers": the layer ARN of each release is published as
an SSM public parameter ``/aws/service/powertools/python/<architecture>/<runtime>/<version>``.
"""

from __future__ import annotations

POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/arm64/python3.14/{version}"
"""SSM public parameter with the ARN of AWS's Powertools layer (read by the stacks and by ladder doctor)."""
