"""The book's machinery, kept apart from the paper's science in :mod:`advlib`.

``results`` (recorded values, claims tables with their verdicts, data notes), ``paper`` (the
paper's claims and numbers), ``charts`` (altair figures that work offline), ``runner``
(papermill with checked parameters), ``build`` (``python -m advlib book``), ``sweep``
(parameter grids, locally or on Dask), ``sphinxext`` (offline pages, cache digests) and ``cli``
(``python -m advlib``). Needs the ``book`` extra (``pip install -e .[book]``); the science in
:mod:`advlib` imports nothing from here.
"""

from advlib.book.results import record, record_paper  # what every chapter calls

__all__ = ["record", "record_paper"]
