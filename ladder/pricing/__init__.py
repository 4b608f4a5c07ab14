"""The prices an evaluation run uses: the catalog's (``ladder_core.catalog``) with a user file on top."""
