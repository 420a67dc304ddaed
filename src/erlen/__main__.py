"""``python -m erlen``: the same command line as the ``erlen`` script."""

from .cli import main

main()
