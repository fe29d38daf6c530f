"""Normal limits of circumferential profiles: per view × state × tracer × sex, as files.

A limits file (JSON, schema ``planarmpi/perfusion-normals@1``) holds, for one tracer group
and one sex, the mean and SD of the normalised profile at every angle of every view and
state (stress; rest/redistribution), the number of studies, the profile settings they were
measured with, and their provenance. Built-in limits ship with the package (derived from
simulated normal populations — see docs/perfusion.md); a site builds its own from its
normal studies with ``planarmpi normals build`` (:func:`build_limits`). Every result names
the limits it used.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from planarmpi._version import __version__
from planarmpi.analysis.perfusion.profiles import Profile, ProfileParams
from planarmpi.errors import InvalidInputError
from planarmpi.model import Sex, State, Tracer, View

__all__ = [
    "SCHEMA",
    "NormalLimits",
    "ViewLimits",
    "align_to_template",
    "best_shift",
    "build_limits",
    "builtin_limits",
    "difference_noise_sd",
    "difference_scale",
    "difference_shifts",
    "parse_limits",
    "read_limits",
    "scaled_difference",
    "select_limits",
    "smooth_sd",
    "state_group",
    "stress_rest_difference",
    "tail_scale",
    "template_shifts",
    "tracer_group",
    "write_limits",
]

SCHEMA = "planarmpi/perfusion-normals@1"
#: The ``state`` of the limits of the paired stress − rest difference profile.
DIFFERENCE_STATE = "stress-rest"
#: Largest rotation searched when registering a rest profile onto its stress profile.
REGISTRATION_MAX_DEG = 12.0
#: Window (degrees) over which the stress and rest limits' SD is pooled (:func:`smooth_sd`).
SD_WINDOW_DEG = 30.0
#: The rest profile is scaled onto the stress profile by this quantile of their ratio
#: (:func:`difference_scale`) before the paired difference is taken; recorded in limits
#: files as ``provenance.difference_scale_quantile`` (files without it were built with
#: the unscaled difference, and are used with it).
DIFFERENCE_SCALE_QUANTILE = 0.75
#: Only profile points at least this bright in the rest profile (fraction of its maximum)
#: set the scale: the valve plane's faint points would make the ratio noisy.
DIFFERENCE_SCALE_MIN_VALUE = 0.5
#: Smallest SD of the limits (fraction of the normalised maximum): a handful of
#: near-identical studies must not produce limits that any noise crosses.
SD_FLOOR = 0.02
#: Default lower-tail probability at which :func:`tail_scale` matches the normals'
#: leave-one-out z-scores to a Gaussian's (1%: z = −2.33, between the edge and the core
#: multipliers) when a site asks for it (``normals build --tail-probability``).
TAIL_PROBABILITY = 0.01
Array = NDArray[np.float64]

_TRACER_GROUPS = {
    Tracer.TC99M_SESTAMIBI: "tc99m",
    Tracer.TC99M_TETROFOSMIN: "tc99m",
    Tracer.TC99M_PERFUSION: "tc99m",
    Tracer.TL201: "tl201",
}
#: Views the limits are kept for, by their short name in files.
VIEW_NAMES = {View.ANTERIOR: "ANT", View.LAO: "LAO", View.LEFT_LATERAL: "LLAT"}


def tracer_group(tracer: Tracer) -> str | None:
    """``tc99m`` for the Tc-99m perfusion agents, ``tl201`` for thallium, else None."""
    return _TRACER_GROUPS.get(tracer)


def state_group(state: State) -> str | None:
    """``stress`` or ``rest`` (rest, redistribution, reinjection); None when unknown."""
    if state in (State.STRESS_EXERCISE, State.STRESS_PHARMACOLOGIC, State.STRESS):
        return "stress"
    if state in (State.REST, State.REDISTRIBUTION, State.REINJECTION):
        return "rest"
    return None


@dataclass(frozen=True, slots=True)
class ViewLimits:
    """Mean and SD of the normalised profile at each angle, for one view and state."""

    view: str
    state: str
    mean: Array
    sd: Array
    n_studies: int
    alignment_max_deg: float = 0.0
    #: The factor the SD was widened by (:func:`tail_scale`; already applied to ``sd``).
    tail_scale: float = 1.0
    #: The recorded camera angles of the normals' views (lowest, highest; degrees), for an
    #: oblique view (LAO); None when not recorded (older files, views of fixed angle).
    view_angle_range_deg: tuple[float, float] | None = None
    #: The root mean square, over the normals, of their profiles' counting noise SD at
    #: each angle (:func:`~.profiles.counting_noise_sd`; part of ``sd``); None when not
    #: recorded (older files, or normals whose images did not hold counts).
    noise_sd: Array | None = None

    def lower_limit(self, sd_multiplier: float) -> Array:
        """Mean − k·SD at each angle."""
        return np.asarray(self.mean - sd_multiplier * self.sd)

    def widened_sd(self, noise_sd: Array | None) -> Array:
        """The SD for a profile whose counting noise is ``noise_sd`` (aligned to these
        limits): √(SD² + excess²), the excess being how far the profile's noise exceeds
        the normals' (root mean square) at each angle. A profile no noisier than the normals
        keeps ``sd``: the limits only widen, so normals with less noise than a patient's
        cannot narrow them below what their own spread measured."""
        if noise_sd is None or self.noise_sd is None:
            return self.sd
        excess = np.clip(np.square(noise_sd) - np.square(self.noise_sd), 0.0, None)
        return np.asarray(np.sqrt(np.square(self.sd) + excess))

    def widened(self, noise_sd: Array | None) -> ViewLimits:
        """These limits with :meth:`widened_sd` as their SD."""
        return replace(self, sd=self.widened_sd(noise_sd))


@dataclass(frozen=True, slots=True)
class NormalLimits:
    """One limits file: a tracer group and a sex, all views and states."""

    name: str
    tracer_group: str
    sex: Sex
    n_angles: int
    views: tuple[ViewLimits, ...]
    profile_params: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    source_path: str = ""

    def for_view(self, view: View, state: State) -> ViewLimits | None:
        """Limits of a view in a state, or None when the file has none."""
        name, group = VIEW_NAMES.get(view), state_group(state)
        for v in self.views:
            if v.view == name and v.state == group:
                return v
        return None

    def difference_for(self, view: View) -> ViewLimits | None:
        """Limits of a view's paired stress − rest difference (:func:`stress_rest_difference`),
        or None when the file has none (files built before they existed)."""
        name = VIEW_NAMES.get(view)
        for v in self.views:
            if v.view == name and v.state == DIFFERENCE_STATE:
                return v
        return None

    @property
    def difference_scale_quantile(self) -> float | None:
        """How the paired differences of these limits were taken
        (:func:`difference_scale`): the quantile recorded when they were built, or None
        for files built before the rest profile was scaled (their differences, and a
        patient's compared with them, are unscaled)."""
        value = self.provenance.get("difference_scale_quantile")
        return None if value is None else float(value)

    def describe(self) -> dict[str, Any]:
        """How a result names these limits."""
        return {
            "name": self.name, "tracer_group": self.tracer_group, "sex": self.sex.value,
            "source": self.source_path or "built-in",
            "n_studies": {f"{v.view}/{v.state}": v.n_studies for v in self.views},
            "provenance": self.provenance,
        }

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "schema": SCHEMA,
            "name": self.name,
            "tracer_group": self.tracer_group,
            "sex": self.sex.value,
            "n_angles": self.n_angles,
            "angle_convention": "0° = top of the displayed image, clockwise",
            "profile_params": self.profile_params,
            "provenance": self.provenance,
            "views": [{"view": v.view, "state": v.state, "n_studies": v.n_studies,
                       "alignment_max_deg": v.alignment_max_deg,
                       "sd_tail_scale": round(v.tail_scale, 4),
                       **({"view_angle_range_deg": list(v.view_angle_range_deg)}
                          if v.view_angle_range_deg is not None else {}),
                       "mean": [round(float(x), 5) for x in v.mean],
                       "sd": [round(float(x), 5) for x in v.sd],
                       **({"noise_sd": [round(float(x), 5) for x in v.noise_sd]}
                          if v.noise_sd is not None else {})} for v in self.views],
        }


def _fail(path: str, problem: str) -> InvalidInputError:
    return InvalidInputError(f"{path}: not a usable normal-limits file: {problem}")


def parse_limits(doc: Any, path: str = "<limits>") -> NormalLimits:
    """Validate a limits document (a parsed JSON object)."""
    if not isinstance(doc, dict):
        raise _fail(path, "the top level must be an object")
    if doc.get("schema") != SCHEMA:
        raise _fail(path, f"schema must be {SCHEMA!r}, got {doc.get('schema')!r}")
    try:
        n = int(doc["n_angles"])
        sex = Sex(doc["sex"])
        group = str(doc["tracer_group"])
        views = []
        for item in doc["views"]:
            mean = np.asarray(item["mean"], dtype=np.float64)
            sd = np.asarray(item["sd"], dtype=np.float64)
            if mean.shape != (n,) or sd.shape != (n,):
                raise _fail(path, f"{item.get('view')}/{item.get('state')}: mean and sd "
                                  f"must have {n} values")
            if not (np.isfinite(mean).all() and np.isfinite(sd).all() and (sd > 0).all()):
                raise _fail(path, f"{item['view']}/{item['state']}: non-finite or "
                                  "non-positive values")
            if item["view"] not in VIEW_NAMES.values() \
                    or item["state"] not in ("stress", "rest", DIFFERENCE_STATE):
                raise _fail(path, f"unknown view/state {item['view']}/{item['state']}")
            angles = item.get("view_angle_range_deg")
            if angles is not None:
                low, high = (float(a) for a in angles)
                if not (np.isfinite([low, high]).all() and -360 <= low <= high <= 360):
                    raise _fail(path, f"{item['view']}/{item['state']}: view_angle_range_deg "
                                      f"must be [lowest, highest] within ±360°, got {angles}")
                angles = (low, high)
            noise = item.get("noise_sd")
            if noise is not None:
                noise = np.asarray(noise, dtype=np.float64)
                if noise.shape != (n,) or not np.isfinite(noise).all() or (noise < 0).any():
                    raise _fail(path, f"{item['view']}/{item['state']}: noise_sd must hold "
                                      f"{n} finite values ≥ 0")
            views.append(ViewLimits(str(item["view"]), str(item["state"]), mean, sd,
                                    int(item["n_studies"]),
                                    float(item.get("alignment_max_deg", 0.0)),
                                    float(item.get("sd_tail_scale", 1.0)), angles, noise))
    except InvalidInputError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(path, f"missing or invalid field ({exc})") from None
    if group not in ("tc99m", "tl201"):
        raise _fail(path, f"tracer_group must be tc99m or tl201, got {group!r}")
    return NormalLimits(str(doc.get("name", Path(path).stem)), group, sex, n, tuple(views),
                        dict(doc.get("profile_params", {})), dict(doc.get("provenance", {})),
                        path)


def read_limits(path: str | os.PathLike[str]) -> NormalLimits:
    """Read and validate a limits file.

    Raises
    ------
    InvalidInputError
        Naming the file and the problem.
    """
    from planarmpi.io.documents import load_json

    return parse_limits(load_json(path, "normal-limits"), str(path))


def write_limits(limits: NormalLimits, path: str | os.PathLike[str]) -> Path:
    """Write a limits file (atomically: a temporary file renamed over the target)."""
    from planarmpi.io.outputs import write_atomic

    return write_atomic(path, json.dumps(limits.to_json(), indent=1) + "\n")


@functools.cache
def builtin_limits() -> tuple[NormalLimits, ...]:
    """The limits shipped with the package (simulated normal populations)."""
    folder = resources.files("planarmpi.analysis") / "data" / "perfusion_normals"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            found.append(parse_limits(json.loads(entry.read_text(encoding="utf-8")),
                                      f"built-in:{entry.name}"))
    return tuple(found)


def select_limits(candidates: Iterable[NormalLimits], tracer: Tracer,
                  sex: Sex) -> NormalLimits | None:
    """The first limits matching the tracer group and sex (user files before built-ins)."""
    group = tracer_group(tracer)
    for limits in candidates:
        if limits.tracer_group == group and limits.sex is sex:
            return limits
    return None


def best_shift(profile: Array, template: Array, max_points: int) -> int:
    """Circular shift (points) of ``profile`` that correlates best with ``template``."""
    best, best_shift_ = -np.inf, 0
    for shift in range(-max_points, max_points + 1):
        c = float(np.dot(np.roll(profile, shift) - profile.mean(), template - template.mean()))
        if c > best + 1e-12:
            best, best_shift_ = c, shift
    return best_shift_


def template_shifts(stack: Array, max_deg: float, iterations: int = 3) -> list[int]:
    """The circular shift (points) of each profile (row) onto the mean of all, found
    iteratively within ± ``max_deg``."""
    n = stack.shape[1]
    max_points = int(max_deg // (360.0 / n))
    shifts = [0] * stack.shape[0]
    if max_points <= 0:
        return shifts
    aligned = stack.copy()
    for _ in range(iterations):
        template = aligned.mean(axis=0)
        shifts = [best_shift(row, template, max_points) for row in stack]
        aligned = np.stack([np.roll(row, k) for row, k in zip(stack, shifts, strict=True)])
    return shifts


def align_to_template(stack: Array, max_deg: float, iterations: int = 3) -> Array:
    """Rotate each profile (row) onto the mean of all, iteratively, within ± ``max_deg``."""
    shifts = template_shifts(stack, max_deg, iterations)
    return np.stack([np.roll(row, k) for row, k in zip(stack, shifts, strict=True)])


def _noise_rms(rows: Iterable[Array | None]) -> Array | None:
    """The root mean square of the normals' noise rows; None when any normal has none."""
    given = list(rows)
    known = [x for x in given if x is not None]
    if not known or len(known) < len(given):
        return None
    return np.asarray(np.sqrt(np.mean(np.square(np.stack(known)), axis=0)))


def difference_scale(stress: Array, rest: Array, quantile: float | None) -> float:
    """The factor the (registered) rest profile is multiplied by before it is subtracted
    from the stress profile: the ``quantile`` of stress / rest over the points where the
    rest profile is ≥ :data:`DIFFERENCE_SCALE_MIN_VALUE`; 1 when ``quantile`` is None (the
    unscaled difference of older limits files) or fewer than a sixth of the points qualify.

    Each profile is normalised to its own hottest wall. When that wall is not the same one
    in both images — a stress defect took away the rest image's hottest part, or hot gut
    raised another wall at rest — every point of the difference is offset by the change of
    normaliser, and a reversible defect's loss is understated by it (a simulated RCA
    ischaemia of severity 0.5 whose rest image peaked on the inferior wall read +0.25
    everywhere in the anterior view and −0.1 in the defect). The walls the stress did not
    change keep one ratio; an upper quantile of the ratios finds it with a defect covering
    up to three quarters of the profile.
    """
    if quantile is None:
        return 1.0
    use = rest >= DIFFERENCE_SCALE_MIN_VALUE
    if int(use.sum()) < max(3, rest.size // 6):
        return 1.0
    return float(np.quantile(stress[use] / rest[use], quantile))


def stress_rest_difference(stress: Array, rest: Array, template: Array,
                           alignment_max_deg: float,
                           registration_max_deg: float = REGISTRATION_MAX_DEG,
                           scale_quantile: float | None = DIFFERENCE_SCALE_QUANTILE) -> Array:
    """A patient's stress − rest profile difference, on the stress limits' template.

    The rest profile is rotated onto the stress profile (±``registration_max_deg``: the
    patient is repositioned between the acquisitions), scaled onto it
    (:func:`difference_scale`; ``scale_quantile`` None leaves it as normalised), the
    difference taken, and the difference rotated as the stress profile is onto
    ``template`` (the stress limits' mean). Each profile is normalised to its own maximum,
    so the difference is of shape, not of counts: it is negative where the stress image
    lost uptake that rest did not. The patient is his own control — breasts, habitus and
    heart size are the same in both images — so its normal variation is far smaller than
    the population's.
    """
    return scaled_difference(stress, rest, template, alignment_max_deg, registration_max_deg,
                             scale_quantile)[0]


def scaled_difference(stress: Array, rest: Array, template: Array, alignment_max_deg: float,
                      registration_max_deg: float = REGISTRATION_MAX_DEG,
                      scale_quantile: float | None = DIFFERENCE_SCALE_QUANTILE
                      ) -> tuple[Array, float]:
    """:func:`stress_rest_difference` and the factor the rest profile was scaled by
    (:func:`difference_scale`)."""
    registration, shift, scale = _difference_transform(
        stress, rest, template, alignment_max_deg, registration_max_deg, scale_quantile)
    return np.asarray(np.roll(stress - scale * np.roll(rest, registration), shift)), scale


def _difference_transform(stress: Array, rest: Array, template: Array,
                          alignment_max_deg: float, registration_max_deg: float,
                          scale_quantile: float | None) -> tuple[int, int, float]:
    """What the paired difference does to the profiles: the rest profile's registration
    and the difference's shift (:func:`difference_shifts`), and the rest profile's scale
    (:func:`difference_scale`, on the registered profile)."""
    registration, shift = difference_shifts(stress, rest, template, alignment_max_deg,
                                            registration_max_deg)
    return registration, shift, difference_scale(stress, np.roll(rest, registration),
                                                  scale_quantile)


def difference_shifts(stress: Array, rest: Array, template: Array, alignment_max_deg: float,
                      registration_max_deg: float = REGISTRATION_MAX_DEG) -> tuple[int, int]:
    """The shifts (points) :func:`stress_rest_difference` applies: the rest profile's onto
    the stress profile, and the difference's onto ``template``."""
    step = 360.0 / stress.size
    return (best_shift(rest, stress, int(registration_max_deg // step)),
            best_shift(stress, template, int(alignment_max_deg // step)))


def difference_noise_sd(stress: Profile, rest: Profile, template: Array,
                        alignment_max_deg: float,
                        registration_max_deg: float = REGISTRATION_MAX_DEG,
                        scale_quantile: float | None = DIFFERENCE_SCALE_QUANTILE
                        ) -> Array | None:
    """The counting noise SD of the stress − rest difference (the two images' noise is
    independent; the rest's scaled as the difference scales the rest profile), shifted as
    :func:`stress_rest_difference` shifts the difference; None when either profile has no
    noise estimate."""
    if stress.noise_sd is None or rest.noise_sd is None:
        return None
    registration, shift, scale = _difference_transform(
        stress.values, rest.values, template, alignment_max_deg, registration_max_deg,
        scale_quantile)
    return np.asarray(np.roll(np.sqrt(np.square(stress.noise_sd) + np.square(
        scale * np.roll(rest.noise_sd, registration))), shift))


def smooth_sd(sd: Array, window_deg: float) -> Array:
    """The SD at each angle pooled (root mean square) over a circular window of angles,
    never below the angle's own SD.

    An SD estimated from a few dozen normals is itself noisy (relative standard error
    1/√(2(n − 1)): 13% with 30 normals), and that noise moves the limit mean − k·SD from
    one angle to the next and from one set of normals to another; where it happens to be
    low, normal patients fall below the limit. Neighbouring angles of a profile vary alike
    (the image is smoothed and the wall is continuous), so the variance pooled over a window
    of ``window_deg`` lifts those chance lows. Pooling alone would also flatten a real,
    narrow peak of the SD (the edge of a breast shadow, the ends of the LV's long axis), so
    the larger of the pooled and the angle's own SD is kept: the limits only widen. The
    window is rounded to an odd number of points; 1 point (or less) leaves ``sd`` as is.
    """
    n = sd.size
    points = round(window_deg / (360.0 / n))
    if points % 2 == 0:
        points -= 1
    if points <= 1:
        return sd
    half = points // 2
    padded = np.concatenate([sd[-half:], sd, sd[:half]])
    pooled = np.sqrt(np.convolve(padded ** 2, np.ones(points) / points, mode="valid"))
    return np.asarray(np.maximum(pooled, sd))


def _sd(stack: Array, window_deg: float) -> Array:
    """The limits' SD of a stack of profiles: pooled over ``window_deg``, floored."""
    return np.maximum(smooth_sd(stack.std(axis=0, ddof=1), window_deg), SD_FLOOR)


def tail_scale(stack: Array, window_deg: float,
               probability: float = TAIL_PROBABILITY) -> float:
    """How much the SD must widen for a *new* normal profile to fall below the limits as
    rarely as a Gaussian would: ≥ 1.

    Each normal profile (row of ``stack``) is compared with limits built from the others
    (leave-one-out, as a patient is compared with limits that do not contain him), and the
    ``probability`` quantile of all those z-scores is divided by the Gaussian's. Two
    things make it exceed 1: limits from a few dozen studies are tighter than the
    population's spread (a prediction interval is wider than the sample SD), and real
    variation is not Gaussian — a few large breasts, a hot gut loop, a lung edge give a
    view a heavy lower tail that mean − k·SD does not cover (in our simulated normals the
    left lateral view of women and the Tl-201 men's views had the heaviest).

    Raises
    ------
    ValueError
        When ``probability`` is not within (0, 0.5): only a lower tail is calibrated.
    """
    if not 0 < probability < 0.5:
        raise ValueError(f"tail probability must be within (0, 0.5), got {probability}")
    n = stack.shape[0]
    if n < 3:
        return 1.0
    z = []
    for i in range(n):
        others = np.delete(stack, i, axis=0)
        z.append((stack[i] - others.mean(axis=0)) / _sd(others, window_deg))
    quantile = float(np.quantile(np.concatenate(z), probability))
    return max(1.0, quantile / NormalDist().inv_cdf(probability))


def build_limits(profiles: Iterable[tuple[View, State, Profile]], *, name: str,
                 tracer: Tracer, sex: Sex, params: ProfileParams,
                 source: str, min_studies: int = 10,
                 alignment_max_deg: float = 12.0,
                 pairs: Iterable[tuple[View, Profile, Profile]] = (),
                 sd_window_deg: float = SD_WINDOW_DEG,
                 tail_probability: float | None = None,
                 view_angle_ranges_deg: Mapping[str, tuple[float, float]] | None = None
                 ) -> NormalLimits:
    """Normal limits from the profiles of normal studies.

    Parameters
    ----------
    profiles : iterable of (view, state, Profile)
        One profile per view, state and study (all with ``params.n_angles`` angles).
    name, source : str
        Recorded in the file.
    tracer, sex : Tracer, Sex
    params : ProfileParams
        The settings the profiles were measured with (recorded; results check them).
    min_studies : int
        Fewer profiles than this for a view/state is an error (the SD would be meaningless).
    alignment_max_deg : float
        Each profile is rotated (within ± this) onto the population's mean before the mean
        and SD are taken (:func:`align_to_template`), and so is every patient's profile
        before it is compared: the heart's orientation varies between patients by ~10°,
        which would otherwise widen the limits where the profile is steep.
    pairs : iterable of (view, stress Profile, rest Profile)
        The same patients' stress and rest profiles of a view: their differences
        (:func:`stress_rest_difference`) get limits of their own (state ``stress-rest``).
    sd_window_deg : float
        The stress and rest SDs are pooled over this window of angles (:func:`smooth_sd`;
        recorded in the file). The paired difference's SD is not: its variation is local.
    tail_probability : float or None
        Each view's SD is widened by :func:`tail_scale` at this lower-tail probability
        (recorded in the file, the factor per view too); None (the default, and the
        built-in limits') leaves the SD as measured. On our simulated populations it
        traded sensitivity for specificity without a net gain (docs/validation.md), so it
        is a site's choice, for normals whose lower tail is heavier than a Gaussian's.
    view_angle_ranges_deg : mapping of view name (``LAO``) to (lowest, highest), optional
        The recorded camera angles of the normals' oblique views, kept with every limits
        of that view: a patient's view at another angle is not compared with them
        (``PerfusionParams.view_angle_tolerance_deg``).

    Raises
    ------
    InvalidInputError
        When a view/state has too few studies or the tracer has no limits group.
    """
    group = tracer_group(tracer)
    if group is None:
        raise InvalidInputError(f"no normal limits can be built for tracer {tracer.value}: "
                                "only Tc-99m perfusion agents and Tl-201")
    angle_ranges = {k: (float(lo), float(hi))
                    for k, (lo, hi) in (view_angle_ranges_deg or {}).items()}
    collected: dict[tuple[str, str], list[Array]] = {}
    noises: dict[tuple[str, str], list[Array | None]] = {}
    for view, state, profile in profiles:
        key = (VIEW_NAMES.get(view), state_group(state))
        if key[0] is None or key[1] is None:
            continue
        if profile.values.shape != (params.n_angles,):
            raise InvalidInputError(f"profile with {profile.values.size} angles, "
                                    f"expected {params.n_angles}")
        collected.setdefault((str(key[0]), str(key[1])), []).append(profile.values)
        noises.setdefault((str(key[0]), str(key[1])), []).append(profile.noise_sd)
    views = []
    for (view_name, group_name), values in sorted(collected.items()):
        if len(values) < min_studies:
            raise InvalidInputError(
                f"only {len(values)} normal {view_name} {group_name} profiles; at least "
                f"{min_studies} are needed for limits")
        shifts = template_shifts(np.stack(values), alignment_max_deg)
        stack = np.stack([np.roll(row, k) for row, k in zip(values, shifts, strict=True)])
        scale = tail_scale(stack, sd_window_deg, tail_probability) if tail_probability else 1.0
        noise = noises[(view_name, group_name)]
        views.append(ViewLimits(view_name, group_name, stack.mean(axis=0),
                                scale * _sd(stack, sd_window_deg), len(values),
                                alignment_max_deg, scale, angle_ranges.get(view_name),
                                _noise_rms(None if x is None else np.roll(x, k)
                                           for x, k in zip(noise, shifts, strict=True))))
    stress_limits = {v.view: v for v in views if v.state == "stress"}
    differences: dict[str, list[Array]] = {}
    difference_noises: dict[str, list[Array | None]] = {}
    for view, stress, rest in pairs:
        pair_view = VIEW_NAMES.get(view)
        if pair_view is not None and pair_view in stress_limits:
            template = stress_limits[pair_view].mean
            differences.setdefault(pair_view, []).append(stress_rest_difference(
                stress.values, rest.values, template, alignment_max_deg,
                scale_quantile=DIFFERENCE_SCALE_QUANTILE))
            difference_noises.setdefault(pair_view, []).append(difference_noise_sd(
                stress, rest, template, alignment_max_deg,
                scale_quantile=DIFFERENCE_SCALE_QUANTILE))
    for view_name, rows in sorted(differences.items()):
        if len(rows) >= min_studies:
            stack = np.stack(rows)
            scale = tail_scale(stack, 0.0, tail_probability) if tail_probability else 1.0
            noise = difference_noises[view_name]
            views.append(ViewLimits(view_name, DIFFERENCE_STATE, stack.mean(axis=0),
                                    scale * _sd(stack, 0.0), len(rows),
                                    alignment_max_deg, scale, angle_ranges.get(view_name),
                                    _noise_rms(noise)))
    if not views:
        raise InvalidInputError("no anterior, LAO or left-lateral stress/rest profiles found")
    return NormalLimits(
        name=name, tracer_group=str(group), sex=sex, n_angles=params.n_angles,
        views=tuple(views), profile_params=asdict(params),
        provenance={"source": source, "created": dt.date.today().isoformat(),
                    "software": f"planarmpi {__version__}", "sd_window_deg": sd_window_deg,
                    "tail_probability": tail_probability,
                    "difference_scale_quantile": DIFFERENCE_SCALE_QUANTILE})
