"""The benchmark: accuracy (run.py) and cost (cost.py) of DKD and its peers.

Not installed with dkd_mm: its scripts are modules of this checkout, run
from the repository root as ``python -m bench.run``, ``python -m
bench.cost`` and so on (the root is then on ``sys.path``).
"""
