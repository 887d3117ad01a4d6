"""Parsing one label line: DOTA (``x1 y1 ... x4 y4 class [difficult]``)
and NWPU VHR-10 (``(x1,y1),(x2,y2),c``), with the 'malformed' and
'non_numeric' rules of :mod:`dkd_mm_data.labels`."""
import math
import re
from typing import List, NamedTuple, Optional

from .issues import InputIssue

_DOTA_HEADER = ('imagesource:', 'gsd:')
_NWPU_LINE = re.compile(
    r'^\(([^(),]*),([^(),]*)\)\s*,\s*\(([^(),]*),([^(),]*)\)\s*,\s*([^\s,]+)$')


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_number(text: str, what: str = 'coordinate') -> float:
    """A finite float, or :class:`InputIssue` ('non_numeric')."""
    try:
        value = float(text)
    except ValueError:
        raise InputIssue('non_numeric', f'{what} {text!r} is not a number')
    if not math.isfinite(value):
        raise InputIssue('non_numeric', f'{what} {text!r} is not finite')
    return value


def parse_int(text: str, what: str) -> int:
    """An integer, or :class:`InputIssue` ('non_numeric')."""
    try:
        return int(text)
    except ValueError:
        raise InputIssue('non_numeric', f'{what} {text!r} is not an integer')


class DOTAObject(NamedTuple):
    """One parsed DOTA line: 8 corner coordinates, class, difficulty."""
    qbox: List[float]
    class_name: str
    difficulty: int


class NWPUObject(NamedTuple):
    """One parsed NWPU VHR-10 line: ``[x1, y1, x2, y2]`` and the 1-based
    class id."""
    hbox: List[float]
    class_id: int


def parse_dota_line(line: str) -> Optional[DOTAObject]:
    """``x1 y1 ... x4 y4 class [difficult]``; a missing difficulty is 0,
    as in the DOTA devkit.

    Returns:
        DOTAObject | None: None for blank and header lines.

    Raises:
        InputIssue: 'malformed' or 'non_numeric'.
    """
    fields = line.split()
    if not fields or fields[0].lower().startswith(_DOTA_HEADER):
        return None
    if len(fields) not in (9, 10):
        raise InputIssue(
            'malformed', 'expected 8 coordinates, a class and an optional '
            f'difficulty (9 or 10 fields), got {len(fields)} fields')
    if _is_number(fields[8]):  # class names are not: a field is missing
        raise InputIssue('malformed', f'class {fields[8]!r} is a number')
    qbox = [parse_number(v) for v in fields[:8]]
    difficulty = parse_int(fields[9], 'difficulty') \
        if len(fields) == 10 else 0
    return DOTAObject(qbox, fields[8], difficulty)


def parse_nwpu_line(line: str) -> Optional[NWPUObject]:
    """``(x1,y1),(x2,y2),c``.  The two corners may come in either order:
    they span the same rectangle, which is returned as
    ``[xmin, ymin, xmax, ymax]``.

    Returns:
        NWPUObject | None: None for a blank line.

    Raises:
        InputIssue: 'malformed' or 'non_numeric'.
    """
    text = line.strip()
    if not text:
        return None
    match = _NWPU_LINE.match(text)
    if match is None:
        raise InputIssue('malformed', "expected '(x1,y1),(x2,y2),c'")
    x1, y1, x2, y2 = (parse_number(v) for v in match.groups()[:4])
    class_id = parse_int(match.group(5), 'class id')
    hbox = [min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)]
    return NWPUObject(hbox, class_id)
