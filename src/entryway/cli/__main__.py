"""`python -m entryway.cli` runs the command line (as the `entryway` script does)."""

from entryway.cli import main

main()
