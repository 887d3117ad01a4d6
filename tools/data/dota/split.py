"""Split large DOTA images into patches, as mmrotate's img_split.py does.

    python tools/data/dota/split.py --base-json \\
        tools/data/dota/split_configs/ss_trainval.json
    python tools/data/dota/split.py --img-dirs data/DOTA/train/images \\
        --ann-dirs data/DOTA/train/labelTxt --save-dir data/split/train \\
        --sizes 1024 --gaps 200 --rates 0.5 1.0 1.5 [--nproc 8]

Writes ``SAVE_DIR/images/<img_id>__<size>__<x>___<y>.png`` and
``SAVE_DIR/annfiles/<same>.txt`` (the rules are in
:mod:`dkd_mm.datasets.dota_split`).  PNG patches are written uncompressed
(3 MiB a 1024 px patch, about twice mmrotate's on bench/split.py's scenes,
a third of the time to write: :mod:`dkd_mm.datasets.png_writer`);
``--compress-png`` writes them as mmrotate does.  The tool starts in a
fraction of a second: it imports dkd_mm's data modules alone, not torch
(tools/data/light_import.py).  ``--base-json`` takes mmrotate's split json
files (``tools/data/dota/split_configs/{ss,ms}_{trainval,test}.json`` are
copies with DOTA under ``data/DOTA``); flags on the command line win, and a
json's ``nproc`` is ignored (all cores unless ``--nproc``).

Resuming: ``SAVE_DIR/split_settings.json`` records the settings and
``SAVE_DIR/split_done.jsonl`` gets one line per image, written only after
all its patches are on disk.  A rerun into the same folder splits only the
images without a line, or with a patch file missing (a run killed in the
middle of an image redoes that image).  A rerun with other settings stops
with an error instead of mixing two splits.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from functools import partial
from multiprocessing import Pool
from typing import Dict, Iterator, List, Optional, Tuple

# dkd_mm's data modules without `import dkd_mm` (torch, mmcv, mmdet and the
# registries: seconds of start-up), see tools/data/light_import.py.
_TOOLS_DATA = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _TOOLS_DATA not in sys.path:
    sys.path.insert(0, _TOOLS_DATA)
from light_import import import_light  # noqa: E402 isort: skip

dota_split = import_light('dkd_mm.datasets.dota_split')
labels = import_light('dkd_mm.datasets.labels')
LabelIssues, list_images = labels.LabelIssues, labels.list_images

SETTINGS_FILE = 'split_settings.json'
DONE_FILE = 'split_done.jsonl'
Job = Tuple[str, Optional[str]]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Split DOTA images')
    add = parser.add_argument
    add('--base-json', help='mmrotate split json; its keys set defaults')
    add('--img-dirs', nargs='+', help='folders of original images')
    add('--ann-dirs', nargs='+', help='their label folders (none: test set)')
    add('--save-dir', help='output folder (images/, annfiles/)')
    add('--sizes', nargs='+', type=int, default=[1024])
    add('--gaps', nargs='+', type=int, default=[200])
    add('--rates', nargs='+', type=float, default=[1.0])
    add('--img-rate-thr', type=float, default=0.6)
    add('--iof-thr', type=float, default=0.7)
    add('--no-padding', action='store_true')
    add('--padding-value', nargs='+', type=int, default=[104, 116, 124])
    add('--save-ext', default='.png')
    add('--nproc', type=int, default=os.cpu_count() or 1)
    add('--on-bad-label', choices=['skip', 'error'], default='skip')
    add('--compress-png',
        action='store_true',
        help='compress PNG patches as mmrotate does (OpenCV defaults): half '
        'the disk space, about 3x the time to write a patch')
    args = parser.parse_args(argv)
    if args.base_json is not None:
        with open(args.base_json) as f:
            preset = json.load(f)
        # The json's keys become defaults, so flags given still win; keys
        # that name no option (and nproc) are left out.
        known = vars(args)
        parser.set_defaults(**{
            k: v
            for k, v in preset.items() if k in known and k != 'nproc'
        })
        args = parser.parse_args(argv)
    if not args.img_dirs or not args.save_dir:
        parser.error('--img-dirs and --save-dir are needed (or --base-json)')
    if args.ann_dirs is not None and len(args.ann_dirs) != len(args.img_dirs):
        parser.error('one --ann-dirs entry per --img-dirs entry')
    return args


def collect_jobs(img_dirs: List[str], ann_dirs: Optional[List[str]],
                 issues: LabelIssues) -> List[Job]:
    """``(image, label file or None)`` of every image, by ``img_id``."""
    jobs: Dict[str, Job] = {}
    for i, img_dir in enumerate(img_dirs):
        for stem, name in list_images(img_dir, issues).items():
            if stem in jobs:
                raise ValueError(f'image id {stem!r} is in two folders: '
                                 f'{jobs[stem][0]} and {img_dir}')
            ann = None if ann_dirs is None else osp.join(
                ann_dirs[i], stem + '.txt')
            jobs[stem] = (osp.join(img_dir, name), ann)
    return [jobs[k] for k in sorted(jobs)]


def check_settings(save_dir: str, state: dict) -> None:
    """Record the settings of a new split; refuse to resume another."""
    path = osp.join(save_dir, SETTINGS_FILE)
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        if old != state:
            diff = {
                k: (old.get(k), v)
                for k, v in state.items() if old.get(k) != v
            }
            raise SystemExit(f'{save_dir} holds a split with other settings '
                             f'(recorded, now): {diff}; pick a new '
                             '--save-dir or delete that one')
        return
    with open(path, 'w') as f:
        json.dump(state, f, indent=2)


def finished_images(save_dir: str, save_ext: str) -> Dict[str, dict]:
    """Entries of the done log whose patch files all exist; the log is
    rewritten with these alone (a line cut by a kill is dropped, so that
    new lines do not continue it)."""
    path = osp.join(save_dir, DONE_FILE)
    done: Dict[str, dict] = {}
    if not osp.isfile(path):
        return done
    with open(path) as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if all(
                    osp.isfile(osp.join(save_dir, 'images', p + save_ext))
                    and osp.isfile(osp.join(save_dir, 'annfiles', p + '.txt'))
                    for p in entry['patches']):
                done[entry['img_id']] = entry
    with open(path + '.tmp', 'w') as f:
        f.writelines(json.dumps(e) + '\n' for e in done.values())
    os.replace(path + '.tmp', path)
    return done


def _run_job(job: Job, save_dir: str, settings: dota_split.SplitSettings,
             on_bad_label: str, compress_png: bool) -> dota_split.SplitResult:
    return dota_split.split_image(job[0], job[1], save_dir, settings,
                                  on_bad_label, compress_png)


def run_jobs(jobs: List[Job], nproc: int,
             **kwargs) -> Iterator[dota_split.SplitResult]:
    """Split ``jobs`` on ``nproc`` processes, yielding as each finishes."""
    worker = partial(_run_job, **kwargs)
    if nproc <= 1 or len(jobs) <= 1:
        yield from map(worker, jobs)
        return
    with Pool(min(nproc, len(jobs))) as pool:
        yield from pool.imap_unordered(worker, jobs)


class Progress:
    """``[#####     ] 6/12, 2.1 images/s, elapsed 3 s, ETA 3 s`` on one
    line of stdout, redrawn at each :meth:`update`."""

    def __init__(self, total: int, width: int = 30) -> None:
        self.total, self.width = total, width
        self.done, self.start = 0, time.time()
        self._draw()

    def update(self) -> None:
        self.done += 1
        self._draw()

    def _draw(self) -> None:
        elapsed = time.time() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        filled = self.width * self.done // max(self.total, 1)
        bar = '#' * filled + ' ' * (self.width - filled)
        sys.stdout.write(f'\r[{bar}] {self.done}/{self.total}, '
                         f'{rate:.1f} images/s, elapsed {elapsed:.0f} s, '
                         f'ETA {eta:.0f} s')
        sys.stdout.flush()


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    settings = dota_split.SplitSettings(
        sizes=args.sizes,
        gaps=args.gaps,
        rates=args.rates,
        img_rate_thr=args.img_rate_thr,
        iof_thr=args.iof_thr,
        no_padding=args.no_padding,
        padding_value=args.padding_value,
        save_ext=args.save_ext)
    issues = LabelIssues(args.on_bad_label)
    jobs = collect_jobs(args.img_dirs, args.ann_dirs, issues)
    save_dir = args.save_dir
    for sub in ('images', 'annfiles'):
        os.makedirs(osp.join(save_dir, sub), exist_ok=True)
    check_settings(
        save_dir,
        dict(
            settings.to_dict(),
            img_dirs=[osp.abspath(d) for d in args.img_dirs],
            ann_dirs=args.ann_dirs
            and [osp.abspath(d) for d in args.ann_dirs]))
    done = finished_images(save_dir, settings.save_ext)
    todo = [j for j in jobs if osp.splitext(osp.basename(j[0]))[0] not in done]
    print(f'{len(jobs)} images: {len(jobs) - len(todo)} already split, '
          f'{len(todo)} to split into {save_dir} '
          f'(windows {settings.window_sizes()}, nproc {args.nproc})')
    start, num_patches, num_kept = time.time(), 0, len(jobs) - len(todo)
    progress = Progress(len(todo)) if todo else None
    with open(osp.join(save_dir, DONE_FILE), 'a') as log:
        for result in run_jobs(
                todo,
                args.nproc,
                save_dir=save_dir,
                settings=settings,
                on_bad_label=args.on_bad_label,
                compress_png=args.compress_png):
            issues.merge(result.issues)
            if result.patches:
                log.write(
                    json.dumps(
                        dict(
                            img_id=result.img_id,
                            objects=result.num_objects,
                            patches=result.patches)) + '\n')
                log.flush()
                os.fsync(log.fileno())
                num_patches += len(result.patches)
                num_kept += 1
            progress.update()
    print(f'\nSplit {len(todo)} images into {num_patches} patches in '
          f'{time.time() - start:.1f} s')
    issues.report(f'split of {args.img_dirs}', num_kept)


if __name__ == '__main__':
    main()
