"""The benchmark: accuracy (run.py) and cost (cost.py) of DKD and its peers.

A package of the project's install (``pip install -e .``), so its scripts
import each other as ``bench.*``; run them from the repository root, as
``python bench/run.py`` or ``python -m bench.run``.
"""
