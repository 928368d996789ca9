import sys

from smolrecipe.cli import main

sys.exit(main())
