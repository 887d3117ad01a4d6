"""bench/demo.py, the main job: its pictures stage (bench/demo_pictures.py)
on hand-made arrays and with the tools faked, then ``--quick`` end to
end."""
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest

from bench import demo_pictures, runs
from bench.demo_pictures import LABEL_HEIGHT, SIDE_BY_SIDE, Run, side_by_side
from tests.test_tools.conftest import run_tool

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def test_side_by_side_adds_widths_under_labels():
    # Two 10 x 20 panels (grey 50 and 150) enlarged to at least 35 px
    # wide: factor ceil(35 / 20) = 2, so 20 x 40 each, 80 px together.
    panels = [np.full((10, 20, 3), v, np.uint8) for v in (50, 150)]
    square = np.array([[[2, 2], [8, 2], [8, 6], [2, 6]]], np.float64)
    picture = side_by_side(panels, ['plain', 'DKD'], square, min_width=35)
    assert picture.shape == (LABEL_HEIGHT + 20, 80, 3)
    band, body = picture[:LABEL_HEIGHT], picture[LABEL_HEIGHT:]
    # A label over each panel: white text on black in each half.
    for half in (band[:, :40], band[:, 40:]):
        assert half.max() > 200 and np.median(half) == 0
    # The panels, side by side and in order; the ground truth outlined in
    # white on both, its top edge at y = 4 from x = 4 to 16 once
    # enlarged, its inside left as it was.
    assert (body[15, 15] == 50).all() and (body[15, 55] == 150).all()
    assert (body[4, 4:17] == 255).all() and (body[4, 44:57] == 255).all()
    assert (body[0, :40] == 50).all() and (body[:, 30] == 50).all()


def test_side_by_side_needs_one_height_and_a_label_each():
    with pytest.raises(ValueError, match='different heights'):
        side_by_side([np.zeros(
            (4, 4, 3), np.uint8)] * 2 + [np.zeros((5, 4, 3), np.uint8)],
                     ['a', 'b', 'c'])
    with pytest.raises(ValueError, match='2 panels for 1 labels'):
        side_by_side([np.zeros((4, 4, 3), np.uint8)] * 2, ['a'])


@pytest.fixture
def pictures_args(tmp_path):
    """make_pictures' arguments on a one-image test split, in ``tmp_path``
    (absolute paths, as runs.ROOT joins them)."""
    data = tmp_path / 'data'
    os.makedirs(data / 'test' / 'images')
    os.makedirs(data / 'test' / 'annfiles')
    cv2.imwrite(
        str(data / 'test' / 'images' / 'b.png'), np.zeros((32, 48, 3),
                                                          np.uint8))
    cv2.imwrite(
        str(data / 'test' / 'images' / 'a.png'), np.zeros((32, 48, 3),
                                                          np.uint8))
    (data / 'test' / 'annfiles' /
     'a.txt').write_text('4 4 20 4 20 12 4 12 ship 0\n')
    dkd = Run('DKD student', 'dkd.py', 'dkd.pth', ['a=1'])
    plain = Run('plain student', 'student.py', 'student.pth', ['b=2'])
    return dkd, plain, 'teacher.pth', str(data), str(tmp_path / 'pictures')


def fake_tools(calls):
    """A runs.run that does what the two tools write, and counts calls."""

    def run(cmd, log):
        calls.append(cmd)
        if 'tools.analysis.vis_distill' in cmd:
            out = cmd[cmd.index('--out-dir') + 1]
            for name in ('P4', 'P3', 'isd'):
                cv2.imwrite(
                    osp.join(out, f'a_{name}.png'),
                    np.zeros((8, 8, 3), np.uint8))
        else:
            cv2.imwrite(cmd[cmd.index('--out-file') + 1],
                        np.zeros((32, 48, 3), np.uint8))
            with open(log, 'w') as f:
                f.write('3 detections with score >= 0.5 (9 in all) drawn')

    return run


def test_pictures_of_the_first_test_image_cached(pictures_args, monkeypatch):
    calls = []
    monkeypatch.setattr(runs, 'run', fake_tools(calls))
    dkd, plain, teacher, data, out = pictures_args
    pictures, warnings = demo_pictures.make_pictures(*pictures_args, 0.5)
    assert warnings == []
    assert [p.what for p in pictures] == [
        'GD masks and weights, P3', 'GD masks and weights, P4',
        'ISD selection', 'plain student vs DKD student, detections with '
        'score >= 0.5 (ground truth in white)'
    ]
    assert [osp.basename(p.path) for p in pictures
            ] == ['a_P3.png', 'a_P4.png', 'a_isd.png', SIDE_BY_SIDE]
    # vis_distill.py: the DKD run with its options, its teacher and the
    # test split as the val set (the image's ground truth); image_demo.py
    # once per student, the plain one first, one threshold.
    image = osp.join(data, 'test', 'images', 'a.png')
    vis, first, second = calls
    assert vis[vis.index('-m') + 1:vis.index('--cfg-options') + 2] == [
        'tools.analysis.vis_distill', 'dkd.py', 'dkd.pth', '--images', image,
        '--out-dir', out, '--teacher-ckpt', teacher, '--cfg-options', 'a=1'
    ]
    assert 'val_dataloader.dataset.ann_file=test/annfiles/' in vis
    for cmd, run in ((first, plain), (second, dkd)):
        assert cmd[cmd.index('-m') + 1:cmd.index('--out-file')] == [
            'tools.analysis.image_demo', run.config, run.checkpoint, image
        ]
        assert cmd[cmd.index('--score-thr'):] == [
            '--score-thr', '0.5', '--cfg-options'
        ] + run.options
    picture = cv2.imread(pictures[-1].path)
    # 48 px panels enlarged 8 times to reach 384 px, side by side
    assert picture.shape == (LABEL_HEIGHT + 8 * 32, 2 * 8 * 48, 3)
    # Cached: the same settings draw nothing again.
    again, _ = demo_pictures.make_pictures(*pictures_args, 0.5)
    assert again == pictures and len(calls) == 3
    # Another threshold draws the side-by-side picture only.
    demo_pictures.make_pictures(*pictures_args, 0.4)
    assert len(calls) == 5


def test_a_failed_picture_is_a_warning(pictures_args, monkeypatch, capsys):
    calls = []
    fake = fake_tools(calls)

    def failing(cmd, log):
        if 'tools.analysis.image_demo' in cmd:
            raise SystemExit(f'stage failed (1); see {log}')
        fake(cmd, log)

    monkeypatch.setattr(runs, 'run', failing)
    pictures, warnings = demo_pictures.make_pictures(*pictures_args)
    assert [p.what for p in pictures][-1] == 'ISD selection'
    log = osp.join(pictures_args[-1], 'image_demo_plain_student.log')
    assert warnings == [
        'WARNING: no side-by-side picture: SystemExit: stage failed (1); '
        f'see {log}'
    ]
    assert warnings[0] in capsys.readouterr().out


@pytest.mark.slow
def test_quick_demo_tables_and_draws(tmp_path):
    """``python -m bench.demo --quick``: the table, then the pictures of
    the first test image, their paths printed after it."""
    work_dir = str(tmp_path / 'demo')
    out = run_tool([
        '-m', 'bench.demo', '--quick', '--work-dir', work_dir, '--data-root',
        str(tmp_path / 'data')
    ],
                   timeout=900)
    work_dir += '_quick'
    table = out.index('| model | DOTA mAP (IoU 0.5) |')
    assert 'WARNING' not in out
    tail = out[table:]
    printed = re.findall(r'^  [^:\n]+: (\S+\.png)$', tail, re.M)
    pictures = osp.join(work_dir, 'pictures')
    stem = 'test_00000'
    expected = [
        osp.join(pictures, f'{stem}_P{level}.png') for level in range(3, 8)
    ] + [
        osp.join(pictures, f'{stem}_isd.png'),
        osp.join(pictures, SIDE_BY_SIDE)
    ]
    assert printed == expected
    for path in printed:
        with open(path, 'rb') as f:
            assert f.read(8) == PNG_SIGNATURE, path
        image = cv2.imread(path)
        # the tiny split's 128 px images, 256 px through the pipeline
        assert image.shape[0] >= 128 and image.shape[1] >= 256, path
    # Two students' 128 px drawings, each enlarged 3 times (384 px).
    one = cv2.imread(osp.join(pictures, 'plain_student.png'))
    side = cv2.imread(printed[-1])
    assert one.shape == (128, 128, 3)
    assert side.shape == (LABEL_HEIGHT + 3 * 128, 2 * 3 * 128, 3)
    assert f'score >= 0.3 (ground truth in white): {printed[-1]}' in tail
