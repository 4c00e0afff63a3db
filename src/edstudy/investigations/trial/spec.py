"""The trial file: what a researcher writes beside the data of their randomized experiment.

A trial file is YAML::

    name: my-trial
    data: outcomes.csv            # one row per randomized student (also those with no outcome)
    log: responses.csv            # optional: the tutor's response log, in edstudy's schema
    arm: arm
    treatment: small              # or a list of treatment arms, each compared with the control
    control: regular
    randomization: block          # student | cluster | block (students randomized within blocks)
    cluster: class_id             # for cluster designs (with block: clusters within blocks)
    block: school_id              # for blocked designs
    outcomes: [posttest, read, math]
    baseline: [pretest, free_lunch, female]   # covariates for equivalence and adjustment

Optional keys: ``description``; ``student`` (the id column, default ``student_id``);
``moderators`` (baseline columns whose interaction with the treatment is tested, e.g. a stated
preference); ``attrition_boundary`` (``cautious``, the default, or ``optimistic``: the review
protocol decides, see :mod:`edstudy.stats.attrition`); ``blocks`` (``fixed``, the default, or
``random`` effects); ``icc`` (``estimated``, the default, ``wwc`` for the WWC defaults, or a
number) and ``interval`` (``t_clusters``, the default, ``t_h`` or ``z``) for the cluster-adjusted
g; ``alpha`` (0.05) and ``confidence`` (0.95). An outcome may be a mapping ``{name: read, kind:
behavioral, domain: literacy}``: ``kind`` picks the WWC default ICC (achievement 0.20, behavioral
0.10) and ``domain`` the Benjamini-Hochberg family (default: all outcomes together).

``data`` may name a public dataset instead of a file, ``data: {dataset:
assistments_ab_video_vs_text}``: edstudy's loader finds the local copy (``$EDSTUDY_SHARED_DATA``
or ``../shared/data/real`` beside the checkout) or the download cache, so a shipped example needs
no copied data.

Every mistake is reported with the file, line and field (:class:`edstudy.sim.ConfigError`) before
any data are read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edstudy.sim._config import ConfigError, Source, check_keys, load_yaml, number, suggest
from edstudy.sim.curriculum import data_path

__all__ = [
    "DATASETS",
    "DESIGNS",
    "OutcomeSpec",
    "TrialSpec",
    "load_trial",
    "trial_from_dict",
]

#: Randomization designs a trial file may declare.
DESIGNS = ("student", "cluster", "block")
#: Public datasets a trial file may name as ``data: {dataset: NAME}``.
DATASETS = ("assistments_ab_video_vs_text",)
_KINDS = ("achievement", "behavioral")
_TOP_KEYS = (
    "name",
    "description",
    "data",
    "log",
    "student",
    "arm",
    "treatment",
    "control",
    "randomization",
    "cluster",
    "block",
    "outcomes",
    "baseline",
    "moderators",
    "attrition_boundary",
    "blocks",
    "icc",
    "interval",
    "alpha",
    "confidence",
)


@dataclass(frozen=True)
class OutcomeSpec:
    """One outcome: its column, the WWC kind of measure and its Benjamini-Hochberg domain."""

    name: str
    kind: str = "achievement"
    domain: str = "all outcomes"


@dataclass(frozen=True)
class TrialSpec:
    """A randomized trial as its file declares it (see the module docstring).

    Attributes
    ----------
    name, description : str
    data_path : Path or None
        The outcomes file (absolute), or None when ``dataset`` is set or the table is passed
        in Python (``analyze_trial(spec, outcomes=...)``).
    dataset : str or None
        A public dataset name from :data:`DATASETS`.
    log_path : Path or None
    student, arm : str
        Id and arm columns.
    treatments : tuple of str
        Each compared with ``control``.
    control : str
    randomization : {"student", "cluster", "block"}
    cluster, block : str or None
    outcomes : tuple of OutcomeSpec
    baseline, moderators : tuple of str
    boundary : {"cautious", "optimistic"}
    blocks_as : {"fixed", "random"}
    icc : "estimated", "wwc" or float
    interval : {"t_clusters", "t_h", "z"}
    alpha, confidence : float
    source : str
        The file the spec came from (for messages).
    """

    name: str
    treatments: tuple[str, ...]
    control: str
    outcomes: tuple[OutcomeSpec, ...]
    data_path: Path | None = None
    dataset: str | None = None
    log_path: Path | None = None
    description: str = ""
    student: str = "student_id"
    arm: str = "arm"
    randomization: str = "student"
    cluster: str | None = None
    block: str | None = None
    baseline: tuple[str, ...] = ()
    moderators: tuple[str, ...] = ()
    boundary: str = "cautious"
    blocks_as: str = "fixed"
    icc: str | float = "estimated"
    interval: str = "t_clusters"
    alpha: float = 0.05
    confidence: float = 0.95
    source: str = "<trial>"

    def __post_init__(self) -> None:
        if self.randomization not in DESIGNS:
            raise ValueError(f"randomization must be one of {DESIGNS}, got {self.randomization!r}")
        if self.data_path is not None and self.dataset is not None:
            raise ValueError("a trial names either a data file or a dataset, not both")
        if not self.treatments:
            raise ValueError("a trial needs at least one treatment arm")
        if not self.outcomes:
            raise ValueError("a trial needs at least one outcome")
        if self.control in self.treatments:
            raise ValueError(f"the control arm {self.control!r} is also listed as a treatment")
        if self.randomization == "cluster" and self.cluster is None:
            raise ValueError("a cluster-randomized trial needs the cluster column")
        if self.randomization == "block" and self.block is None:
            raise ValueError("a block-randomized trial needs the block column")
        for name, value, options in (
            ("boundary", self.boundary, ("cautious", "optimistic")),
            ("blocks_as", self.blocks_as, ("fixed", "random")),
            ("interval", self.interval, ("t_clusters", "t_h", "z")),
        ):
            if value not in options:
                raise ValueError(f"{name} must be one of {options}, got {value!r}")
        if isinstance(self.icc, str):
            if self.icc not in ("estimated", "wwc"):
                raise ValueError(f"icc must be 'estimated', 'wwc' or a number, got {self.icc!r}")
        elif not 0.0 <= float(self.icc) < 1.0:
            raise ValueError(f"icc must be in [0, 1), got {self.icc}")
        for name in ("alpha", "confidence"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be strictly between 0 and 1")

    @property
    def cluster_assigned(self) -> bool:
        """Whether clusters (not students) were the unit of assignment."""
        return self.randomization == "cluster" or (
            self.randomization == "block" and self.cluster is not None
        )

    @property
    def outcome_names(self) -> list[str]:
        return [o.name for o in self.outcomes]

    @property
    def data_label(self) -> str:
        """How error messages name the outcomes table."""
        if self.data_path is not None:
            return self.data_path.name
        return f"dataset {self.dataset!r}" if self.dataset else "outcomes"

    def design_text(self) -> str:
        """The design in words, e.g. ``classes (class_id) randomized within schools``."""
        if self.randomization == "student":
            return "students randomized individually"
        if self.randomization == "cluster":
            return f"clusters ({self.cluster}) randomized"
        unit = f"clusters ({self.cluster})" if self.cluster else "students"
        return f"{unit} randomized within blocks ({self.block})"


def _text(value: Any, src: Source, path: Sequence[str | int]) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        raise src.error(f"must be a name (text), got {value!r}", path)
    return str(value)


def _names(value: Any, src: Source, key: str, *, required: bool = False) -> list[str]:
    if value is None:
        if required:
            raise src.error(f"missing required key '{key}'", [], field=key)
        return []
    items = value if isinstance(value, list) else [value]
    names = [
        _text(v, src, [key, i] if isinstance(value, list) else [key]) for i, v in enumerate(items)
    ]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise src.error(f"lists {dup[0]!r} twice", [key])
    return names


def _outcomes(value: Any, src: Source) -> tuple[OutcomeSpec, ...]:
    if value is None:
        raise src.error("missing required key 'outcomes'", [], field="outcomes")
    items = value if isinstance(value, list) else [value]
    if not items:
        raise src.error("must list at least one outcome column", ["outcomes"])
    out = []
    for i, item in enumerate(items):
        path: list[str | int] = ["outcomes", i] if isinstance(value, list) else ["outcomes"]
        if isinstance(item, Mapping):
            check_keys(item, ("name", "kind", "domain"), src, path, required=("name",))
            kind = item.get("kind", "achievement")
            if kind not in _KINDS:
                raise src.error(
                    f"kind must be one of {', '.join(_KINDS)}, got {kind!r}"
                    f"{suggest(str(kind), _KINDS)}",
                    [*path, "kind"],
                )
            domain = _text(item.get("domain", "all outcomes"), src, [*path, "domain"])
            out.append(OutcomeSpec(_text(item["name"], src, [*path, "name"]), kind, domain))
        else:
            out.append(OutcomeSpec(_text(item, src, path)))
    names = [o.name for o in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise src.error(f"lists {dup[0]!r} twice", ["outcomes"])
    return tuple(out)


def _choice(doc: Mapping[str, Any], key: str, options: Sequence[str], default: str, src: Source):
    value = doc.get(key, default)
    if value not in options:
        raise src.error(
            f"must be one of {', '.join(options)}, got {value!r}{suggest(str(value), options)}",
            [key],
        )
    return value


def _data(doc: Mapping[str, Any], src: Source, base: Path) -> tuple[Path | None, str | None]:
    value = doc.get("data")
    if value is None:
        raise src.error("missing required key 'data'", [], field="data")
    if isinstance(value, Mapping):
        check_keys(value, ("dataset",), src, ["data"], required=("dataset",))
        name = value["dataset"]
        if name not in DATASETS:
            raise src.error(
                f"unknown dataset {name!r}{suggest(str(name), DATASETS)}; known: "
                f"{', '.join(DATASETS)}",
                ["data", "dataset"],
            )
        return None, str(name)
    return _file(value, src, "data", base), None


def _file(value: Any, src: Source, key: str, base: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise src.error(f"must be a file name (relative to the trial file), got {value!r}", [key])
    path = (base / value).resolve()
    if not path.is_file():
        raise src.error(f"file not found: {value} (looked in {base})", [key])
    return path


def _unit(value: Any, src: Source, key: str) -> float:
    return number(value, src, [key], low=0.0, high=1.0, low_open=True, high_open=True)


def trial_from_dict(
    doc: Mapping[str, Any], *, source: Source | None = None, base_dir: Path | None = None
) -> TrialSpec:
    """Build a :class:`TrialSpec` from a trial document; paths resolve against ``base_dir``.

    Raises
    ------
    ConfigError
        Naming the file, line and field of the first problem.
    """
    src = source or Source(name="<trial>")
    base = base_dir or Path.cwd()
    check_keys(doc, _TOP_KEYS, src, required=("name", "data", "treatment", "control", "outcomes"))
    data_path, dataset = _data(doc, src, base)
    log_path = _file(doc["log"], src, "log", base) if doc.get("log") is not None else None
    treatments = _names(doc.get("treatment"), src, "treatment", required=True)
    control = _text(doc.get("control"), src, ["control"])
    if control in treatments:
        raise src.error(f"the control arm {control!r} is also listed as a treatment", ["control"])
    randomization = _choice(doc, "randomization", DESIGNS, "student", src)
    cluster = _text(doc["cluster"], src, ["cluster"]) if doc.get("cluster") is not None else None
    block = _text(doc["block"], src, ["block"]) if doc.get("block") is not None else None
    if randomization == "cluster" and cluster is None:
        raise src.error(
            "a cluster-randomized trial needs 'cluster': the column of the randomized clusters",
            ["randomization"],
        )
    if randomization == "block" and block is None:
        raise src.error(
            "a block-randomized trial needs 'block': the column of the blocks", ["randomization"]
        )
    if randomization == "student" and cluster is not None:
        raise src.error(
            "'cluster' is only for cluster designs; with students randomized individually leave "
            "it out (or use randomization: cluster)",
            ["cluster"],
        )
    icc = doc.get("icc", "estimated")
    if isinstance(icc, str):
        if icc not in ("estimated", "wwc"):
            raise src.error(
                f"must be 'estimated', 'wwc' or a number in [0, 1), got {icc!r}"
                f"{suggest(icc, ('estimated', 'wwc'))}",
                ["icc"],
            )
    else:
        icc = number(icc, src, ["icc"], low=0.0, high=1.0, high_open=True)
    outcomes = _outcomes(doc.get("outcomes"), src)
    baseline = _names(doc.get("baseline"), src, "baseline")
    moderators = _names(doc.get("moderators"), src, "moderators")
    roles = {"arm": doc.get("arm", "arm"), "student": doc.get("student", "student_id")}
    outcome_names = [o.name for o in outcomes]
    clash = sorted(set(outcome_names) & set(baseline))
    if clash:
        raise src.error(f"{clash[0]!r} is both an outcome and a baseline covariate", ["baseline"])
    for role, column in roles.items():
        if column in outcome_names:
            raise src.error(f"the {role} column {column!r} is also listed as an outcome", [role])
    return TrialSpec(
        name=_text(doc["name"], src, ["name"]),
        description=str(doc.get("description", "") or ""),
        data_path=data_path,
        dataset=dataset,
        log_path=log_path,
        student=_text(roles["student"], src, ["student"]),
        arm=_text(roles["arm"], src, ["arm"]),
        treatments=tuple(treatments),
        control=control,
        randomization=randomization,
        cluster=cluster,
        block=block,
        outcomes=outcomes,
        baseline=tuple(baseline),
        moderators=tuple(moderators),
        boundary=_choice(doc, "attrition_boundary", ("cautious", "optimistic"), "cautious", src),
        blocks_as=_choice(doc, "blocks", ("fixed", "random"), "fixed", src),
        icc=icc,
        interval=_choice(doc, "interval", ("t_clusters", "t_h", "z"), "t_clusters", src),
        alpha=_unit(doc.get("alpha", 0.05), src, "alpha"),
        confidence=_unit(doc.get("confidence", 0.95), src, "confidence"),
        source=src.name,
    )


#: The example trials shipped with edstudy, by name (package data).
EXAMPLE_TRIALS: tuple[str, ...] = ("video_vs_text", "simulated_cluster_trial")


def trial_file(path_or_name: str | Path) -> Path:
    """The trial file at ``path_or_name``, or a shipped example of that name (``video_vs_text``)."""
    p = Path(path_or_name).expanduser()
    if not p.exists() and str(path_or_name) in EXAMPLE_TRIALS:
        return data_path(f"trials/{path_or_name}.yaml")
    return p


def load_trial(path: str | Path) -> TrialSpec:
    """Read and check a trial file (see the module docstring), or a shipped example by name.

    Raises
    ------
    ConfigError
        Naming the file, line and field of the first problem; a missing data file is reported
        at its ``data:`` line.
    """
    path = trial_file(path)
    doc, src = load_yaml(path)
    if not isinstance(doc, Mapping):
        raise ConfigError("a trial file must be a YAML mapping of keys to values", file=str(path))
    return trial_from_dict(doc, source=src, base_dir=Path(path).resolve().parent)
