"""Write a DOTA sample at the real patch size: full-size synthetic scenes in
DOTA's release layout, split into 1024 px patches by tools/data/dota/split.py.

    python tools/data/dota/make_sample.py data/dota_sample [--seed 0]

Writes ``OUT/DOTA/{train,val}/{images,labelTxt}`` (three scenes of about
2000 x 1800 px, ``P0001.png`` ..., label files with the ``imagesource:`` and
``gsd:`` header lines) and ``OUT/split_ss_dota/trainval/{images,annfiles}``
(18 patches named ``P0001__1024__0___0`` ...); a config reads them with
``--cfg-options train_dataloader.dataset.data_root=OUT/split_ss_dota/``.
Not a substitute for the real data (the scenes are
:mod:`dkd_mm.testing.dota_sample`'s tiled synthetic renders), but the same
commands run on it.
"""
import argparse
from typing import List, Optional

from dkd_mm.testing.dota_sample import make_dota_sample


def main(argv: Optional[List[str]] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='root of the sample')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    args = parser.parse_args(argv)
    sample = make_dota_sample(args.out_dir, seed=args.seed)
    print(f'{len(sample["images"])} scenes in {sample["release_dir"]}, '
          f'{len(sample["patches"])} patches in {sample["data_root"]}')
    return sample


if __name__ == '__main__':
    main()
