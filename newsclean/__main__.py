"""``python -m newsclean`` is the ``newsclean`` command."""
import sys

from flows.cli import main

sys.exit(main())
