"""The benchmark's one rule for putting a distillation method on DKD's scale.

A published baseline's weights were set by its authors for their teacher,
detector and feature scale; with another teacher the same weights can make
its terms tens of times the detection loss (FGD with the benchmark's AdamW
teacher) or a rounding error.  Each baseline is therefore tabled twice: at
its published weights, and *scaled* by this rule:

    at the start of training (a freshly initialised student, seed 0, the
    trained teacher, distillation at full strength), the method's
    distillation terms add up to the same share of its student's detection
    loss as DKD's terms add up to, split equally among its terms.

With ``v_j`` the mean value of term j over the calibration batches, ``D``
the student's detection loss (the sum of its own ``loss*`` terms), ``r``
DKD's total share ``sum_j v_j^DKD / D^DKD`` and ``k`` the method's number of
terms, term j gets the multiplier

    w_j = (r / k) / (v_j / D)

(``DKDDistiller(term_weights=...)``), so ``sum_j w_j v_j / D = r``.  The
values come from ``bench/calibrate.py --json`` with the row's own options.
"""
import json
import os.path as osp
import sys
from typing import Dict, List, Sequence

from bench import runs

# The baselines of the single-stage table that get a scaled row.
SCALABLE = ('fitnet', 'fgd', 'pkd', 'cwd')
SCALED_SUFFIX = ' (scaled)'
# The reference whose share every scaled method gets.
REFERENCE = 'dkd (GD+ISD+TSA)'


def total_share(terms: Dict[str, float], detection: float) -> float:
    """``sum_j v_j / D``: a method's distillation terms against its
    student's detection loss."""
    if detection <= 0:
        raise ValueError(f'detection loss must be > 0, got {detection}')
    return sum(terms.values()) / detection


def scaled_weights(terms: Dict[str, float], detection: float,
                   share: float) -> Dict[str, float]:
    """Multipliers that bring ``terms`` to a total of ``share`` times the
    detection loss, split equally among them (the module's rule).

    Args:
        terms (dict[str, float]): Term key -> its mean value at the start,
            at the method's own weights.
        detection (float): The student's detection loss beside them.
        share (float): The target total share (DKD's).

    Returns:
        dict[str, float]: Term key -> multiplier ``w_j``.

    Raises:
        ValueError: If there is no term, or one is not > 0 (no multiplier
            could bring it to a share).
    """
    if not terms:
        raise ValueError('no distillation term to scale')
    bad = {k: v for k, v in terms.items() if not v > 0}
    if bad:
        raise ValueError(f'terms {bad} are not > 0 at the start: they '
                         'cannot be scaled to a share of the detection loss')
    per_term = share / len(terms)
    return {k: per_term * detection / v for k, v in terms.items()}


def calibrate(config: str, options: Sequence[str], out_dir: str,
              data_root: str, batches: int) -> Dict[str, object]:
    """The terms and detection loss of ``config`` at the start, measured
    once per settings (cached as JSON in ``out_dir``).

    Args:
        config (str): A distiller config, relative to the repository root.
        options (Sequence[str]): The row's ``--cfg-options``, the teacher's
            checkpoint among them.
        out_dir (str): Where the measurement is cached.
        data_root (str): The training data's root.
        batches (int): Training batches averaged over.

    Returns:
        dict: ``{'terms': {key: value}, 'detection': D}``.
    """
    key = runs.settings_hash(config, list(options), data_root, batches,
                             'calibrate')
    path = osp.join(out_dir, f'calibrate_{key}.json')
    if not osp.isfile(osp.join(runs.ROOT, path)):
        runs.run([
            sys.executable, '-m', 'bench.calibrate', config, '--batches',
            str(batches), '--data-root', data_root + '/', '--json', path,
            '--cfg-options'
        ] + list(options), osp.join(runs.ROOT, out_dir, 'calibrate.log'))
    with open(osp.join(runs.ROOT, path)) as f:
        return json.load(f)


def scaled_options(method: Dict[str, object],
                   reference: Dict[str, object]) -> List[str]:
    """``--cfg-options`` of a method's scaled row from the two
    measurements of :func:`calibrate`."""
    share = total_share(reference['terms'], reference['detection'])
    weights = scaled_weights(method['terms'], method['detection'], share)
    return [f'model.term_weights.{k}={w:.6g}' for k, w in weights.items()]


def scale_rows(methods: Dict[str, str], names: Sequence[str],
               options: Dict[str, List[str]], work_dir: str, data_root: str,
               batches: int) -> None:
    """Add each scaled row's term weights to its options (:func:`calibrate`
    of its published row and of DKD, at the start of training)."""
    scaled = [n for n in names if n.endswith(SCALED_SUFFIX)]
    if not scaled:
        return
    ref = REFERENCE
    reference = calibrate(methods[ref], options[ref], work_dir, data_root,
                          batches)
    for name in scaled:
        published = name[:-len(SCALED_SUFFIX)]
        measured = calibrate(methods[published], options[published], work_dir,
                             data_root, batches)
        options[name] = options[published] + scaled_options(
            measured, reference)
        print(
            f'{name}: ' + ' '.join(options[name][len(options[published]):]),
            flush=True)
