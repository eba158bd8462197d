"""fpnotes.checks._core: the verdicts and messages every exercise check shares."""

import numpy as np

from fpnotes.checks import call_student, compare_array


def test_nearly_right_is_not_called_wrongly_scaled():
    e = np.arange(1.0, 7.0).reshape(2, 3)
    ok, msg = compare_array(e * (1 + 1e-5), e)
    assert not ok and "close but not accurate enough" in msg and "scale" not in msg


def test_scale_and_sign_messages():
    e = np.arange(1.0, 7.0).reshape(2, 3)
    ok, msg = compare_array(2 * e, e)
    assert not ok and "wrong scale" in msg and "2 times" in msg
    ok, msg = compare_array(-3 * e, e)
    assert not ok and "opposite way" in msg and "3 times" in msg
    assert compare_array(e, e)[0]


def test_an_answer_whose_conversion_raises_gets_a_message():
    class Tensor:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("boom")

    ok, msg = compare_array(Tensor(), np.ones(2))
    assert not ok and "numeric array" in msg
    ok, msg = compare_array(np.array(["a", "b"]), np.ones(2))
    assert not ok and "dtype" in msg


def test_call_student_reports_a_missing_return_and_errors():
    assert call_student(lambda x: None, (1,), "f") == (None, "f returns None: end it with a "
                                                            "return statement")

    def stub(x):
        raise NotImplementedError

    assert "NotImplementedError" in call_student(stub, (1,), "f")[1]
    assert "ZeroDivisionError" in call_student(lambda x: 1 / 0, (1,), "f")[1]
    assert call_student(lambda x: x + 1, (1,), "f") == (2, "")
