"""advlib: the small library behind advbook, an executable edition of
Goodfellow, Shlens & Szegedy (2015), "Explaining and Harnessing Adversarial Examples".

Modules, one idea each: ``data`` (MNIST and Fashion-MNIST), ``checks`` (argument checks),
``attacks`` (FGSM and baselines, torch), ``linear`` (closed-form linear-model math, NumPy/CuPy),
``models`` and ``train`` (deep nets and adversarial training), ``cache`` and ``zoo`` (trained
models by configuration hash), ``results`` (recorded numbers and claims tables), ``charts``
(altair figures), ``runner`` and ``sweep`` (papermill execution of chapters).
"""

__version__ = "0.1.0"

from advlib.results import record  # noqa: E402  (the one function every chapter calls)

__all__ = ["__version__", "record"]
