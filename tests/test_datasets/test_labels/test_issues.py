"""Counting problems, the two modes, and merging the counts of workers."""
import pytest

from dkd_mm_data.labels import BadLabelError, LabelIssues


def test_skip_counts_and_keeps_first_cases():
    issues = LabelIssues('skip', max_examples=2)
    for line in (1, 2, 3):
        issues.add('malformed', 'a.txt', line)
    issues.add('missing_image', 'b.txt', detail='no b.png')
    assert len(issues) == 4
    assert issues.examples['malformed'] == [
        'a.txt:1: malformed', 'a.txt:2: malformed'
    ]
    assert issues.examples['missing_image'] == [
        'b.txt: missing_image (no b.png)'
    ]
    with pytest.raises(ValueError, match='no image to load'):
        issues.report('data', num_kept=0)


def test_error_mode_raises_at_the_first():
    with pytest.raises(BadLabelError, match=r"a\.txt:7: degenerate"):
        LabelIssues('error').add('degenerate', 'a.txt', 7)
    with pytest.raises(ValueError, match='on_bad_label'):
        LabelIssues('ignore')


def test_merge_adds_counts_and_cases_up_to_the_limit():
    total, part = LabelIssues(max_examples=2), LabelIssues()
    total.add('malformed', 'a.txt', 1)
    for line in (1, 2, 3):
        part.add('malformed', 'b.txt', line)
    part.add('outside', 'b.txt', 4)
    total.merge(part)
    assert dict(total.counts) == {'malformed': 4, 'outside': 1}
    assert total.examples == {
        'malformed': ['a.txt:1: malformed', 'b.txt:1: malformed'],
        'outside': ['b.txt:4: outside']
    }
