"""Bayesian Knowledge Tracing: the fitted estimator and the online mastery update."""

from edstudy.bkt.filtering import p_correct, update_mastery

__all__ = ["p_correct", "update_mastery"]
