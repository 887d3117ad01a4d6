"""The tables of bench/run.py and the section of docs/benchmarks.md they go
to: one invocation, one code version (its commit in the header); the
sections of the other scripts (:func:`write_section`, :func:`write_after`).
"""
import datetime
import os
import os.path as osp
import platform
import subprocess
from typing import Dict, List, Optional

from bench import runs
from bench.data import SYNTHETIC_DOTA, Columns
# The row every other multi-seed row is compared with, seed by seed (the
# scaled rows' reference too).
from bench.scaling import REFERENCE


def _mean(rows: List[dict], key: str):
    vals = [r[key] for r in rows]
    return sum(vals) / len(vals), (max(vals) - min(vals)) / 2


def format_table(results: Dict[str, List[dict]],
                 columns: Columns = SYNTHETIC_DOTA.columns) -> str:
    """Mean (and half the range over seeds) of each metric on the test
    split, the val mAP50 it was chosen by, and the gap closed.

    Args:
        results (dict[str, list[dict]]): Per model, one dict per seed of
            bench/per_class_ap.py's test metrics, with ``val_mAP50`` and
            ``s_per_iter`` where known; 'teacher' first.
        columns (Columns): The per-class AP50 columns, (metric key,
            header). Defaults to the synthetic DOTA table's.

    Returns:
        str: A markdown table.
    """
    teacher = results['teacher'][0]['mAP50']
    student = _mean(results.get('student', results['teacher']), 'mAP50')[0]
    headers = [
        'model', 'seeds', 'val mAP50', 'mAP50', 'AP75', 'mAP (50,75)'
    ] + [header for _, header in columns] + ['gap closed', 's / train iter']
    lines = ['| ' + ' | '.join(headers) + ' |', '|' + '---|' * len(headers)]
    for name, rows in results.items():
        cells = []
        for key in ('val_mAP50', 'mAP50', 'mAP75', 'mAP') + tuple(
                k for k, _ in columns):
            if not all(key in r for r in rows):
                cells.append('-')
                continue
            m, half = _mean(rows, key)
            cells.append(f'{m:.3f}' +
                         (f' ± {half:.3f}' if len(rows) > 1 else ''))
        gap = teacher - student
        closed = ('-' if name in ('teacher', 'student') or abs(gap) < 1e-9 else
                  f'{(_mean(rows, "mAP50")[0] - student) / gap:+.0%}')
        step = [r['s_per_iter'] for r in rows if r.get('s_per_iter')]
        step = f'{sum(step) / len(step):.2f}' if step else '-'
        lines.append(f'| {name} | {len(rows)} | ' + ' | '.join(cells) +
                     f' | {closed} | {step} |')
    return '\n'.join(lines)


def paired_table(results: Dict[str, List[dict]],
                 reference: str = REFERENCE) -> Optional[str]:
    """Test mAP50 of ``reference`` minus each other multi-seed row's, seed
    by seed (seed s: same data order and student initialisation in both),
    and the mean; None where no row shares two seeds with it."""
    ref = {r['seed']: r['mAP50'] for r in results.get(reference, [])}
    seeds = sorted(ref)
    lines = []
    for name, rows in results.items():
        if name in ('teacher', reference):
            continue
        other = {r['seed']: r['mAP50'] for r in rows}
        common = [s for s in seeds if s in other]
        if len(common) < 2:
            continue
        diffs = [ref[s] - other[s] for s in common]
        cells = [
            f'{ref[s] - other[s]:+.3f}' if s in other else '-' for s in seeds
        ]
        lines.append(f'| {name} | ' + ' | '.join(cells) +
                     f' | {sum(diffs) / len(diffs):+.3f} |')
    if not lines:
        return None
    header = (f'| {reference} minus | ' +
              ' | '.join(f'seed {s}' for s in seeds) + ' | mean |')
    return '\n'.join([header, '|' + '---|' * (len(seeds) + 2)] + lines)


def code_version() -> str:
    """The commit of the code that ran, ``-dirty`` where the package, the
    configs, the tools or bench/ (its ledger aside) differ from it, and the
    source hash that keys the runs (bench/runs.py)."""

    def git(*args: str) -> str:
        return subprocess.run(['git', *args],
                              cwd=runs.ROOT,
                              capture_output=True,
                              text=True).stdout.strip()

    commit = git('rev-parse', '--short', 'HEAD') or 'unknown'
    if git('status', '--porcelain', '--', 'dkd_mm', 'dkd_mm_data', 'configs',
           'tools', 'bench', ':!bench/ledger_entries'):
        commit += '-dirty'
    return f'commit {commit}, source {runs.source_hash()}'


def write_report(path: str, marker: str, title: str, setting: str,
                 tables: List[str], seconds: float) -> None:
    """Write the section ``marker`` of ``path``: title, the machine, the
    code version, ``setting`` and the tables."""
    import torch
    header = (
        f'## {title}\n\n'
        f'Date {datetime.date.today()}, {code_version()}, {os.cpu_count()} '
        f'CPU cores ({platform.processor() or platform.machine()}), torch '
        f'{torch.__version__}; {setting}; this invocation took '
        f'{seconds:.0f} s (runs already trained with the same settings and '
        'code are reused).\n\n')
    write_section(path, marker, header + '\n\n'.join(tables))


def write_section(path: str, marker: str, body: str) -> None:
    """Replace the text between two ``marker`` lines of ``path`` (appended
    at the end where the markers are missing)."""
    text = open(path).read() if osp.isfile(path) else ''
    if text.count(marker) >= 2:
        before, _, after = text.split(marker, 2)
    else:
        before, after = text.rstrip('\n') + '\n\n', '\n'
    with open(path, 'w') as f:
        f.write(before + marker + '\n' + body + '\n' + marker + after)


def write_after(path: str, marker: str, body: str, after: str) -> None:
    """:func:`write_section`, but where the markers are missing
    the section goes right after the section headed ``after`` (before the
    next heading of level 1 to 3), or at the end where that is missing."""
    text = open(path).read() if osp.isfile(path) else ''
    if text.count(marker) < 2 and after in text:
        start = text.index(after)
        lines = text[start:].split('\n')
        for i, line in enumerate(lines[1:], 1):
            if line.startswith(('# ', '## ', '### ')):
                end = start + len('\n'.join(lines[:i]))
                text = (
                    text[:end].rstrip('\n') + f'\n\n{marker}\n{marker}\n\n' +
                    text[end:].lstrip('\n'))
                with open(path, 'w') as f:
                    f.write(text)
                break
    write_section(path, marker, body)
