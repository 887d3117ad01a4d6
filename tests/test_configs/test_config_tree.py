"""The shape of configs/: a DKD config names its pair in a few lines and
takes the distiller block and the teacher hook from one base.

Read as text (no config is loaded): a DKD leaf is a config whose
``_base_`` lists ``_base_/distill/dkd.py`` or ``dkd_model.py``; its code,
comments and blank lines apart, is at most ``MAX_LEAF_LINES`` lines.
"""
import ast
import glob
import io
import os.path as osp
import tokenize
from typing import List, Set

import pytest

from dkd_mm.testing._utils import REPO_ROOT

CONFIGS = osp.join(REPO_ROOT, 'configs')
DKD_BASES = ('_base_/distill/dkd.py', '_base_/distill/dkd_model.py')
MAX_LEAF_LINES = 10
# Tokens that are not code: a line holding only these does not count.
NOT_CODE = {
    tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
    tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER
}


def read(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return f.read()


def code_lines(text: str) -> int:
    """Lines holding code: comments and blank lines apart; a statement over
    several lines counts each of them."""
    lines: Set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type not in NOT_CODE:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines)


def bases(text: str) -> List[str]:
    """The paths of a config's ``_base_`` (a string or a list of them)."""
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_'
                for t in node.targets):
            value = ast.literal_eval(node.value)
            return [value] if isinstance(value, str) else list(value)
    return []


CONFIG_FILES = sorted(
    p for p in glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(p, CONFIGS).split(osp.sep))
DKD_LEAVES = [
    p for p in CONFIG_FILES if any(
        b.endswith(DKD_BASES) for b in bases(read(p)))
]


def test_code_lines_leave_out_comments_and_count_continuations():
    text = ('# a comment\n\n_base_ = [\n    "./a.py",  # why\n    "./b.py"\n'
            ']\nx = """one\ntwo"""\n')
    assert code_lines(text) == 6


def test_there_are_dkd_leaves_in_every_tree():
    trees = {osp.relpath(p, CONFIGS).split(osp.sep)[0] for p in DKD_LEAVES}
    assert trees == {
        'dota', 'nwpu', 'oriented_rcnn', 'rotated_faster_rcnn', 'rotated_fcos',
        'rotated_retinanet'
    }


@pytest.mark.parametrize(
    'path', DKD_LEAVES, ids=lambda p: osp.relpath(p, CONFIGS))
def test_dkd_leaf_is_short(path):
    # The distiller block and the warm-up come from the base by variables
    # (`_base_.dkd_model`, `_base_.dkd_hook`); the leaf names its student
    # base, its teacher and the teacher's checkpoint.
    text = read(path)
    assert code_lines(text) <= MAX_LEAF_LINES
    assert 'DKDDistiller' not in text and 'DKDTeacherHook' not in text


# What one set of defaults decides for every DKD config (issue 25): the
# distillation weights (the losses' and the distiller's) and the warm-up,
# which follows each schedule's learning rate (`warmup_iters='lr'`).
TUNED = ('loss_weight', 'term_weights', 'warmup_iters', 'balance')


@pytest.mark.parametrize(
    'path', [p for p in CONFIG_FILES if osp.basename(p).startswith('dkd_')],
    ids=lambda p: osp.relpath(p, CONFIGS))
def test_no_dkd_config_tunes_the_defaults(path):
    text = read(path)
    assert [t for t in TUNED if t in text] == []


@pytest.mark.parametrize(
    'path', [p for p in CONFIG_FILES if osp.basename(p).startswith('dkd_')],
    ids=lambda p: osp.relpath(p, CONFIGS))
def test_every_dkd_config_is_a_leaf_or_inherits_one(path):
    # A DKD config takes DKD's distiller from the base, directly or through
    # the DKD config it varies (a student swap), never from a pasted block.
    leaves = {osp.normpath(p) for p in DKD_LEAVES}
    parents = {
        osp.normpath(osp.join(osp.dirname(path), b))
        for b in bases(read(path))
    }
    assert path in DKD_LEAVES or parents & leaves


def test_nwpu_configs_name_their_recipe():
    # One tree, two recipes: mmdet's 1x (ImageNet init) and from scratch.
    names = [
        osp.basename(p) for p in glob.glob(osp.join(CONFIGS, 'nwpu', '*.py'))
    ]
    assert names and all(
        n.endswith(('_1x_nwpu.py', '_scratch_nwpu.py')) for n in names)
