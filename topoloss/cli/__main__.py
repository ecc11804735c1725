import sys

from topoloss.cli import main

sys.exit(main())
