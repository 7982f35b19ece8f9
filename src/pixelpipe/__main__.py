"""``python -m pixelpipe`` runs the command-line interface."""

from pixelpipe.cli.app import main

main()
