"""Split large DOTA images into patches, as mmrotate's img_split.py does.

    python tools/data/dota/split.py --base-json \\
        tools/data/dota/split_configs/ss_trainval.json
    python tools/data/dota/split.py --img-dirs data/DOTA/train/images \\
        --ann-dirs data/DOTA/train/labelTxt --save-dir data/split/train \\
        --sizes 1024 --gaps 200 --rates 0.5 1.0 1.5 [--nproc 8]

Writes ``SAVE_DIR/images/<img_id>__<size>__<x>___<y>.png`` and
``SAVE_DIR/annfiles/<same>.txt`` (the rules are in
:mod:`dkd_mm_data.dota_split`).  PNG patches are written uncompressed
(3 MiB a 1024 px patch, about twice mmrotate's on bench/split.py's scenes,
a third of the time to write: :mod:`dkd_mm_data.png_writer`);
``--compress-png`` writes them as mmrotate does.  The tool starts in a
fraction of a second: it imports :mod:`dkd_mm_data` alone, not dkd_mm
(whose import registers its components: torch, mmcv, mmdet and mmrotate).
``--base-json`` takes mmrotate's split json files
(``tools/data/dota/split_configs/{ss,ms}_{trainval,test}.json`` are copies
with DOTA under ``data/DOTA``); flags on the command line win, and a
json's ``nproc`` is ignored (all cores unless ``--nproc``).

A rerun into the same ``--save-dir`` resumes: it splits only the images
not finished before, and stops with an error if the settings differ
(:mod:`dkd_mm_data.dota_split_run`).
"""
import argparse
import json
import os
from typing import List, Optional

from dkd_mm_data.dota_split import SplitSettings
from dkd_mm_data.dota_split_run import SettingsMismatch, split_folders


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


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    settings = SplitSettings(
        sizes=args.sizes,
        gaps=args.gaps,
        rates=args.rates,
        img_rate_thr=args.img_rate_thr,
        iof_thr=args.iof_thr,
        no_padding=args.no_padding,
        padding_value=args.padding_value,
        save_ext=args.save_ext)
    try:
        split_folders(args.img_dirs, args.ann_dirs, args.save_dir, settings,
                      args.nproc, args.on_bad_label, args.compress_png)
    except SettingsMismatch as exc:
        raise SystemExit(str(exc)) from None


if __name__ == '__main__':
    main()
