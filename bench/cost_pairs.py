"""Which models bench/cost.py's per-family tables measure: each family's
benchmark pair as bench/run.py trains it (``FAMILIES``, its single-stage
pair, each row's ``--cfg-options`` from ``row_options``), the data of each
pair's table, and bench/run.py's checkpoints of the pair.

Inference only: ``dota-rotated-retinanet`` is configs/dota's rotated
RetinaNet, ResNet-50 teacher against ResNet-18 student, ImageNet init off,
on the rotated-retinanet family's images, and
``dota-rotated-retinanet-lite`` that pair with the lite ResNet-18 student
(128-channel neck and head; random weights).
"""
import os.path as osp
from typing import Dict, List, Optional, Tuple

from bench import runs
from bench.data import SYNTHETIC_DOTA, BenchData
from bench.methods import (FAMILIES, METHODS, PAIR_DATA, SHARED_TEACHER,
                           row_options)
from bench.runs import TEACHER

SINGLE_STAGE = 'rotated-retinanet'
DOTA_PAIR = 'dota-rotated-retinanet'
FAMILY_NAMES = [SINGLE_STAGE] + list(FAMILIES)
DOTA_CONFIGS = dict(
    teacher='configs/dota/rotated-retinanet-le90_r50_fpn_1x_dota.py',
    student='configs/dota/rotated-retinanet-le90_r18_fpn_1x_dota.py')
# Inference-only pairs: a pair whose student is the lite one (ResNet-18,
# 128-channel neck and head), on the data of the family it derives from
# (bench/run.py's retinanet-nwpu-lite is a family of its own).
LITE_STUDENTS = {
    DOTA_PAIR + '-lite':
    (DOTA_PAIR, 'configs/dota/rotated-retinanet-le90_r18-lite_fpn_1x_dota.py')
}
INFERENCE_NAMES = FAMILY_NAMES + [DOTA_PAIR, *LITE_STUDENTS]
# bench/run.py's row names and default iterations (single-stage table,
# --pair families), under which its checkpoints are cached.
ROW_NAMES = dict(teacher='teacher', student='student', dkd='dkd (GD+ISD+TSA)')
RUN_ITERS = {
    True: dict(teacher=800, student=400),
    False: dict(teacher=400, student=200)
}


def pair(family: str) -> Dict[str, Tuple[str, List[str]]]:
    """Role ('teacher', 'student', 'dkd') -> (config, ``--cfg-options``) of
    ``family``'s benchmark pair, as bench/run.py trains its rows (a lite
    pair: teacher and student only, the student the lite config with the
    options of the pair it derives from)."""
    if family in LITE_STUDENTS:
        base, student = LITE_STUDENTS[family]
        configs = pair(base)
        return dict(
            teacher=configs['teacher'],
            student=(student, configs['student'][1]))
    if family == DOTA_PAIR:
        return {
            role: (config, ['model.backbone.init_cfg=None'])
            for role, config in DOTA_CONFIGS.items()
        }
    configs = FAMILIES.get(family) or dict(
        teacher=TEACHER,
        student=METHODS['student'],
        dkd=METHODS[ROW_NAMES['dkd']])
    return {
        role: (config, row_options(family, ROW_NAMES[role]))
        for role, config in configs.items()
    }


def data_family(family: str) -> str:
    """The family whose data (and data options) ``family`` runs on."""
    family = LITE_STUDENTS.get(family, (family, ))[0]
    return SINGLE_STAGE if family == DOTA_PAIR else family


def bench_data(family: str) -> BenchData:
    return PAIR_DATA.get(data_family(family), SYNTHETIC_DOTA)


def trained_ckpt(family: str, role: str, work_dirs: str) -> Optional[str]:
    """bench/run.py's checkpoint of ``family``'s 'teacher' or 'student'
    (seed 0, its default iterations and data), found by its settings hash
    under ``work_dirs``; None where it was not trained (a lite pair's
    student, the DOTA pair)."""
    if family in LITE_STUDENTS:
        if role != 'teacher':
            return None
        return trained_ckpt(LITE_STUDENTS[family][0], role, work_dirs)
    if family == DOTA_PAIR:
        return None
    single = family == SINGLE_STAGE
    configs = pair(family)
    config, extra = configs[role]
    if role == 'teacher':
        family = SHARED_TEACHER.get(family, family)
    out_dir = osp.join(work_dirs, 'bench' if single else f'bench_{family}',
                       f'{role}_s0')
    return runs.train(
        config,
        out_dir,
        RUN_ITERS[single][role],
        0,
        bench_data(family).root,
        extra,
        configs['teacher'][0],
        cached_only=True)
