"""Write the synthetic DOTA v1.0 style data set used by the demo configs.

Examples:
    python tools/data/make_synthetic_dota.py --out-dir data/synthetic_dota
    python tools/data/make_synthetic_dota.py --out-dir /tmp/syn --split tiny
    python tools/data/make_synthetic_dota.py --out-dir /tmp/syn \\
        --num-images 1000 --img-size 512 --seed 3 --force

``--num-images N`` splits N into train and val 4:1 and adds twice as many
test images as val (the 400 / 100 / 200 of the default split) unless
``--num-test`` is given.  Train and val do not depend on the number of test
images, nor test on theirs.
"""
import argparse
import dataclasses
import time

from dkd_mm.datasets.synthetic import (PRESETS, SYNTHETIC_CLASSES,
                                       generate_synthetic_dota)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate a seeded synthetic data set in DOTA v1.0 '
        'format (train/, val/ and test/ with images/ and annfiles/).')
    parser.add_argument(
        '--out-dir', default='data/synthetic_dota', help='output root')
    parser.add_argument(
        '--split',
        default='default',
        choices=sorted(PRESETS),
        help='preset the options below start from')
    parser.add_argument(
        '--num-images',
        type=int,
        help='train and val images, split 4:1; test gets twice the val '
        'count unless --num-test is given')
    parser.add_argument('--num-train', type=int, help='training images')
    parser.add_argument('--num-val', type=int, help='validation images')
    parser.add_argument('--num-test', type=int, help='held-out test images')
    parser.add_argument('--img-size', type=int, help='image side in pixels')
    parser.add_argument('--seed', type=int, help='random seed')
    parser.add_argument(
        '--force',
        action='store_true',
        help='regenerate even if out-dir already holds the same data')
    parser.add_argument(
        '--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    changes = dict(
        img_size=args.img_size,
        seed=args.seed,
        num_train=args.num_train,
        num_val=args.num_val,
        num_test=args.num_test)
    if args.num_images is not None:
        if args.num_train is not None or args.num_val is not None:
            raise SystemExit('give --num-images or --num-train/--num-val')
        num_val = max(1, args.num_images // 5)
        changes.update(
            num_train=args.num_images - num_val,
            num_val=num_val,
            num_test=2 * num_val if args.num_test is None else args.num_test)
    changes = {k: v for k, v in changes.items() if v is not None}
    cfg = dataclasses.replace(PRESETS[args.split], **changes)
    preset = args.split if not changes else f'{args.split} (modified)'

    start = time.perf_counter()
    result = generate_synthetic_dota(
        args.out_dir,
        cfg,
        progress=not args.no_progress,
        force=args.force,
        preset=preset)
    if result['skipped']:
        print(f'{args.out_dir} already holds this data set (see its '
              'meta.json); pass --force to regenerate.')
    else:
        print(f'Wrote {args.out_dir} in {time.perf_counter() - start:.1f}s.')
    for subset, counts in result['instances'].items():
        objects = ', '.join(f'{c}: {counts[c]}' for c in SYNTHETIC_CLASSES)
        print(f'{subset}: {result["images"][subset]} images; {objects}')


if __name__ == '__main__':
    main()
