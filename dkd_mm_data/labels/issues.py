"""Counting the problems of a data set, or stopping at the first.

The reasons and the rules they stand for are listed in
:mod:`dkd_mm_data.labels`.  A check raises :class:`InputIssue`; the
caller adds the file and line and hands it to :class:`LabelIssues`, which
counts it (``on_bad_label='skip'``) or raises :class:`BadLabelError`
(``'error'``).
"""
import logging
from collections import Counter
from typing import Dict, List, Optional, Sequence

ON_BAD_LABEL = ('skip', 'error')
REASONS = ('malformed', 'non_numeric', 'unknown_class', 'degenerate',
           'outside', 'missing_image', 'corrupt_image', 'missing_label',
           'unreadable_label', 'duplicate_image')


class BadLabelError(ValueError):
    """A bad label or image under ``on_bad_label='error'``; the message
    names the file (and line)."""


class InputIssue(Exception):
    """What a check found: a reason and a detail; the caller adds the file
    and line for :class:`LabelIssues`."""

    def __init__(self, reason: str, detail: str) -> None:
        assert reason in REASONS, reason
        super().__init__(f'{reason}: {detail}')
        self.reason = reason
        self.detail = detail


class LabelIssues:
    """Counts the problems of one data set, or raises at the first.

    Args:
        on_bad_label (str): 'skip' or 'error'. Defaults to 'skip'.
        max_examples (int): ``file:line`` cases kept per reason for the
            report. Defaults to 3.
    """

    def __init__(self,
                 on_bad_label: str = 'skip',
                 max_examples: int = 3) -> None:
        check_choice('on_bad_label', on_bad_label, ON_BAD_LABEL)
        self.on_bad_label = on_bad_label
        self.max_examples = max_examples
        self.counts: Counter = Counter()
        self.examples: Dict[str, List[str]] = {}

    def __len__(self) -> int:
        return sum(self.counts.values())

    def add(self,
            reason: str,
            path: str,
            line: Optional[int] = None,
            detail: str = '') -> None:
        """Record a problem at ``path`` (``line`` counted from 1).

        Raises:
            BadLabelError: If ``on_bad_label='error'``.
        """
        assert reason in REASONS, reason
        where = path if line is None else f'{path}:{line}'
        case = f'{where}: {reason} ({detail})' if detail else \
            f'{where}: {reason}'
        if self.on_bad_label == 'error':
            raise BadLabelError(
                f"{case}; pass on_bad_label='skip' to drop it and go on")
        self.counts[reason] += 1
        kept = self.examples.setdefault(reason, [])
        if len(kept) < self.max_examples:
            kept.append(case)

    def add_issue(self,
                  issue: InputIssue,
                  path: str,
                  line: Optional[int] = None) -> None:
        """:meth:`add` for a raised :class:`InputIssue`."""
        self.add(issue.reason, path, line, issue.detail)

    def merge(self, other: 'LabelIssues') -> None:
        """Add the counts and first cases of ``other`` (e.g. a worker's)."""
        self.counts.update(other.counts)
        for reason, cases in other.examples.items():
            kept = self.examples.setdefault(reason, [])
            kept.extend(cases[:max(0, self.max_examples - len(kept))])

    def summary(self, name: str) -> str:
        """One message: counts per reason and the first cases of each."""
        counts = ', '.join(f'{r}={n}' for r, n in sorted(self.counts.items()))
        cases = [c for r in sorted(self.examples) for c in self.examples[r]]
        return (f'{name}: skipped {len(self)} bad labels or images '
                f"(on_bad_label='skip'): {counts}. First cases:\n  " +
                '\n  '.join(cases))

    def report(self, name: str, num_kept: int = 1) -> bool:
        """Warn once with :meth:`summary` if anything was skipped; return
        whether it did.

        Raises:
            ValueError: If no image is left (``num_kept == 0``), which
                mmengine would only report as a failed concatenation.
        """
        if num_kept == 0:
            skipped = f'; {self.summary(name)}' if self.counts else ''
            raise ValueError(f'{name}: no image to load{skipped}')
        if not self.counts:
            return False
        print_log(self.summary(name), logger='current', level=logging.WARNING)
        return True


def print_log(msg: str, logger: str, level: int) -> None:
    """mmengine's ``print_log``, imported when first used: the data tools
    import this module without mmengine (:mod:`dkd_mm_data`)."""
    from mmengine.logging import print_log as mmengine_print_log
    mmengine_print_log(msg, logger=logger, level=level)


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    """Raise ValueError if ``value`` is not one of ``choices``."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {tuple(choices)}, '
                         f'got {value!r}')
