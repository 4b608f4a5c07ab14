"""Pure code that every layer needs: the CDK app (``stacks/``), the operator CLI (``ladder/``) and the
Lambda functions (``lambdas/``, which bundle the modules they use).

Standard library only: no aws-cdk-lib, no boto3/botocore, no third-party import at module level
(``tests/ladder_core/test_isolation.py`` enforces it), so any layer may import it and a Lambda asset can
carry it without a dependency layer."""
