"""`python -m experiments.cli`: the same entry point as `einspace`."""
import sys

from . import main

sys.exit(main())
