"""bench/cost.py's per-family modes: the staged inference split, the input
mosaics, the memory probe, and both modes end to end in --quick form."""
import os.path as osp
import re

import pytest
import torch

from bench import runs
from bench.cost_common import load_config
from bench.cost_inference import mosaics
from bench.cost_memory import PeakMemory
from bench.cost_pairs import (DOTA_PAIR, FAMILY_NAMES, INFERENCE_NAMES,
                              LITE_STUDENTS, data_family, pair, trained_ckpt)
from bench.inference_stages import (network_gflops, same_as_predict,
                                    staged_predict)
from bench.methods import FAMILIES as run_families
from bench.methods import PAIR_DATA, SHARED_TEACHER, row_options
from bench.runs import ROOT
from dkd_mm.distillers.context import is_dense
from tests.test_tools.conftest import run_tool


def _detector(family: str):
    """The family's benchmark student, PyTorch's default initialisation
    (not ``init_weights``): hundreds of random boxes pass the score
    threshold, so NMS has work to do."""
    from mmdet.structures import DetDataSample

    from dkd_mm.registry import MODELS
    torch.manual_seed(0)
    config, options = pair(family)['student']
    detector = MODELS.build(load_config(config, options).model).eval()
    shape = (128, 128)
    sample = DetDataSample(
        metainfo=dict(
            img_shape=shape,
            ori_shape=shape,
            pad_shape=shape,
            batch_input_shape=shape,
            scale_factor=(1.0, 1.0)))
    return detector, torch.randn(1, 3, *shape), [sample]


FAMILIES = ['rotated-retinanet', 'rotated-fcos', 'oriented-rcnn']


@pytest.mark.parametrize('family', FAMILIES)
def test_staged_prediction_is_the_detectors_own(family):
    detector, inputs, samples = _detector(family)
    assert is_dense(detector) == (family != 'oriented-rcnn')
    results, network_s, post_s = staged_predict(detector, inputs, samples)
    assert len(results[0]) > 0  # NMS ran on real candidates
    assert network_s > 0 and post_s > 0
    assert same_as_predict(detector, inputs, samples)
    small, large = network_gflops(detector, 128), network_gflops(detector, 256)
    assert 0 < small['backbone_gflops'] < small['gflops']
    # Convolutions: four times the pixels, four times the FLOPs.
    assert large['backbone_gflops'] == pytest.approx(
        4 * small['backbone_gflops'], rel=1e-3)
    if small['rois']:  # the RoI head's share is per proposal, not pixel
        assert small['rois'] == detector.test_cfg.rpn.max_per_img
        assert small['gflops'] < large['gflops'] < 4 * small['gflops']
    else:
        assert large['gflops'] == pytest.approx(4 * small['gflops'], rel=1e-3)


def test_same_as_predict_sees_a_different_result(monkeypatch):
    # The control: a predict whose scores differ from the stages' is caught.
    detector, inputs, samples = _detector('rotated-retinanet')
    own = detector.predict

    def halved(*args, **kwargs):
        out = own(*args, **kwargs)
        for sample in out:
            sample.pred_instances.scores = sample.pred_instances.scores / 2
        return out

    monkeypatch.setattr(detector, 'predict', halved)
    assert not same_as_predict(detector, inputs, samples)


def test_mosaics_tile_the_images_in_reading_order():
    tiles = [torch.full((3, 64, 64), float(i)) for i in range(9)]
    batches = [torch.stack(tiles[i:i + 3]) for i in range(0, 9, 3)]

    def preprocess(batch, training):
        assert not training
        return dict(inputs=batch)

    (image, sample), = mosaics(batches, preprocess, 128, 1)
    assert image.shape == (1, 3, 128, 128)
    # 2 x 2 tiles: 0 1 / 2 3.
    assert image[0, :, :64, :64].eq(0).all()
    assert image[0, :, :64, 64:].eq(1).all()
    assert image[0, :, 64:, :64].eq(2).all()
    assert image[0, :, 64:, 64:].eq(3).all()
    assert sample.batch_input_shape == (128, 128)
    assert sample.scale_factor == (1.0, 1.0)
    # Two inputs take the next four tiles (from the repeated batches);
    # a side that is no multiple of the tile is resized.
    second = mosaics(batches * 2, preprocess, 100, 2)[1][0]
    assert second.shape == (1, 3, 100, 100)
    assert second[0, 0, 0, 0] == 4 and second[0, 0, -1, -1] == 7


def check_peak_memory_counts_from_start_only() -> None:
    """The probe's checks; run in a fresh process (below): memory that an
    earlier test's allocator kept resident would hide the growth."""
    # Tensors above glibc's largest mmap threshold (32 MB) get fresh pages
    # and give them back when freed.
    probe = PeakMemory('cpu')
    big = torch.ones(96 * 2**20)  # 384 MB, written: resident
    del big
    probe.start()
    small = torch.ones(24 * 2**20)  # 96 MB
    if probe.peak_mb() is None:
        print('SKIP: no /proc/self/clear_refs here')
        return
    # The earlier 384 MB peak is not counted; the 96 MB are.
    assert 90 < probe.growth_mb() < 300
    del small
    probe.start()
    big = torch.ones(96 * 2**20)
    assert big[-1] == 1
    assert 380 < probe.growth_mb() < 600
    assert probe.peak_mb() >= probe.baseline_mb + 380


def test_peak_memory_counts_from_start_only():
    out = run_tool([
        '-c', 'from tests.test_bench.test_cost_families import '
        'check_peak_memory_counts_from_start_only as check; check()'
    ])
    if out.startswith('SKIP'):
        pytest.skip(out.strip())


def test_pairs_are_bench_runs_and_the_dota_pair_has_no_imagenet_init():
    assert set(FAMILY_NAMES) < set(INFERENCE_NAMES)
    for family in INFERENCE_NAMES:
        for config, _ in pair(family).values():
            assert osp.isfile(osp.join(ROOT, config)), config
    assert set(pair(DOTA_PAIR)) == {'teacher', 'student'}
    assert pair(DOTA_PAIR)['teacher'][1] == ['model.backbone.init_cfg=None']
    # The single-stage pair is bench/run.py's quarter-width student.
    assert any('base_channels=16' in o
               for o in pair('rotated-retinanet')['dkd'][1])


def test_lite_pairs_swap_only_the_student(tmp_path):
    assert set(LITE_STUDENTS) == {'dota-rotated-retinanet-lite'}
    for lite, (base, student) in LITE_STUDENTS.items():
        assert lite in INFERENCE_NAMES and lite not in FAMILY_NAMES
        assert pair(lite) == dict(
            teacher=pair(base)['teacher'],
            student=(student, pair(base)['student'][1]))
        assert data_family(lite) == data_family(base)
        assert '-lite_' in student
        # No trained lite student: random weights, never the base's.
        assert trained_ckpt(lite, 'student', str(tmp_path)) is None


def test_a_shared_teacher_is_found_under_its_own_pair(monkeypatch):
    # retinanet-nwpu-lite trains no teacher of its own: bench/run.py caches
    # it under retinanet-nwpu's work dir, with the same settings hash.
    assert SHARED_TEACHER == {'retinanet-nwpu-lite': 'retinanet-nwpu'}
    for family, owner in SHARED_TEACHER.items():
        assert run_families[family]['teacher'] == run_families[owner][
            'teacher']
        assert PAIR_DATA[family] is PAIR_DATA[owner]
        assert row_options(family, 'teacher') == row_options(owner, 'teacher')
    asked = []
    monkeypatch.setattr(runs, 'train',
                        lambda config, out_dir, *a, **k: asked.append(out_dir))
    trained_ckpt('retinanet-nwpu-lite', 'teacher', 'wd')
    trained_ckpt('retinanet-nwpu-lite', 'student', 'wd')
    assert asked == [
        osp.join('wd', 'bench_retinanet-nwpu', 'teacher_s0'),
        osp.join('wd', 'bench_retinanet-nwpu-lite', 'student_s0')
    ]


def _cells(out: str, row: str) -> list:
    line = [x for x in out.splitlines() if x.startswith(f'| {row} |')][-1]
    return [c.strip() for c in line.strip('|').split('|')]


@pytest.mark.slow
def test_quick_family_overhead(tiny_data, tmp_path):
    out = run_tool([
        '-m', 'bench.cost', '--family', 'rotated-retinanet', '--quick',
        '--data-root', tiny_data, '--out',
        str(tmp_path / 'bench.md')
    ])
    teacher = _cells(out, 'teacher forward (no grad)')
    student = _cells(out, 'student')
    base = float(teacher[1]) + float(student[1])
    for where in ('predictions', 'the loss pass'):
        name = f'dkd (GD+ISD+TSA), ISD from {where}'
        dkd = _cells(out, name)
        # The ratio columns are the rows' own numbers (rounded as printed).
        assert float(dkd[2]) == pytest.approx(float(dkd[1]) / base, abs=0.02)
        assert float(dkd[4]) == pytest.approx(
            float(dkd[3]) / float(student[3]), abs=0.02)
        # The DKD process holds both models, the student's only one.
        assert float(dkd[3]) > float(student[3]) > 0
        assert re.search(
            re.escape(name) + r': DKD / \(student \+ teacher forward\) = '
            r'[\d.]+ \(target <= 1.15: (met|MISSED)\)', out)
    assert float(student[4]) == 1.0
    # The teacher's predict path is measured too (one step under --quick:
    # which of the two is longer is a benchmark's question, not a test's).
    predict = _cells(out, 'teacher predict (no grad, ISD\'s)')
    assert float(predict[1]) > 0 and float(predict[3]) > 0
    assert not osp.exists(tmp_path / 'bench.md')  # --quick writes nothing


@pytest.mark.slow
def test_quick_inference(tiny_data):
    out = run_tool([
        '-m', 'bench.cost', '--inference-1024', '--family',
        'rotated-retinanet', '--quick', '--size', '128', '--data-root',
        tiny_data
    ])
    assert 'GFLOPs (128 px)' in out
    assert '(1 x 1 tiles of 256 px, resized to 128 px)' in out
    teacher, student = _cells(out, 'teacher'), _cells(out, 'student')
    assert teacher[1] == student[1] == 'random'
    assert float(student[2]) < float(teacher[2])  # params
    assert float(student[3]) < float(teacher[3])  # FLOPs
    # Network seconds per image, printed to 3 decimals.
    speedup = re.search(
        r'speed-up \(teacher network time / student.s\) '
        r'= ([\d.]+)x', out)
    assert float(speedup.group(1)) == pytest.approx(
        float(teacher[5]) / float(student[5]), rel=0.2)
