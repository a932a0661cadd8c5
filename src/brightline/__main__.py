"""``python -m brightline`` runs the command line."""

from brightline.cli.main import main

main()
