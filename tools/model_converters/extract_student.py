"""Write the student of a DKD checkpoint as a plain detector checkpoint.

    python tools/model_converters/extract_student.py IN.pth OUT.pth

OUT.pth holds only tensors and plain metadata, so plain mmrotate/mmdet
``tools/test.py`` loads it with the student's own config (also under torch's
``weights_only=True`` default).  Adapters and the training state are left
out: they are needed only while distilling.
"""
import argparse

import dkd_mm  # noqa: F401
from dkd_mm.utils.checkpoint import extract_student


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='a DKDDistiller checkpoint')
    parser.add_argument('dst', help='where to write the student checkpoint')
    args = parser.parse_args()
    num = extract_student(args.src, args.dst)
    print(f'wrote {num} student tensors to {args.dst}')


if __name__ == '__main__':
    main()
