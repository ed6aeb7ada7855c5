import pytest

from musicinterp.errors import MusicInterpError
from musicinterp.report import Report, ReportError, ReportItemTypeError


def test_an_unshowable_item_is_a_type_error_and_a_report_error():
    with pytest.raises(ReportItemTypeError) as caught:
        Report("r").add(object())
    err = caught.value
    assert isinstance(err, TypeError) and isinstance(err, ReportError) and isinstance(err, ValueError)
    assert isinstance(err, MusicInterpError)
