"""advlib: the paper's science behind advbook, an executable edition of
Goodfellow, Shlens & Szegedy (2015), "Explaining and Harnessing Adversarial Examples".

One module per idea: ``data`` (MNIST and Fashion-MNIST), ``checks`` (argument checks),
``attacks`` (FGSM and baselines, torch), ``linear`` (closed-form linear-model math,
NumPy/CuPy), ``models`` (softmax regression, maxout, RBF, ensembles), ``train`` (the training
recipe and loop, clean or adversarial), ``measure`` (error, confidence, transfer, ...),
``rotation``, ``weights`` and ``generative`` (the paper's side questions), ``cache`` and ``zoo``
(trained models by configuration hash), ``paths`` (cache folder, atomic writes).

The book's machinery (running chapters, sweeps, claims tables, charts, the Sphinx extension and
the command line) is :mod:`advlib.book`; it needs the ``book`` extra, and nothing here imports it.
"""

__version__ = "0.2.0"

__all__ = ["__version__"]
