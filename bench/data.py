"""The data sets of bench/run.py's tables: how each is made, the
``--cfg-options`` every row of its table trains and tests with, and the
classes it reports AP50 of.

Every table trains at 256 px with batch 4 on the iteration schedule of
``configs/_base_/schedules/synthetic_iter.py``: the rotated configs inherit
all of it; the NWPU VHR-10 configs (mmdet's 1x schedule, 800 px, batch 2) are
moved onto it by options, the same for teacher, student and DKD.
"""
import json
import os
import os.path as osp
import sys
from dataclasses import dataclass
from typing import Callable, List, Tuple

from bench import runs

# (key of bench/per_class_ap.py's result, column header) of the classes
# each table reports AP50 of: one long and thin, one small.
Columns = Tuple[Tuple[str, str], ...]


@dataclass(frozen=True)
class BenchData:
    """What a table trains and tests on.

    Args:
        name (str): For the report, e.g. 'synthetic DOTA'.
        root (str): Default data root (``quick_root`` with ``--quick``).
        quick_root (str): Default data root of ``--quick`` runs.
        make (Callable): ``make(root, quick, log_dir)`` writes the data.
        columns (Columns): Per-class AP50 columns of the table.
        val_options (tuple[str]): ``--cfg-options`` that point a config's
            test loader at the val split (every choice is made on val; the
            tables report test).
        options (Callable): ``options(distiller)``, the ``--cfg-options``
            of a row (``distiller``: a DKD row), teacher included. Defaults
            to none.
    """
    name: str
    root: str
    quick_root: str
    make: Callable[[str, bool, str], None]
    columns: Columns
    val_options: Tuple[str, ...]
    options: Callable[[bool], List[str]] = lambda distiller: []


def make_synthetic_dota(root: str, quick: bool, log_dir: str) -> None:
    """The embedded rotated data, split 'default' ('tiny' when ``quick``)."""
    runs.run([
        sys.executable, 'tools/data/make_synthetic_dota.py', '--out-dir', root,
        '--split', 'tiny' if quick else 'default', '--no-progress'
    ], osp.join(log_dir, 'data.log'))


SYNTHETIC_DOTA = BenchData(
    name='synthetic DOTA (tools/data/make_synthetic_dota.py: 400 train, '
    '100 val, 200 test images)',
    root='data/synthetic_dota',
    quick_root='data/synthetic_dota_tiny',
    make=make_synthetic_dota,
    columns=(('ship', 'AP50 ship (long thin)'),
             ('small-vehicle', 'AP50 small-vehicle (small)')),
    val_options=('test_dataloader.dataset.ann_file=val/annfiles/',
                 'test_dataloader.dataset.data_prefix.img_path=val/images/'))

# The NWPU-format sample (tools/data/nwpu/make_sample.py): every positive
# image holds three of the ten classes, so each class has about 0.3 objects
# per positive image; 'ship' (40 x 14 px) is the long thin class, 'vehicle'
# (12 x 18 px) the small one.  Split 0.6 / 0.2 / 0.2 (the split tool's
# default); the table tests on 'test'.
NWPU_SAMPLE = dict(num_pos=600, num_neg=60, seed=0, img_size=256)
NWPU_SAMPLE_QUICK = dict(num_pos=8, num_neg=2, seed=0, img_size=256)
NWPU_MARKER = 'bench_sample.json'
NWPU_BASE = 'configs/_base_/datasets/nwpu_vhr10.py'


def make_nwpu_sample(root: str, quick: bool, log_dir: str) -> None:
    """Write the NWPU-format sample and its split into ``root``.

    ``root`` must be empty or hold this very sample: the split lists every
    image in the folder, and the sample tool overwrites files of the same
    name (a real release there would be damaged).  A marker file records
    the sample's arguments.
    """
    sample = NWPU_SAMPLE_QUICK if quick else NWPU_SAMPLE
    marker = osp.join(runs.ROOT, root, NWPU_MARKER)
    if osp.isdir(osp.join(runs.ROOT, root)) and os.listdir(
            osp.join(runs.ROOT, root)):
        made = None
        if osp.isfile(marker):
            with open(marker) as f:
                made = json.load(f)
        if made != sample:
            raise SystemExit(
                f'{root} holds other data than the benchmark sample '
                f'{sample} ({NWPU_MARKER}: {made}); remove it or pass '
                'another --data-root')
    runs.run([
        sys.executable, 'tools/data/nwpu/make_sample.py', root, '--num-pos',
        str(sample['num_pos']), '--num-neg',
        str(sample['num_neg']), '--seed',
        str(sample['seed']), '--img-size',
        str(sample['img_size']), '--no-progress'
    ], osp.join(log_dir, 'data.log'))
    runs.run([
        sys.executable, 'tools/data/nwpu/make_split.py', root, '--ratios',
        '0.6', '0.2', '0.2', '--seed',
        str(sample['seed'])
    ], osp.join(log_dir, 'split.log'))
    with open(marker, 'w') as f:
        json.dump(sample, f)


def nwpu_options(distiller: bool) -> List[str]:
    """Batch 4 at 256 px (the sample's size), the benchmark's schedule and
    the data base's test metric, for a config built on :data:`NWPU_BASE`
    (``distiller``: a DKD config).

    The pipeline indices are the base's Resize steps.  The test metric is
    set whole from the base's ``nwpu_val_evaluator``: the NWPU configs'
    ``test_evaluator = val_evaluator`` keeps the keys of mmdet's CocoMetric
    (``ann_file``, ``format_only``, ``backend_args``), which VOCMetric
    refuses.
    """
    from mmengine.config import Config
    evaluator = Config.fromfile(osp.join(runs.ROOT,
                                         NWPU_BASE)).nwpu_val_evaluator
    return runs.epoch_to_iter_options(distiller) + [
        'train_dataloader.batch_size=4',
        'train_dataloader.dataset.pipeline.2.scale=(256,256)',
        'val_dataloader.dataset.pipeline.1.scale=(256,256)',
        'test_dataloader.dataset.pipeline.1.scale=(256,256)',
        'test_evaluator._delete_=True',
    ] + [
        f'test_evaluator.{k}={v}'
        for k, v in evaluator.items() if k != '_delete_'
    ]


NWPU = BenchData(
    name='NWPU-format sample (tools/data/nwpu/make_sample.py '
    f'{NWPU_SAMPLE}, split 0.6/0.2/0.2, tested on its test split)',
    root='data/nwpu_bench',
    quick_root='data/nwpu_bench_tiny',
    make=make_nwpu_sample,
    columns=(('ship', 'AP50 ship (long thin)'), ('vehicle',
                                                 'AP50 vehicle (small)')),
    val_options=('test_dataloader.dataset.ann_file=splits/val.txt', ),
    options=nwpu_options)
