"""``python -m hdrconv``: the ``hdrconv`` command, for environments without the console script."""

from hdrconv.cli import run

run()
