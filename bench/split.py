"""DOTA split throughput: dkd_mm's tool against mmrotate's, same outputs.

    python -m bench.split [--mmrotate-dir PATH] [--nproc 2] [--write]

Full-size DOTA-format scenes (:mod:`dkd_mm.testing.dota_sample`; 12 of
2048 x 1536 and 1536 x 2048 px by default, or ``--img-dir``/``--ann-dir``)
are split into 1024 px patches (gap 200) by ``tools/data/dota/split.py``
and by mmrotate dev-1.x's ``tools/data/dota/split/img_split.py``
(``--mmrotate-dir``, a checkout; without it that row is skipped), each as a
user runs it: a fresh process with the same ``--nproc`` and settings, into
an empty folder, timed whole (start-up included), median of ``--runs``
runs, the tools taking turns (dkd_mm also with ``--compress-png``, as
mmrotate writes PNG files).  Then every patch of the last runs is
compared: pixels (decoded), and each label file's boxes (within 0.01 px:
mmrotate writes float32, dkd_mm two decimals), classes and difficulties.
One difference is expected and counted apart: mmrotate marks an object
truncated (difficulty 2) when its float32 iof is below 1, which happens to
objects wholly inside the patch (:mod:`dkd_mm_data.dota_split`).  With
``--write`` the table goes to docs/benchmarks.md between
``<!-- bench/split.py -->`` markers.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOL = osp.join(ROOT, 'tools', 'data', 'dota', 'split.py')
UPSTREAM = osp.join('tools', 'data', 'dota', 'split', 'img_split.py')
MARKER = '<!-- bench/split.py -->'
# Coordinates: mmrotate writes str(float32), dkd_mm rounds to 2 decimals.
BOX_ATOL = 0.01
SAME = 'Same outputs but for those float32 truncations.'
Label = Tuple[Tuple[float, ...], str, int]
PATCH_NAME = re.compile(r'^.+__(\d+)__\d+___\d+$')  # <id>__<size>__<x>___<y>


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add('--mmrotate-dir',
        help='checkout of mmrotate dev-1.x (its '
        f'{UPSTREAM}); without it the upstream row is skipped')
    add('--img-dir', help='original images (default: generated scenes)')
    add('--ann-dir', help='their DOTA label files (with --img-dir)')
    add('--num-images', type=int, default=12, help='scenes to generate')
    add('--scene-sizes',
        nargs='+',
        default=['2048x1536', '1536x2048'],
        help='WxH of the generated scenes (multiples of 256), in turn; '
        'the defaults put window borders (at 824 px) across objects; with '
        'e.g. 1792 px every border falls between the scenes\' 256 px tiles, '
        'so no object is cut')
    add('--window', type=int, default=1024, help='patch size (--sizes)')
    add('--gap', type=int, default=200, help='overlap (--gaps)')
    add('--nproc', type=int, default=2)
    add('--runs', type=int, default=5, help='timed runs of each tool')
    add('--work-dir', default=osp.join(ROOT, 'work_dirs', 'bench_split'))
    add('--write',
        action='store_true',
        help='write the table to docs/benchmarks.md')
    add('--out', default=osp.join(ROOT, 'docs', 'benchmarks.md'))
    args = parser.parse_args(argv)
    if (args.img_dir is None) != (args.ann_dir is None):
        parser.error('--img-dir and --ann-dir go together')
    return args


def make_scenes(root: str, num: int, sizes: Sequence[str]) -> Tuple[str, str]:
    """``num`` generated scenes under ``root/train/{images,labelTxt}``,
    kept for the next run while ``num`` and ``sizes`` are the same."""
    wh = [tuple(int(v) for v in s.split('x')) for s in sizes]
    settings = dict(num=num, sizes=wh, seed=0)
    record = osp.join(root, 'scenes.json')
    img_dir = osp.join(root, 'train', 'images')
    ann_dir = osp.join(root, 'train', 'labelTxt')
    if osp.isfile(record):
        with open(record) as f:
            if json.load(f) == json.loads(json.dumps(settings)):
                return img_dir, ann_dir
    from dkd_mm.testing.dota_sample import write_dota_scenes
    shutil.rmtree(root, ignore_errors=True)
    write_dota_scenes(
        root, sizes=[wh[i % len(wh)] for i in range(num)], num_val=0)
    with open(record, 'w') as f:
        json.dump(settings, f)
    return img_dir, ann_dir


def split_args(img_dir: str, ann_dir: str, save_dir: str, window: int,
               gap: int, nproc: int) -> List[str]:
    """The flags both tools take, every setting spelt out (their defaults
    differ: mmrotate's gap 512 and padding 0)."""
    return [
        '--img-dirs', img_dir, '--ann-dirs', ann_dir, '--save-dir', save_dir,
        '--sizes',
        str(window), '--gaps',
        str(gap), '--rates', '1.0', '--img-rate-thr', '0.6', '--iof-thr',
        '0.7', '--padding-value', '104', '116', '124', '--save-ext', '.png',
        '--nproc',
        str(nproc)
    ]


def timed(cmd: List[str]) -> float:
    """Wall seconds of a fresh process running ``cmd``."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f'{cmd} failed:\n{proc.stdout}{proc.stderr}')
    return seconds


def read_labels(path: str) -> List[Label]:
    """``(8 coordinates, class, difficulty)`` of each line of a label file
    written by a splitter (numbers parsed: ``359`` equals ``359.0``)."""
    with open(path) as f:
        rows = [line.split() for line in f if line.strip()]
    return [(tuple(float(v) for v in r[:8]), r[8], int(r[9])) for r in rows]


def compare_splits(ours: str, ref: str) -> Dict[str, int]:
    """Compare two split folders (``images/``, ``annfiles/``) patch by
    patch; counts of each outcome (``ok`` is 1 when nothing differs but
    the expected difficulty case)."""
    names = {
        d:
        sorted(osp.splitext(n)[0] for n in os.listdir(osp.join(d, 'images')))
        for d in (ours, ref)
    }
    common = sorted(set(names[ours]) & set(names[ref]))
    out = dict(
        patches=len(common),
        only_ours=len(set(names[ours]) - set(names[ref])),
        only_ref=len(set(names[ref]) - set(names[ours])),
        pixel_equal=0,
        boxes_equal=0,
        objects=0,
        difficulty_equal=0,
        difficulty_float32=0,
        difficulty_other=0)
    for name in common:
        a, b = (
            cv2.imread(
                osp.join(d, 'images', name + '.png'), cv2.IMREAD_UNCHANGED)
            for d in (ours, ref))
        out['pixel_equal'] += int(a is not None and b is not None
                                  and a.shape == b.shape
                                  and np.array_equal(a, b))
        mine, theirs = (
            read_labels(osp.join(d, 'annfiles', name + '.txt'))
            for d in (ours, ref))
        same = len(mine) == len(theirs) and all(
            m[1] == t[1] and np.allclose(m[0], t[0], rtol=0, atol=BOX_ATOL)
            for m, t in zip(mine, theirs))
        out['boxes_equal'] += int(same)
        if not same:
            continue
        size = int(PATCH_NAME.match(name).group(1))
        for (coords, _, diff), (_, _, ref_diff) in zip(mine, theirs):
            out['objects'] += 1
            inside = min(coords) >= 0 and max(coords) <= size
            if diff == ref_diff:
                out['difficulty_equal'] += 1
            elif ref_diff == 2 and inside:
                out['difficulty_float32'] += 1
            else:
                out['difficulty_other'] += 1
    out['ok'] = int(
        out['only_ours'] == out['only_ref'] == 0
        and out['pixel_equal'] == out['boxes_equal'] == out['patches'] > 0
        and out['difficulty_other'] == 0)
    return out


def folder_mib(path: str) -> float:
    return sum(osp.getsize(osp.join(path, n))
               for n in os.listdir(path)) / 2**20


def _compare_line(name: str, cmp: Dict[str, int]) -> str:
    return (
        f'{name} against mmrotate: {cmp["patches"]} patches in both (only '
        f'dkd_mm {cmp["only_ours"]}, only mmrotate {cmp["only_ref"]}); '
        f'{cmp["pixel_equal"]} pixel-equal; {cmp["boxes_equal"]} label files '
        f'with the same boxes (within {BOX_ATOL} px) and classes; of their '
        f'{cmp["objects"]} objects, {cmp["difficulty_equal"]} with the same '
        f'difficulty, {cmp["difficulty_float32"]} wholly inside the patch '
        'that mmrotate marks truncated (2; its float32 iof < 1), '
        f'{cmp["difficulty_other"]} other differences. ' +
        (SAME if cmp['ok'] else '**OUTPUTS DIFFER.**'))


def run(args: argparse.Namespace) -> str:
    """Time the tools, compare their outputs; the markdown report."""
    img_dir, ann_dir = args.img_dir, args.ann_dir
    if img_dir is None:
        img_dir, ann_dir = make_scenes(
            osp.join(args.work_dir, 'source'), args.num_images,
            args.scene_sizes)
    # name: the script and its extra flags; dkd_mm also as mmrotate writes
    # PNG files (compressed), to show what storing them saves.
    tools = {
        'dkd_mm `tools/data/dota/split.py`': [TOOL],
        'dkd_mm `tools/data/dota/split.py --compress-png`':
        [TOOL, '--compress-png'],
    }
    ref, skipped = None, ''
    if args.mmrotate_dir:
        upstream = osp.join(args.mmrotate_dir, UPSTREAM)
        if not osp.isfile(upstream):
            raise SystemExit(f'no {upstream}: --mmrotate-dir must be a '
                             'checkout of mmrotate dev-1.x')
        ref = f'mmrotate dev-1.x `{UPSTREAM}`'
        tools[ref] = [upstream]
    else:
        skipped = ('mmrotate row skipped: no --mmrotate-dir (a checkout of '
                   'mmrotate dev-1.x).')
        print(skipped)
    times: Dict[str, List[float]] = {name: [] for name in tools}
    help_times: Dict[str, List[float]] = {name: [] for name in tools}
    outs = {
        name: osp.join(args.work_dir, f'out{i}')
        for i, name in enumerate(tools)
    }
    for r in range(args.runs):
        # Taking turns, in reversed order every other round, so that none
        # always runs first or right after another.
        order = list(tools) if r % 2 == 0 else list(tools)[::-1]
        for name in order:
            shutil.rmtree(outs[name], ignore_errors=True)
            script, *extra = tools[name]
            times[name].append(
                timed([sys.executable, script] + extra +
                      split_args(img_dir, ann_dir, outs[name], args.window,
                                 args.gap, args.nproc)))
            help_times[name].append(timed([sys.executable, script, '--help']))
            print(f'run {r + 1}/{args.runs} {name}: {times[name][-1]:.2f} s')
    num_images = len(os.listdir(img_dir))
    medians = {name: statistics.median(times[name]) for name in tools}
    rows = []
    for name in tools:
        patches = len(os.listdir(osp.join(outs[name], 'images')))
        ratio = f'{medians[ref] / medians[name]:.2f}x' if ref else '-'
        rows.append(f'| {name} | {medians[name]:.2f} | '
                    f'{" ".join(f"{t:.2f}" for t in times[name])} | '
                    f'{statistics.median(help_times[name]):.2f} | {patches} | '
                    f'{num_images / medians[name]:.1f} | {ratio} | '
                    f'{folder_mib(osp.join(outs[name], "images")):.0f} |')
    lines = [
        f'## DOTA split (`python -m bench.split --nproc {args.nproc}'
        f'{" --mmrotate-dir PATH" if ref else ""}`)', '',
        f'Date {datetime.date.today()}, {os.cpu_count()} CPU cores '
        f'({platform.processor() or platform.machine()}), cv2 '
        f'{cv2.__version__}; {num_images} images of '
        f'{", ".join(args.scene_sizes) if args.img_dir is None else "?"} px'
        f' into {args.window} px patches (gap {args.gap}), --nproc '
        f'{args.nproc}; whole processes, median of {args.runs} runs.', '',
        '| tool | median (s) | runs (s) | start-up, `--help` (s) | '
        'patches | images/s | throughput / mmrotate | patch files (MiB) |',
        '|---|---|---|---|---|---|---|---|'
    ] + rows
    if skipped:
        return '\n'.join(lines + ['', skipped])
    for name in list(tools)[:2]:
        lines += [
            '', _compare_line(name, compare_splits(outs[name], outs[ref]))
        ]
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    report = run(args)
    print(report)
    if args.write:
        from bench.report import write_section
        write_section(args.out, MARKER, report)
        print(f'written to {args.out}')
    return report


if __name__ == '__main__':
    main()
