"""`python -m cli` runs the scicurate command line."""

from cli.app import main

main()
