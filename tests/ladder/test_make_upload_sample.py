"""`make upload-sample` finds the deployment made with the same CONTEXT as `make deploy`.

The target runs the real ``ladder`` against a local stand-in of CloudFormation
(``AWS_ENDPOINT_URL_CLOUDFORMATION``: "AWS_ENDPOINT_URL_<SERVICE> ... to set a custom endpoint for a
specific service", https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), which
answers as CloudFormation does for a stack that does not exist: the request shows which stack was asked
for, and its signature which region.
"""

from __future__ import annotations

import os
import subprocess

from .conftest import ApiServer
from .test_make_targets import BUILT, REPO_ROOT

NO_SUCH_STACK = (
    b'<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>'
    b"<Code>ValidationError</Code><Message>Stack with id DevKnowledge does not exist</Message></Error>"
    b"<RequestId>4af14eec-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
)


def test_upload_sample_asks_for_the_stacks_of_the_context_it_is_given(api_server: ApiServer):
    # Given a deploy made with another stack prefix and region, and a CloudFormation that has no such stack
    api_server.status, api_server.body = 400, NO_SUCH_STACK
    endpoint = api_server.url.removesuffix("/prod/ask")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "AWS_ENDPOINT_URL_CLOUDFORMATION": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }

    # When the sample is uploaded with the CONTEXT the deploy used
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            *BUILT,
            "upload-sample",
            "CONTEXT=-c stackPrefix=Dev -c region=eu-west-1",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # Then ladder asked for DevKnowledge in eu-west-1, and says that stack is not there
    [request] = api_server.requests
    assert "StackName=DevKnowledge" in request.body.decode()
    assert "/eu-west-1/cloudformation/aws4_request" in request.headers["authorization"]
    assert result.returncode == 2, result.stderr
    assert "stack DevKnowledge not found in eu-west-1" in result.stderr
