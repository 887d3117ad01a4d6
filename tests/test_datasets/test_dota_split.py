"""DOTA split: windows, iof rule, names, padding, the command line tool
and its resume."""
import dkd_mm  # noqa: F401 isort: skip (Python 3.11 shim before mmrotate)

import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from shapely.geometry import MultiPoint, box

from dkd_mm.datasets.dota import RobustDOTADataset
from dkd_mm_data import dota_split_run
from dkd_mm_data.dota_split import (SplitSettings, parse_patch_name,
                                    patch_name, sliding_windows, split_image,
                                    window_iofs)
from dkd_mm_data.png_writer import stored_png
from tests.test_datasets.dota_sample import (CLASSES, SMALL, XS, YS,
                                             read_fields, write_sample)
from tests.test_tools.conftest import ROOT, run_tool


@pytest.fixture
def sample(tmp_path) -> str:
    return write_sample(str(tmp_path / 'dota'))


def _load_tool(path: str):
    spec = importlib.util.spec_from_file_location('dota_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_patch_names_round_trip():
    assert patch_name('P0001', 1024, 0, 824) == 'P0001__1024__0___824'
    assert parse_patch_name('P0001__1024__0___824') == ('P0001', 1024, 0, 824)
    # mmrotate cuts the id at the first '__'; the offsets are the last fields
    assert parse_patch_name('a__b__682__10___20') == ('a__b', 682, 10, 20)
    with pytest.raises(ValueError, match='not a patch name'):
        parse_patch_name('P0001')


def test_sliding_windows_single_and_multi_scale():
    wins = sliding_windows(300, 260, SMALL.window_sizes())
    assert sorted(map(tuple, wins[:, :2].tolist())) == sorted(
        (x, y) for x in XS for y in YS)
    assert ((wins[:, 2:] - wins[:, :2]) == 128).all()
    # rates 0.5 and 1: 256 px windows (step 192) join the 128 px ones.
    multi = SplitSettings(sizes=(128, ), gaps=(32, ), rates=(0.5, 1.0))
    assert multi.window_sizes() == [(256, 64), (128, 32)]
    wins = sliding_windows(300, 260, multi.window_sizes())
    big = sorted(map(tuple, wins[wins[:, 2] - wins[:, 0] == 256, :2]))
    assert len(wins) == 13 and big == [(0, 0), (0, 4), (44, 0), (44, 4)]
    # An image smaller than the window: one window, at 0 (then padded).
    assert sliding_windows(100, 90, [(128, 32)]).tolist() == [[0, 0, 128, 128]]
    with pytest.raises(ValueError, match='gap < size'):
        SplitSettings(sizes=(128, ), gaps=(128, ))


def test_split_keeps_objects_by_iof(sample, tmp_path):
    out = str(tmp_path / 'out')
    for sub in ('images', 'annfiles'):
        os.makedirs(osp.join(out, sub))
    result = split_image(
        osp.join(sample, 'images', 'P0001.png'),
        osp.join(sample, 'labelTxt', 'P0001.txt'), out, SMALL)
    assert sorted(result.patches) == sorted(f'P0001__128__{x}___{y}'
                                            for x in XS for y in YS)
    assert result.num_objects == 5 and len(result.issues) == 0
    first = read_fields(osp.join(out, 'annfiles', 'P0001__128__0___0.txt'))
    assert [(r[8], r[9]) for r in first] == [('plane', '0'), ('ship', '0'),
                                             ('small-vehicle', '1')]
    # The neighbour: the ship (iof 0.6) is dropped, the small vehicle
    # (iof 0.8) is kept whole, in patch coordinates, with difficulty 2.
    second = read_fields(osp.join(out, 'annfiles', 'P0001__128__96___0.txt'))
    assert second == [[
        '-6', '50', '24', '50', '24', '70', '-6', '70', 'small-vehicle', '2'
    ]]
    patch = cv2.imread(osp.join(out, 'images', 'P0001__128__172___132.png'))
    full = cv2.imread(osp.join(sample, 'images', 'P0001.png'))
    assert (patch == full[132:260, 172:300]).all()
    # A lower threshold keeps the ship (0.6 of it) in the neighbour too.
    low = SplitSettings(sizes=(128, ), gaps=(32, ), iof_thr=0.5)
    split_image(
        osp.join(sample, 'images', 'P0001.png'),
        osp.join(sample, 'labelTxt', 'P0001.txt'), out, low)
    second = read_fields(osp.join(out, 'annfiles', 'P0001__128__96___0.txt'))
    assert [(r[8], r[9]) for r in second] == [('ship', '2'),
                                              ('small-vehicle', '2')]


def test_window_iofs_equal_the_polygon_intersection():
    # Random quadrilaterals around three windows: wholly inside, across a
    # border, outside; the bounding-box shortcuts give what shapely does.
    rng = np.random.default_rng(0)
    centres = rng.uniform(-20, 320, (200, 1, 2))
    polys = (centres + rng.uniform(-15, 15, (200, 4, 2))).reshape(-1, 8)
    windows = np.array([[0, 0, 128, 128], [96, 0, 224, 128],
                        [172, 132, 300, 260]])
    iofs = window_iofs(polys, windows)
    for i, poly in enumerate(polys):
        hull = MultiPoint(poly.reshape(4, 2).tolist()).convex_hull
        for j, win in enumerate(windows):
            want = hull.intersection(box(*win)).area / hull.area
            assert iofs[i, j] == pytest.approx(want, abs=1e-12)
    assert (iofs == 1).any() and (iofs == 0).any()
    assert ((iofs > 0) & (iofs < 1)).any()


def test_split_writes_png_stored_or_as_opencv_does(sample, tmp_path):
    full = cv2.imread(osp.join(sample, 'images', 'P0001.png'))
    crop = full[132:260, 172:300]
    for compress, want in ((False, stored_png(crop)),
                           (True, cv2.imencode('.png', crop)[1].tobytes())):
        out = str(tmp_path / str(compress))
        for sub in ('images', 'annfiles'):
            os.makedirs(osp.join(out, sub))
        split_image(
            osp.join(sample, 'images', 'P0001.png'),
            osp.join(sample, 'labelTxt', 'P0001.txt'),
            out,
            SMALL,
            compress_png=compress)
        with open(osp.join(out, 'images', 'P0001__128__172___132.png'),
                  'rb') as f:
            assert f.read() == want


def test_split_pads_small_images_and_drops_bad_input(tmp_path):
    root, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    for sub in (osp.join(root, 'img'), osp.join(root, 'ann'),
                osp.join(out, 'images'), osp.join(out, 'annfiles')):
        os.makedirs(sub)
    img = np.full((90, 100, 3), 7, np.uint8)
    cv2.imwrite(osp.join(root, 'img', 'small.tif'), img)
    with open(osp.join(root, 'ann', 'small.txt'), 'w') as f:
        f.write('gsd:null\n10 10 30 10 30 30 10 30 plane\n10 10 30 oops\n'
                '5 5 5 5 5 5 5 5 ship 0\n')
    result = split_image(
        osp.join(root, 'img', 'small.tif'), osp.join(root, 'ann', 'small.txt'),
        out, SMALL)
    assert result.patches == ['small__128__0___0']
    patch = cv2.imread(osp.join(out, 'images', 'small__128__0___0.png'))
    assert patch.shape == (128, 128, 3)
    assert (patch[:90, :100] == 7).all()
    assert (patch[90:] == (104, 116, 124)).all()  # BGR padding value
    assert (patch[:, 100:] == (104, 116, 124)).all()
    assert dict(result.issues.counts) == {'malformed': 1, 'degenerate': 1}
    lines = read_fields(osp.join(out, 'annfiles', 'small__128__0___0.txt'))
    assert lines == [[
        '10', '10', '30', '10', '30', '30', '10', '30', 'plane', '0'
    ]]  # a missing difficulty is 0
    os.remove(osp.join(root, 'ann', 'small.txt'))
    result = split_image(
        osp.join(root, 'img', 'small.tif'), osp.join(root, 'ann', 'small.txt'),
        out, SMALL)
    assert result.patches == [] and result.issues.counts['missing_label'] == 1


def test_split_tool_runs_without_torch(sample, tmp_path):
    # A fresh interpreter, as a user starts the tool: it splits with its
    # worker pool, and neither torch nor the OpenMMLab packages (which
    # `import dkd_mm` registers) were imported, nor dkd_mm itself.
    code = ('import runpy, sys; sys.argv[0] = "split.py"; '
            'runpy.run_path("tools/data/dota/split.py", run_name="__main__"); '
            'heavy = ("torch", "mmcv", "mmdet", "mmrotate", "mmengine", '
            '"dkd_mm"); '
            'print("heavy:", [m for m in heavy if m in sys.modules])')
    out = str(tmp_path / 'split')
    log = run_tool([
        '-c', code, '--img-dirs',
        osp.join(sample, 'images'), '--ann-dirs',
        osp.join(sample, 'labelTxt'), '--save-dir', out, '--sizes', '128',
        '--gaps', '32', '--nproc', '2'
    ])
    assert 'heavy: []' in log
    assert len(os.listdir(osp.join(out, 'images'))) == 2 * len(XS) * len(YS)


def test_split_tool_base_json_gives_defaults(tmp_path):
    tool = _load_tool(osp.join(ROOT, 'tools', 'data', 'dota', 'split.py'))
    # The tool is a command line over the package's own split.
    assert tool.split_folders is dota_split_run.split_folders
    base = tmp_path / 'ms.json'
    base.write_text(
        json.dumps(
            dict(
                img_dirs=['a/images'],
                save_dir='out',
                rates=[0.5, 1.0],
                nproc=99,
                unknown_key=1)))
    args = tool.parse_args(['--base-json', str(base), '--gaps', '100'])
    assert args.img_dirs == ['a/images'] and args.save_dir == 'out'
    assert args.rates == [0.5, 1.0]
    assert args.gaps == [100]  # a flag on the command line wins
    assert args.nproc != 99  # a json's nproc is ignored
    assert not hasattr(args, 'unknown_key')
    args = tool.parse_args(
        ['--base-json',
         str(base), '--rates', '1.5', '--save-dir', 'x'])
    assert args.rates == [1.5] and args.save_dir == 'x'


@pytest.mark.slow
def test_split_tool_names_dataset_and_resume(sample, tmp_path, capsys):
    out = str(tmp_path / 'split')
    args = [
        '--img-dirs',
        osp.join(sample, 'images'), '--ann-dirs',
        osp.join(sample, 'labelTxt'), '--save-dir', out, '--sizes', '128',
        '--gaps', '32'
    ]
    log = run_tool(['tools/data/dota/split.py', '--nproc', '2'] + args)
    assert '0 already split, 2 to split' in log
    names = sorted(os.listdir(osp.join(out, 'images')))
    assert names == sorted(f'{i}__128__{x}___{y}.png'
                           for i in ('P0001', 'P0002') for x in XS for y in YS)
    dataset = RobustDOTADataset(
        data_root=out,
        ann_file='annfiles/',
        data_prefix=dict(img_path='images/'),
        metainfo=dict(classes=CLASSES),
        pipeline=[])
    assert len(dataset) == 18 and len(dataset.label_issues) == 0
    assert dataset[0]['height'] == dataset[0]['width'] == 128

    tool = _load_tool(osp.join(ROOT, 'tools', 'data', 'dota', 'split.py'))
    done = osp.join(out, 'split_done.jsonl')
    with open(done) as f:
        entries = f.read().splitlines()
    first = [e for e in entries if '"P0001"' in e][0]

    def mtimes(img_id: str) -> dict:
        return {
            n: os.stat(osp.join(out, 'images', n)).st_mtime_ns
            for n in names if n.startswith(img_id)
        }

    # Killed after P0001 was recorded, in the middle of P0002.
    with open(done, 'w') as f:
        f.write(first + '\n{"img_id": "P00')
    os.remove(osp.join(out, 'images', 'P0002__128__172___132.png'))
    before = mtimes('P0001')
    capsys.readouterr()
    tool.main(args + ['--nproc', '1'])
    assert '1 already split, 1 to split' in capsys.readouterr().out
    assert mtimes('P0001') == before
    assert sorted(os.listdir(osp.join(out, 'images'))) == names
    # A patch deleted later: only its image is split again.
    os.remove(osp.join(out, 'annfiles', 'P0001__128__0___0.txt'))
    before = mtimes('P0002')
    tool.main(args + ['--nproc', '1'])
    assert '1 already split, 1 to split' in capsys.readouterr().out
    assert mtimes('P0002') == before
    assert osp.isfile(osp.join(out, 'annfiles', 'P0001__128__0___0.txt'))
    tool.main(args + ['--nproc', '1'])
    assert '2 already split, 0 to split' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='other settings'):
        tool.main(args[:-1] + ['48'])
