"""Splitting folders of DOTA images, resumably, on several processes.

:func:`split_folders` is what ``tools/data/dota/split.py`` runs: every
image of the folders through :func:`~dkd_mm_data.dota_split.split_image`,
its patches into ``SAVE_DIR/{images,annfiles}``.

Resuming: ``SAVE_DIR/split_settings.json`` records the settings and
``SAVE_DIR/split_done.jsonl`` gets one line per image, written only after
all its patches are on disk.  A rerun into the same folder splits only the
images without a line, or with a patch file missing (a run killed in the
middle of an image redoes that image).  A rerun with other settings stops
with :class:`SettingsMismatch` instead of mixing two splits.
"""
import json
import os
import os.path as osp
import sys
import time
from functools import partial
from multiprocessing import Pool
from typing import Dict, Iterator, List, Optional, Tuple

from .dota_split import SplitResult, SplitSettings, split_image
from .labels import LabelIssues, list_images

SETTINGS_FILE = 'split_settings.json'
DONE_FILE = 'split_done.jsonl'
Job = Tuple[str, Optional[str]]


class SettingsMismatch(ValueError):
    """The save folder holds a split with other settings."""


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
    """Record the settings of a new split; refuse to resume another.

    Raises:
        SettingsMismatch: If ``save_dir`` records other settings.
    """
    path = osp.join(save_dir, SETTINGS_FILE)
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        if old != state:
            diff = {
                k: (old.get(k), v)
                for k, v in state.items() if old.get(k) != v
            }
            raise SettingsMismatch(
                f'{save_dir} holds a split with other settings (recorded, '
                f'now): {diff}; pick a new --save-dir or delete that one')
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


def _run_job(job: Job, save_dir: str, settings: SplitSettings,
             on_bad_label: str, compress_png: bool) -> SplitResult:
    return split_image(job[0], job[1], save_dir, settings, on_bad_label,
                       compress_png)


def run_jobs(jobs: List[Job], nproc: int, **kwargs) -> Iterator[SplitResult]:
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


def split_folders(img_dirs: List[str],
                  ann_dirs: Optional[List[str]],
                  save_dir: str,
                  settings: SplitSettings,
                  nproc: int = 1,
                  on_bad_label: str = 'skip',
                  compress_png: bool = False) -> None:
    """Split every image of ``img_dirs`` into ``save_dir``, resuming a
    split of the same settings there; progress and a summary on stdout.

    Args:
        img_dirs (list[str]): Folders of original images.
        ann_dirs (list[str], optional): Their label folders, one per image
            folder; None for a test set (empty label files).
        save_dir (str): Gets ``images/``, ``annfiles/`` and the resume
            files.
        settings (SplitSettings): How to split.
        nproc (int): Worker processes. Defaults to 1.
        on_bad_label (str): 'skip' or 'error', see
            :class:`~dkd_mm_data.labels.LabelIssues`. Defaults to 'skip'.
        compress_png (bool): See
            :func:`~dkd_mm_data.dota_split.split_image`. Defaults to False.

    Raises:
        SettingsMismatch: If ``save_dir`` holds a split of other settings.
    """
    issues = LabelIssues(on_bad_label)
    jobs = collect_jobs(img_dirs, ann_dirs, issues)
    for sub in ('images', 'annfiles'):
        os.makedirs(osp.join(save_dir, sub), exist_ok=True)
    check_settings(
        save_dir,
        dict(
            settings.to_dict(),
            img_dirs=[osp.abspath(d) for d in img_dirs],
            ann_dirs=ann_dirs and [osp.abspath(d) for d in ann_dirs]))
    done = finished_images(save_dir, settings.save_ext)
    todo = [j for j in jobs if osp.splitext(osp.basename(j[0]))[0] not in done]
    print(f'{len(jobs)} images: {len(jobs) - len(todo)} already split, '
          f'{len(todo)} to split into {save_dir} '
          f'(windows {settings.window_sizes()}, nproc {nproc})')
    start, num_patches, num_kept = time.time(), 0, len(jobs) - len(todo)
    progress = Progress(len(todo)) if todo else None
    with open(osp.join(save_dir, DONE_FILE), 'a') as log:
        for result in run_jobs(
                todo,
                nproc,
                save_dir=save_dir,
                settings=settings,
                on_bad_label=on_bad_label,
                compress_png=compress_png):
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
    issues.report(f'split of {img_dirs}', num_kept)
