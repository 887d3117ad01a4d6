"""Evaluated runs kept in the repository, so that a table can be made over
more sessions than one.

A run's checkpoint lives in work_dirs/, which a fresh checkout does not
have; what a table needs of the run is small: its metrics.  After
bench/run.py evaluates a run it writes them to
``bench/ledger_entries/<key>.json``, ``key`` being the run's settings key
(:func:`bench.runs.run_key`: config, options, seed, iterations, data, and
the source of the package and of the two tools), and a later invocation,
in another checkout, tables the run from there instead of training it
again.  Commit the files with the table they make.

A distillation row also depends on its teacher's weights, which the key
names only by the teacher's settings: the same settings train the same
weights on the same kind of CPU, but a CPU with other kernels trains another
teacher (docs/benchmarks.md, the demo's two machines).  So an entry keeps
the digest of its teacher's weights (:func:`weights_digest`) and is reused
only under a teacher of the same digest.
"""
import hashlib
import json
import os
import os.path as osp
import platform
from typing import Optional

from bench import runs

LEDGER = osp.join(runs.ROOT, 'bench', 'ledger_entries')


def weights_digest(ckpt: str) -> str:
    """sha256 prefix of a checkpoint's weights: each ``state_dict`` entry's
    name, dtype, shape and bytes, in name order (two trainings that end in
    the same weights agree, though their files' metadata differ)."""
    from dkd_mm.utils.checkpoint import load_checkpoint_safely
    state = load_checkpoint_safely(osp.join(runs.ROOT, ckpt))
    state = state.get('state_dict', state)
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].contiguous().cpu()
        digest.update(f'{name}:{tensor.dtype}:{list(tensor.shape)}'.encode())
        digest.update(tensor.numpy().tobytes() if tensor.numel() else b'')
    return digest.hexdigest()[:16]


def cpu_name() -> str:
    """The CPU's model name (its kernels decide the float sums)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _path(key: str, folder: str) -> str:
    return osp.join(folder, f'{key}.json')


def lookup(key: str,
           teacher_digest: str,
           folder: Optional[str] = None) -> Optional[dict]:
    """The metrics the ledger holds for run ``key``, or None.

    Args:
        key (str): The run's :func:`bench.runs.run_key`.
        teacher_digest (str): The :func:`weights_digest` of the table's
            teacher (for every row, plain students too: it stands for the
            CPU's kernels): an entry recorded under another teacher is not
            reused (a message says so).
        folder (str, optional): The ledger's folder. Defaults to
            :data:`LEDGER`.

    Returns:
        dict | None: The metrics as :func:`record` received them.
    """
    path = _path(key, folder or LEDGER)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        entry = json.load(f)
    if entry.get('teacher_digest') != teacher_digest:
        print(
            f'[ledger] {osp.relpath(path, runs.ROOT)} was recorded under '
            f'teacher weights {entry.get("teacher_digest")}, these are '
            f'{teacher_digest} (another CPU, or retrained): not reused',
            flush=True)
        return None
    print(
        f'[ledger] {entry["name"]} seed {entry["seed"]}: from '
        f'{osp.relpath(path, runs.ROOT)}',
        flush=True)
    return entry['metrics']


def record(key: str,
           name: str,
           seed: int,
           metrics: dict,
           teacher_digest: str,
           folder: Optional[str] = None,
           **settings) -> str:
    """Write run ``key``'s metrics (and what it was) to the ledger.

    Args:
        key (str): The run's :func:`bench.runs.run_key`.
        name (str): The row's name in the table (e.g. 'dkd (GD+ISD+TSA)').
        seed (int): The run's seed.
        metrics (dict): What bench/rows.py's ``evaluate`` returned.
        teacher_digest (str): See :func:`lookup`.
        folder (str, optional): The ledger's folder. Defaults to
            :data:`LEDGER`.
        **settings: What the run was, for a reader (e.g. ``config``,
            ``options``); the key already covers them.

    Returns:
        str: The entry's path.
    """
    from bench.report import code_version
    folder = folder or LEDGER
    os.makedirs(folder, exist_ok=True)
    path = _path(key, folder)
    entry = dict(
        name=name,
        seed=seed,
        teacher_digest=teacher_digest,
        code=code_version(),
        cpu=cpu_name(),
        metrics=metrics,
        **settings)
    with open(path + '.tmp', 'w') as f:
        json.dump(entry, f, indent=1, sort_keys=True)
        f.write('\n')
    os.replace(path + '.tmp', path)
    return path
