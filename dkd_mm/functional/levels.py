"""Pairing the FPN levels of a student and a teacher, as every feature
distillation loss does first."""
from typing import List, Sequence, Tuple, Union

from torch import Tensor

Feats = Union[Tensor, Sequence[Tensor]]


def paired_levels(student_feats: Feats,
                  teacher_feats: Feats,
                  same_size: bool = True) -> List[Tuple[Tensor, Tensor]]:
    """Student and teacher levels side by side, the teacher detached.

    Args:
        student_feats (Tensor | Sequence[Tensor]): Adapted student levels,
            each ``(N, C, H_l, W_l)``, or one such tensor.
        teacher_feats (Tensor | Sequence[Tensor]): Teacher levels, likewise.
        same_size (bool): Whether ``(H_l, W_l)`` must agree too, not only
            ``(N, C)``. Defaults to True.

    Returns:
        list[tuple[Tensor, Tensor]]: ``(student, teacher.detach())`` per
        level.

    Raises:
        ValueError: If the level counts differ, or a level's shapes do.
    """
    if isinstance(student_feats, Tensor):
        student_feats = (student_feats, )
    if isinstance(teacher_feats, Tensor):
        teacher_feats = (teacher_feats, )
    if len(student_feats) != len(teacher_feats):
        raise ValueError(f'{len(student_feats)} student levels but '
                         f'{len(teacher_feats)} teacher levels')
    dims = 4 if same_size else 2
    names = '(N, C, H, W)' if same_size else '(N, C)'
    for level, (student,
                teacher) in enumerate(zip(student_feats, teacher_feats)):
        if student.shape[:dims] != teacher.shape[:dims]:
            raise ValueError(
                f'level {level}: student {tuple(student.shape)} and teacher '
                f'{tuple(teacher.shape)} differ in {names}; adapt first '
                '(adapt the student to the teacher with 1x1 adapters)')
    return [(s, t.detach()) for s, t in zip(student_feats, teacher_feats)]
