"""Every config under ``configs/`` merged, one sorted JSON file each.

    python tools/analysis/dump_configs.py OUT_DIR [--configs configs]

Writes ``OUT_DIR/<path under configs/ with / as __>.json``: the config as
mmengine merges it (``Config.fromfile(...).to_dict()``, bases resolved, no
custom imports), keys sorted, the repository root written as ``<root>`` so
that two checkouts compare.  Diff two dumps to check that moving or
rewriting configs changed nothing but what was meant to change:

    python tools/analysis/dump_configs.py /tmp/before   # on the old tree
    python tools/analysis/dump_configs.py /tmp/after    # on the new tree
    diff -r /tmp/before /tmp/after

``_base_`` files are skipped: they are checked through the configs that
take them.  A config that fails to load is reported and the dump goes on;
the exit status is the number of failures.
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
from typing import List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def config_paths(config_dir: str) -> List[str]:
    """The ``.py`` configs under ``config_dir``, ``_base_`` left out, as
    paths relative to ``config_dir``, sorted."""
    paths = glob.glob(osp.join(config_dir, '**', '*.py'), recursive=True)
    rel = (osp.relpath(p, config_dir) for p in paths)
    return sorted(p for p in rel if '_base_' not in p.split(os.sep))


def merged_json(path: str) -> str:
    """The merged config at ``path`` as sorted, indented JSON, with the
    repository root replaced by ``<root>``."""
    from mmengine.config import Config
    cfg = Config.fromfile(path, import_custom_modules=False)
    text = json.dumps(cfg.to_dict(), sort_keys=True, indent=1, default=str)
    return text.replace(ROOT, '<root>') + '\n'


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='where the JSON files go')
    parser.add_argument(
        '--configs',
        default=osp.join(ROOT, 'configs'),
        help='the config tree (default: this checkout\'s configs/)')
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    failures = 0
    for rel in config_paths(args.configs):
        try:
            text = merged_json(osp.join(args.configs, rel))
        except Exception as exc:  # report every broken config, not just one
            failures += 1
            print(
                f'FAILED {rel}: {type(exc).__name__}: {exc}', file=sys.stderr)
            continue
        name = rel.replace(os.sep, '__')[:-len('.py')] + '.json'
        with open(osp.join(args.out_dir, name), 'w', encoding='utf-8') as f:
            f.write(text)
        print(rel)
    return failures


if __name__ == '__main__':
    sys.exit(main())
