import sys

from ladder.review import main

sys.exit(main())
