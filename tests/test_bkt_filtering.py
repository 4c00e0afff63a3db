"""The online BKT update (``update_mastery``, ``p_correct``) against Bayes' rule written out here.

The reference is the two-state chain written with a belief vector (P(U), P(M)), likelihood
vectors and a transition matrix, so it shares no formula with the implementation's scalar
algebra; values are compared to 1e-12 (a handful of floating-point operations). Worked numbers
are computed by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from edstudy.bkt import p_correct, update_mastery

unit = st.floats(0.0, 1.0)
inner = st.floats(0.001, 0.999)


def _reference(p, correct, guess, slip, learn, forget):
    belief = np.array([1.0 - p, p])
    emit_correct = np.array([guess, 1.0 - slip])  # P(correct | U), P(correct | M)
    like = emit_correct if correct else 1.0 - emit_correct
    post = belief * like / (belief @ like)
    a = np.array([[1.0 - learn, learn], [forget, 1.0 - forget]])
    return (post @ a)[1]


def test_worked_example():
    # p = 0.3, guess 0.2, slip 0.1, learn 0.15, forget 0.05
    # correct:   post = 0.3 * 0.9 / (0.27 + 0.7 * 0.2) = 0.27 / 0.41
    # incorrect: post = 0.3 * 0.1 / (0.03 + 0.7 * 0.8) = 0.03 / 0.59
    # next = post * 0.95 + (1 - post) * 0.15
    post_c, post_w = 0.27 / 0.41, 0.03 / 0.59
    out = update_mastery(
        np.array([0.3, 0.3]), np.array([1, 0]), guess=0.2, slip=0.1, learn=0.15, forget=0.05
    )
    np.testing.assert_allclose(
        out, [post_c * 0.95 + (1 - post_c) * 0.15, post_w * 0.95 + (1 - post_w) * 0.15], atol=1e-12
    )
    # forget defaults to 0: next = post + (1 - post) * learn
    out = update_mastery(np.array([0.3]), np.array([1]), guess=0.2, slip=0.1, learn=0.15)
    assert out[0] == pytest.approx(post_c + (1 - post_c) * 0.15, abs=1e-12)
    # P(correct) = 0.3 * 0.9 + 0.7 * 0.2 = 0.41
    assert p_correct(np.array([0.3]), 0.2, 0.1)[0] == pytest.approx(0.41, abs=1e-12)
    assert p_correct(0.0, 0.2, 0.1) == pytest.approx(0.2) and p_correct(1.0, 0.2, 0.1) == 0.9


@settings(max_examples=200, deadline=None)
@given(p=unit, correct=st.booleans(), guess=inner, slip=inner, learn=unit, forget=unit)
def test_update_matches_the_two_state_chain(p, correct, guess, slip, learn, forget):
    out = update_mastery(
        np.array([p]), np.array([int(correct)]), guess=guess, slip=slip, learn=learn,
        forget=forget,
    )  # fmt: skip
    assert out[0] == pytest.approx(_reference(p, correct, guess, slip, learn, forget), abs=1e-12)
    assert 0.0 <= out[0] <= 1.0
    pc = p_correct(np.array([p]), guess, slip)[0]
    assert pc == pytest.approx(np.array([1.0 - p, p]) @ np.array([guess, 1.0 - slip]), abs=1e-12)
    assert 0.0 <= pc <= 1.0


@settings(max_examples=200, deadline=None)
@given(p=unit, guess=inner, slip=inner, learn=unit, forget=unit)
def test_correct_never_lowers_mastery_below_incorrect(p, guess, slip, learn, forget):
    # When 1 - slip >= guess a correct answer is evidence for mastery; the learning transition
    # is increasing in the posterior when learn + forget <= 1, so the order survives it.
    assume(1.0 - slip >= guess and learn + forget <= 1.0)
    right, wrong = update_mastery(
        np.array([p, p]), np.array([1, 0]), guess=guess, slip=slip, learn=learn, forget=forget
    )
    assert right >= wrong - 1e-12


def test_vectorized_over_students_with_per_student_parameters():
    rng = np.random.default_rng(4)
    n = 50
    p, c = rng.random(n), rng.integers(0, 2, n)
    g, s = rng.uniform(0.05, 0.4, n), rng.uniform(0.05, 0.4, n)
    lr, fg = rng.uniform(0, 0.5, n), rng.uniform(0, 0.3, n)
    p_before = p.copy()
    out = update_mastery(p, c, guess=g, slip=s, learn=lr, forget=fg)
    assert out.shape == (n,)
    np.testing.assert_array_equal(p, p_before)  # the input is not modified
    expected = [_reference(*args) for args in zip(p, c, g, s, lr, fg, strict=True)]
    np.testing.assert_allclose(out, expected, atol=1e-12)
    # answers given as booleans or as 0/1 integers mean the same
    np.testing.assert_array_equal(
        update_mastery(p, c.astype(bool), guess=g, slip=s, learn=lr, forget=fg), out
    )


def test_boundaries_of_the_belief():
    # a certain belief stays certain through Bayes' rule; only the transition moves it
    out = update_mastery(np.array([0.0, 1.0, 0.0, 1.0]), np.array([1, 1, 0, 0]),
                         guess=0.2, slip=0.1, learn=0.25, forget=0.1)  # fmt: skip
    np.testing.assert_allclose(out, [0.25, 0.9, 0.25, 0.9], atol=1e-15)


def test_parameters_are_keyword_only():
    # update_mastery(p, correct, 0.2, 0.1, 0.3) would be ambiguous (guess or slip first?)
    with pytest.raises(TypeError):
        update_mastery(np.array([0.5]), np.array([1]), 0.2, 0.1, 0.3)  # type: ignore[misc]
