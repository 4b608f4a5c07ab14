"""``python -m ladder`` runs the same CLI as the ``ladder`` console script."""

from ladder.cli import main

raise SystemExit(main())
