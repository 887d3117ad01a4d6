"""Reading a whole label file by the rules of :mod:`dkd_mm_data.labels`.

:func:`read_objects` is the one read / parse / check loop: every loader and
the DOTA splitter go through it, so a line is judged the same everywhere.
:func:`read_dota_labels` is the DOTA label reader built on it, used by
``RobustDOTADataset``, the splitter, the full-image evaluation and the
tests.
"""
from typing import (Callable, List, NamedTuple, Optional, Sequence, Tuple,
                    TypeVar)

import numpy as np

from .files import read_label_lines
from .geometry import check_box
from .issues import InputIssue, LabelIssues
from .parsers import DOTAObject, parse_dota_line

Obj = TypeVar('Obj')


def read_objects(
        path: str,
        parse_line: Callable[[str], Optional[Obj]],
        issues: LabelIssues,
        check: Optional[Callable[[Obj], None]] = None) -> Optional[List[Obj]]:
    """The objects of one label file; bad lines are given to ``issues``.

    Args:
        path (str): The label file (UTF-8 text).
        parse_line (Callable): One line -> an object, None for a line to
            pass over (blank, header), or :class:`InputIssue`.
        issues (LabelIssues): Gets the unreadable file or each dropped
            line, with its number (from 1).
        check (Callable, optional): Raises :class:`InputIssue` for a parsed
            object to drop (class and box rules). Defaults to None.

    Returns:
        list | None: The kept objects in file order; None if the file is
        unreadable (counted as 'unreadable_label').

    Raises:
        BadLabelError: At the first problem if ``issues`` is in 'error'
            mode.
    """
    try:
        lines = read_label_lines(path)
    except InputIssue as issue:
        issues.add_issue(issue, path)
        return None
    objects = []
    for number, text in lines:
        try:
            obj = parse_line(text)
            if obj is None:
                continue
            if check is not None:
                check(obj)
        except InputIssue as issue:
            issues.add_issue(issue, path, number)
            continue
        objects.append(obj)
    return objects


class DOTALabels(NamedTuple):
    """The objects of one DOTA label file: ``polys`` ``(N, 8)`` float64
    corners ``x1, y1, ..., x4, y4``, N class names, N difficulties."""
    polys: np.ndarray
    classes: List[str]
    difficulties: List[int]


def read_dota_labels(
        path: str,
        issues: LabelIssues,
        img_hw: Optional[Tuple[int, int]] = None,
        classes: Optional[Sequence[str]] = None) -> Optional[DOTALabels]:
    """Objects of an original or split DOTA label file.

    Header lines (``imagesource:``, ``gsd:``) and blank lines are passed
    over; a missing difficulty is 0.  A line is dropped for the 'malformed',
    'non_numeric', 'unknown_class', 'degenerate' and 'outside' rules, in
    this order.

    Args:
        path (str): The label file.
        issues (LabelIssues): Gets the dropped lines (or raises at the first
            in 'error' mode).
        img_hw (tuple[int, int], optional): Image height and width for the
            'outside' rule; None skips it. Defaults to None.
        classes (Sequence[str], optional): Known classes ('unknown_class'
            rule); None keeps any name (the splitter has no class list).
            Defaults to None.

    Returns:
        DOTALabels | None: None if the file is unreadable (counted).
    """

    def check(obj: DOTAObject) -> None:
        if classes is not None and obj.class_name not in classes:
            raise InputIssue('unknown_class', f'class {obj.class_name!r}')
        check_box(obj.qbox, img_hw)

    objects = read_objects(path, parse_dota_line, issues, check)
    if objects is None:
        return None
    return DOTALabels(
        np.array([o.qbox for o in objects], np.float64).reshape(-1, 8),
        [o.class_name for o in objects], [o.difficulty for o in objects])
