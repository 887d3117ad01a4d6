"""What bench/run.py's accuracy tables compare: the methods of the
single-stage table and the pairs of the ``--pair`` tables, each row's
``--cfg-options``, and the seed plan (how many seeds each row gets).

bench/cost.py's tables measure the same rows and pairs
(bench/cost_pairs.py).
"""
import importlib.util
from typing import Dict, List, Optional, Sequence

from bench import runs, scaling
from bench.data import NWPU, SYNTHETIC_DOTA, BenchData
from bench.runs import STUDENT, STUDENT_WIDTH

# The benchmark pair, the demo's (bench/runs.py): the project's teacher
# detector with a ResNet-18 backbone (a well-trained ResNet-50 teacher does not
# fit the CPU budget) and the project's ResNet-18 student at a quarter of its
# width.  Every method's config is used as it is, with the pair's options
# (`pair_options`) applied on the command line.
METHODS = {
    'student': STUDENT,
    # TSA alone (no teacher): separates the box loss from distillation.
    'student (TSA)':
    'configs/rotated_retinanet/rotated-retinanet_r18_fpn_tsa_synthetic.py',
    'fitnet':
    'configs/rotated_retinanet/fitnet_rotated-retinanet_r50-r18_synthetic.py',
    'fgd':
    'configs/rotated_retinanet/fgd_rotated-retinanet_r50-r18_synthetic.py',
    'pkd':
    'configs/rotated_retinanet/pkd_rotated-retinanet_r50-r18_synthetic.py',
    'cwd':
    'configs/rotated_retinanet/cwd_rotated-retinanet_r50-r18_synthetic.py',
    'dkd (GD)': 'configs/rotated_retinanet/'
    'ablation_gd_rotated-retinanet_r50-r18_synthetic.py',
    'dkd (GD+ISD)': 'configs/rotated_retinanet/'
    'ablation_gd-isd_rotated-retinanet_r50-r18_synthetic.py',
    'dkd (GD+ISD+TSA)':
    'configs/rotated_retinanet/dkd_rotated-retinanet_r50-r18_synthetic.py',
    # mmrazor 1.0.0's own FpnTeacherDistill + PKDLoss (the `bench` extra):
    # upstream's distiller, so neither the warm-up hook nor a scaled row.
    'mmrazor PKD': 'bench/configs/mmrazor_pkd_rotated-retinanet_synthetic.py',
}
# Each published baseline's scaled row follows it.
METHODS = {
    name: config
    for published, config in METHODS.items()
    for name in ((published, published + scaling.SCALED_SUFFIX
                  ) if published in scaling.SCALABLE else (published, ))
}
RAZOR = ('mmrazor PKD', )
BASELINES = tuple(
    n for n in METHODS if n.split(' (')[0] in scaling.SCALABLE) + RAZOR
# Shorter tables for the two-stage and anchor-free families and a horizontal
# pair (`--pair`): the project's ResNet-50 teacher and ResNet-18 student of
# each family, plain and with DKD, as the family's configs define them (with
# the options of their data, `PAIR_DATA`, for every row alike).
FAMILIES = {
    'oriented-rcnn':
    dict(
        teacher='configs/oriented_rcnn/oriented-rcnn_r50_fpn_synthetic.py',
        student='configs/oriented_rcnn/oriented-rcnn_r18_fpn_synthetic.py',
        dkd='configs/oriented_rcnn/dkd_oriented-rcnn_r50-r18_synthetic.py'),
    'rotated-fcos':
    dict(
        teacher='configs/rotated_fcos/rotated-fcos_r50_fpn_synthetic.py',
        student='configs/rotated_fcos/rotated-fcos_r18_fpn_synthetic.py',
        dkd='configs/rotated_fcos/dkd_rotated-fcos_r50-r18_synthetic.py'),
    'retinanet-nwpu':
    dict(
        teacher='configs/nwpu/retinanet_r50_fpn_scratch_nwpu.py',
        student='configs/nwpu/retinanet_r18_fpn_scratch_nwpu.py',
        dkd='configs/nwpu/dkd_retinanet_r50-r18_fpn_scratch_nwpu.py'),
    # The same teacher (its cached run is the one above: same settings
    # hash), the lite ResNet-18 student (128-channel neck and head).
    'retinanet-nwpu-lite':
    dict(
        teacher='configs/nwpu/retinanet_r50_fpn_scratch_nwpu.py',
        student='configs/nwpu/retinanet_r18-lite_fpn_scratch_nwpu.py',
        dkd='configs/nwpu/dkd_retinanet_r50-r18-lite_fpn_scratch_nwpu.py'),
}
# Pairs whose teacher is another pair's (same config, data and options):
# trained once, under that pair's work dir.
SHARED_TEACHER = {'retinanet-nwpu-lite': 'retinanet-nwpu'}
# The data of each pair; SYNTHETIC_DOTA where unlisted.
PAIR_DATA: Dict[str, BenchData] = {
    'retinanet-nwpu': NWPU,
    'retinanet-nwpu-lite': NWPU
}
# Seeds per method (the first N of --seeds): three for the plain student
# and DKD, two for DKD's ablations and TSA alone, one for the rest; and
# three for the STRONGEST baselines, ranked by their first seed's val mAP50.
SEED_COUNTS = {
    'student': 3,
    'dkd (GD+ISD+TSA)': 3,
    'dkd (GD)': 2,
    'dkd (GD+ISD)': 2,
    'student (TSA)': 2,
}
STRONGEST = 2
# Training batches the scaled rows' calibration averages over.
CALIBRATION_BATCHES = 8


def pair_options(name: str) -> List[str]:
    """Config options that make method ``name`` use the benchmark pair."""
    if name in RAZOR:  # mmrazor's config already names the teacher
        return [
            f'model.architecture.{k}={v}' for k, v in STUDENT_WIDTH.items()
        ]
    # A name starting with 'student' is a detector config, no distiller.
    return runs.pair_options(distiller=not name.startswith('student'))


def row_options(
    pair: str,
    name: str,
    teacher_ckpt: Optional[str] = None,
    distill_options: Sequence[str] = ()
) -> List[str]:
    """The ``--cfg-options`` of method ``name``'s runs ('teacher' for the
    teacher's) in ``pair``'s table: the options of the pair's data (every
    row alike), then, for the single-stage table, its pair's
    (:func:`pair_options`); a --pair family's configs are its pair as
    written.  A distillation row then takes the teacher's checkpoint, and
    a row of dkd_mm's distiller (not mmrazor's) ``distill_options``."""
    data = PAIR_DATA.get(pair, SYNTHETIC_DOTA)
    if name == 'teacher':
        return data.options(False)
    extra = data.options(not name.startswith('student'))
    if pair == 'rotated-retinanet':
        extra += pair_options(name)
    if name.startswith('student') or teacher_ckpt is None:
        return extra
    extra.append(f'model.teacher_ckpt={teacher_ckpt}')
    return extra + ([] if name in RAZOR else list(distill_options))


def available(methods) -> List[str]:
    """``methods`` without the mmrazor row where mmrazor is not installed."""
    return [
        m for m in methods
        if m not in RAZOR or importlib.util.find_spec('mmrazor')
    ]


def strongest(results: Dict[str, List[dict]],
              count: int = STRONGEST) -> List[str]:
    """The ``count`` baselines of ``results`` with the highest val mAP50
    of their first seed (the test split plays no part)."""
    ranked = sorted((n for n in results if n in BASELINES and results[n]),
                    key=lambda n: results[n][0]['val_mAP50'],
                    reverse=True)
    return ranked[:count]


def seed_count(name: str, strong: Sequence[str], seeds: int) -> int:
    """How many of the ``seeds`` method ``name`` is run with."""
    return seeds if name in strong else min(seeds, SEED_COUNTS.get(name, 1))
