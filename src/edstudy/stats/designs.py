"""The three randomized designs of school studies, as frozen dataclasses validated on construction.

- :class:`IndividualDesign` [IRA]: students randomized individually.
- :class:`ClusterDesign` [CRA2_2r]: whole classes (or schools) randomized, two levels.
- :class:`ThreeLevelDesign` [CRA3_3r]: whole schools of classes randomized, three levels.

Each knows its standard error of the standardized effect, degrees of freedom and design effect;
:mod:`edstudy.stats.power` turns them into power, MDES and sample sizes (names in brackets are
PowerUp!'s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "UNIT_FIELD",
    "ClusterDesign",
    "Design",
    "IndividualDesign",
    "ThreeLevelDesign",
    "check_design",
]


def _check_unit(name: str, value: float, *, upper_open: bool = True) -> None:
    ok = 0.0 <= value < 1.0 if upper_open else 0.0 <= value <= 1.0
    if not ok:
        bound = "[0, 1)" if upper_open else "[0, 1]"
        raise ValueError(f"{name} must be in {bound}, got {value}")


def _check_share(p_treated: float) -> None:
    if not 0.0 < p_treated < 1.0:
        raise ValueError(f"p_treated must be strictly between 0 and 1, got {p_treated}")


def _check_covariates(n_covariates: int) -> None:
    if n_covariates < 0 or int(n_covariates) != n_covariates:
        raise ValueError(f"n_covariates must be a whole number >= 0, got {n_covariates}")


@dataclass(frozen=True)
class IndividualDesign:
    """Students randomized individually [PowerUp! IRA].

    Parameters
    ----------
    n : int
        Students in both arms together.
    r2 : float
        Share of the outcome variance explained by covariates (e.g. pretest ``R^2``).
    p_treated : float
        Share of students assigned to treatment.
    n_covariates : int
        Covariates in the analysis model (``g``).
    """

    n: int
    r2: float = 0.0
    p_treated: float = 0.5
    n_covariates: int = 0

    def __post_init__(self) -> None:
        _check_unit("r2", self.r2)
        _check_share(self.p_treated)
        _check_covariates(self.n_covariates)
        if self.df < 1:
            raise ValueError(
                f"too few students: an individual design with n={self.n} and "
                f"{self.n_covariates} covariate(s) has {self.df} degrees of freedom (n - g - 2); "
                f"it needs n >= {self.n_covariates + 3}"
            )

    @property
    def df(self) -> float:
        """Degrees of freedom ``n - g - 2``."""
        return self.n - self.n_covariates - 2

    @property
    def standard_error(self) -> float:
        """Standard error of the impact estimate in effect-size units."""
        p = self.p_treated
        return math.sqrt((1.0 - self.r2) / (p * (1.0 - p) * self.n))

    @property
    def design_effect(self) -> float:
        """Variance relative to an individually randomized trial without covariates: ``1 - R2``."""
        return 1.0 - self.r2

    @property
    def effective_sample_size(self) -> float:
        """``n / design_effect``."""
        return self.n / self.design_effect


@dataclass(frozen=True)
class ClusterDesign:
    """Whole clusters (classes or schools) randomized, two levels [PowerUp! CRA2_2r].

    Parameters
    ----------
    n_clusters : int
        Clusters in both arms together (``J``).
    cluster_size : float
        Students per cluster (``n``; the mean when sizes vary).
    icc : float
        Intraclass correlation of the outcome (``rho``).
    r2_level1, r2_level2 : float
        Shares of the within-cluster and between-cluster variance explained by covariates.
    p_treated : float
        Share of clusters assigned to treatment.
    n_covariates : int
        Cluster-level covariates in the analysis model (``g``).
    """

    n_clusters: int
    cluster_size: float
    icc: float
    r2_level1: float = 0.0
    r2_level2: float = 0.0
    p_treated: float = 0.5
    n_covariates: int = 0

    def __post_init__(self) -> None:
        _check_unit("icc", self.icc)
        _check_unit("r2_level1", self.r2_level1)
        _check_unit("r2_level2", self.r2_level2)
        _check_share(self.p_treated)
        _check_covariates(self.n_covariates)
        if self.cluster_size < 1:
            raise ValueError(f"cluster_size must be >= 1, got {self.cluster_size}")
        if self.df < 1:
            raise ValueError(
                f"too few clusters: a two-level cluster design with {self.n_clusters} clusters "
                f"and {self.n_covariates} covariate(s) has {self.df} degrees of freedom "
                f"(J - g - 2); it needs at least {self.n_covariates + 3} clusters"
            )

    @property
    def df(self) -> float:
        """Degrees of freedom ``J - g - 2``."""
        return self.n_clusters - self.n_covariates - 2

    @property
    def standard_error(self) -> float:
        """Standard error of the impact estimate in effect-size units."""
        pq = self.p_treated * (1.0 - self.p_treated)
        j, n, rho = self.n_clusters, self.cluster_size, self.icc
        return math.sqrt(
            rho * (1.0 - self.r2_level2) / (pq * j)
            + (1.0 - rho) * (1.0 - self.r2_level1) / (pq * j * n)
        )

    @property
    def design_effect(self) -> float:
        """Variance relative to individual randomization of ``J n`` students without covariates.

        ``n rho (1 - R2_2) + (1 - rho)(1 - R2_1)``; ``1 + (n - 1) rho`` without covariates.
        """
        n, rho = self.cluster_size, self.icc
        return n * rho * (1.0 - self.r2_level2) + (1.0 - rho) * (1.0 - self.r2_level1)

    @property
    def effective_sample_size(self) -> float:
        """``J n / design_effect``."""
        return self.n_clusters * self.cluster_size / self.design_effect


@dataclass(frozen=True)
class ThreeLevelDesign:
    """Schools randomized, students in classes in schools [PowerUp! CRA3_3r].

    Parameters
    ----------
    n_schools : int
        Schools in both arms together (``K``).
    classes_per_school : float
        Classes per school (``J``).
    class_size : float
        Students per class (``n``).
    icc_school, icc_class : float
        Shares of the outcome variance between schools (``rho3``) and between classes within
        schools (``rho2``).
    r2_level1, r2_level2, r2_level3 : float
        Shares of the student-, class- and school-level variance explained by covariates.
    p_treated : float
        Share of schools assigned to treatment.
    n_covariates : int
        School-level covariates in the analysis model (``g``).
    """

    n_schools: int
    classes_per_school: float
    class_size: float
    icc_school: float
    icc_class: float
    r2_level1: float = 0.0
    r2_level2: float = 0.0
    r2_level3: float = 0.0
    p_treated: float = 0.5
    n_covariates: int = 0

    def __post_init__(self) -> None:
        _check_unit("icc_school", self.icc_school)
        _check_unit("icc_class", self.icc_class)
        if self.icc_school + self.icc_class >= 1.0:
            raise ValueError(
                f"icc_school + icc_class must be < 1, got {self.icc_school + self.icc_class}"
            )
        for name in ("r2_level1", "r2_level2", "r2_level3"):
            _check_unit(name, getattr(self, name))
        _check_share(self.p_treated)
        _check_covariates(self.n_covariates)
        if self.classes_per_school < 1 or self.class_size < 1:
            raise ValueError(
                "classes_per_school and class_size must be >= 1, got "
                f"{self.classes_per_school} and {self.class_size}"
            )
        if self.df < 1:
            raise ValueError(
                f"too few clusters: a three-level design with {self.n_schools} schools and "
                f"{self.n_covariates} covariate(s) has {self.df} degrees of freedom (K - g - 2); "
                f"it needs at least {self.n_covariates + 3} schools"
            )

    @property
    def df(self) -> float:
        """Degrees of freedom ``K - g - 2``."""
        return self.n_schools - self.n_covariates - 2

    @property
    def standard_error(self) -> float:
        """Standard error of the impact estimate in effect-size units."""
        pq = self.p_treated * (1.0 - self.p_treated)
        k, j, n = self.n_schools, self.classes_per_school, self.class_size
        rho3, rho2 = self.icc_school, self.icc_class
        return math.sqrt(
            rho3 * (1.0 - self.r2_level3) / (pq * k)
            + rho2 * (1.0 - self.r2_level2) / (pq * k * j)
            + (1.0 - rho2 - rho3) * (1.0 - self.r2_level1) / (pq * k * j * n)
        )

    @property
    def design_effect(self) -> float:
        """Variance relative to individual randomization of ``K J n`` students, no covariates."""
        j, n = self.classes_per_school, self.class_size
        rho3, rho2 = self.icc_school, self.icc_class
        return (
            rho3 * (1.0 - self.r2_level3) * j * n
            + rho2 * (1.0 - self.r2_level2) * n
            + (1.0 - rho2 - rho3) * (1.0 - self.r2_level1)
        )

    @property
    def effective_sample_size(self) -> float:
        """``K J n / design_effect``."""
        return self.n_schools * self.classes_per_school * self.class_size / self.design_effect


Design = IndividualDesign | ClusterDesign | ThreeLevelDesign

#: Field of each design that counts the randomized units.
UNIT_FIELD: dict[type, str] = {
    IndividualDesign: "n",
    ClusterDesign: "n_clusters",
    ThreeLevelDesign: "n_schools",
}


def check_design(design: object) -> None:
    """Raise TypeError unless ``design`` is one of the three designs."""
    if not isinstance(design, IndividualDesign | ClusterDesign | ThreeLevelDesign):
        raise TypeError(
            "design must be an IndividualDesign, ClusterDesign or ThreeLevelDesign, "
            f"got {type(design).__name__}"
        )
