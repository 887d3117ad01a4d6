"""One line of a DOTA or NWPU VHR-10 label file."""
import pytest

from dkd_mm_data.labels import InputIssue, parse_dota_line, parse_nwpu_line

GOOD = '10 10 30 10 30 30 10 30 plane 0'


@pytest.mark.parametrize('line, expected', [
    (GOOD, ([10, 10, 30, 10, 30, 30, 10, 30], 'plane', 0)),
    ('1 2 3 4 5 6 7 8 ship', ([1, 2, 3, 4, 5, 6, 7, 8], 'ship', 0)),
    ('  ', None),
    ('imagesource:GoogleEarth', None),
    ('gsd:null', None),
])
def test_parse_dota_line(line, expected):
    assert parse_dota_line(line) == expected


@pytest.mark.parametrize('line, reason', [
    ('1 2 3 4 5 6 7 plane 0', 'malformed'),
    ('1 2 3 4 5 6 7 8 plane 0 extra', 'malformed'),
    ('1 2 3 4 x 6 7 8 plane 0', 'non_numeric'),
    ('1 2 3 4 nan 6 7 8 plane 0', 'non_numeric'),
    ('1 2 3 4 5 6 7 8 plane hard', 'non_numeric'),
])
def test_parse_dota_line_rejects(line, reason):
    with pytest.raises(InputIssue) as info:
        parse_dota_line(line)
    assert info.value.reason == reason


@pytest.mark.parametrize('line, expected', [
    ('(563,478),(630,573),1', ([563, 478, 630, 573], 1)),
    ('( 563, 478 ), (630 ,573) ,10\r', ([563, 478, 630, 573], 10)),
    ('(630,573),(563,478),2', ([563, 478, 630, 573], 2)),
    ('(1.5,2),(3,4e1),3', ([1.5, 2, 3, 40], 3)),
    ('', None),
    (' \r', None),
])
def test_parse_nwpu_line(line, expected):
    assert parse_nwpu_line(line) == expected


@pytest.mark.parametrize('line, reason', [
    ('(1,2),(3,4)', 'malformed'),
    ('1,2,3,4,1', 'malformed'),
    ('(1,2),(3,4),1,0', 'malformed'),
    ('(a,2),(3,4),1', 'non_numeric'),
    ('(1,2),(3,inf),1', 'non_numeric'),
    ('(1,2),(3,4),1.0', 'non_numeric'),
])
def test_parse_nwpu_line_rejects(line, reason):
    with pytest.raises(InputIssue) as info:
        parse_nwpu_line(line)
    assert info.value.reason == reason
