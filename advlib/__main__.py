"""``python -m advlib``: the command line. It is part of the book's machinery and lives in
``advlib/book/cli.py``; the verbs that only train or download work without the ``book`` extra."""

import sys

from .book.cli import main

sys.exit(main())
