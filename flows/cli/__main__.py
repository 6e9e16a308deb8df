"""`python -m flows.cli` runs the scicurate command line."""

from flows.cli.app import main

main()
