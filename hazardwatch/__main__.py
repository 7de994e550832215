"""`python -m hazardwatch`."""

from hazardwatch.cli import main

main()
