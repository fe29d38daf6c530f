"""Artefacts named rather than called defects: the attenuation patterns (breast in
women, diaphragm in men; docs/perfusion.md §6), the breast's deeper shadow in one view, and
extracardiac activity below the inferior wall.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from planarmpi.analysis.perfusion.views import ViewAnalysis, reduced_scores
from planarmpi.model import Sex

__all__ = [
    "ATTENUATION_MAX_SUMMED_SCORE",
    "ATTENUATION_PATTERNS",
    "BREAST_SHADOWS",
    "LAO_BREAST_SHADOW",
    "LATERAL_BREAST_SHADOW",
    "attenuation_pattern",
    "breast_shadow",
    "find_artefacts",
    "mild_pattern",
    "set_aside",
]


#: The largest summed score an attenuation pattern may reach (ours: attenuation lowers a
#: few segments mildly or moderately, it does not make an extensive defect).
ATTENUATION_MAX_SUMMED_SCORE = 5
#: Attenuation patterns: the segments they lower, who has them, the territory they mimic.
ATTENUATION_PATTERNS: dict[str, tuple[frozenset[str], Sex, str]] = {
    "breast attenuation": (frozenset({"ANT-1", "ANT-2", "LLAT-1", "LLAT-2", "LLAT-3", "LAO-1"}),
                           Sex.FEMALE, "LAD"),
    "diaphragmatic attenuation": (frozenset({"ANT-4", "ANT-5", "LLAT-4", "LLAT-5", "LAO-3"}),
                                  Sex.MALE, "RCA"),
}
#: The segments a breast overlies in the left lateral view, its anterior wall and apex: in a
#: woman, a fixed reduction of any depth confined to them (the other views normal) is the
#: breast's shadow (:func:`breast_shadow`, docs/perfusion.md §6).
LATERAL_BREAST_SHADOW = frozenset({"LLAT-1", "LLAT-2", "LLAT-3"})
#: ... and in the LAO view, the septum and inferoapex: the same rule, the LAO view's segments
#: alone (docs/perfusion.md §6; since 2026-12-02). Two women normals whose LAO-1 to -3 read
#: 3–4 at stress and rest read normal when simulated again without the breast.
LAO_BREAST_SHADOW = frozenset({"LAO-1", "LAO-2", "LAO-3"})
#: Each breast shadow and the walls it covers, as a message names them.
BREAST_SHADOWS: dict[frozenset[str], str] = {
    LATERAL_BREAST_SHADOW: "the left lateral view's anterior wall and apex",
    LAO_BREAST_SHADOW: "the LAO view's septum and inferoapex",
}

def attenuation_pattern(scores: Mapping[str, int], sex: Sex) -> str | None:
    """The attenuation pattern that reduced segments (key → score > 0) fit, if any.

    Attenuation reduces counts mildly or moderately, in the segments under the breast (women)
    or over the diaphragm (men): every reduced segment must lie in the pattern, none may be
    scored above 2, and the summed score may not exceed ATTENUATION_MAX_SUMMED_SCORE.
    In a woman, a reduction of any depth confined to the left lateral view's anterior wall
    and apex (:data:`LATERAL_BREAST_SHADOW`), or to the LAO view's septum and inferoapex
    (:data:`LAO_BREAST_SHADOW`), is the breast's shadow too (:func:`breast_shadow`).
    """
    name = mild_pattern(scores, sex)
    if name is None and breast_shadow(scores, sex) is not None:
        return "breast attenuation"
    return name


def mild_pattern(scores: Mapping[str, int], sex: Sex) -> str | None:
    """The mild attenuation pattern (:data:`ATTENUATION_PATTERNS`, no segment above 2,
    summed ≤ :data:`ATTENUATION_MAX_SUMMED_SCORE`) that reduced segments fit, if any."""
    reduced = {k: v for k, v in scores.items() if v > 0}
    if not reduced:
        return None
    for name, (keys, who, _) in ATTENUATION_PATTERNS.items():
        if sex is who and set(reduced) <= keys and max(reduced.values()) <= 2 \
                and sum(reduced.values()) <= ATTENUATION_MAX_SUMMED_SCORE:
            return name
    return None


def breast_shadow(scores: Mapping[str, int], sex: Sex) -> str | None:
    """The walls of the breast's shadow (:data:`BREAST_SHADOWS`) under which all of a
    woman's reduced segments (key → score > 0) lie, at any depth, or None: the left lateral
    view's (:data:`LATERAL_BREAST_SHADOW`) or the LAO view's (:data:`LAO_BREAST_SHADOW`). Where
    only the place is checked: :func:`find_artefacts` also asks that each segment be reduced
    again at rest.

    A large breast lies between the anterior wall and the camera in the left lateral view
    and can lower that wall's counts by half (Tc-99m: ~0.15/cm of soft tissue), deeper than
    the mild pattern allows. A defect in the anterior wall deep enough for that, and large
    enough to matter, projects onto the anterior or LAO view as well (their anterolateral,
    apical or septal segments); one seen in the lateral view alone cannot be told from the
    shadow on these images. On our simulated populations (1310 stress/rest studies) this
    pattern was fixed in 6 normal women called abnormal, and in 4 studies with a significant
    defect, two of them in another territory that the images did not show
    (docs/validation.md).
    """
    reduced = {k for k, v in scores.items() if v > 0}
    if sex is not Sex.FEMALE or not reduced:
        return None
    return next((walls for keys, walls in BREAST_SHADOWS.items() if reduced <= keys), None)


def find_artefacts(rest: dict[str, Any] | None, sex: Sex,
                   by_state: dict[str, list[ViewAnalysis]], stress_key: str,
                   wall_motion: Sequence[dict[str, Any]],
                   induced: frozenset[str] = frozenset(),
                   rest_scores: Mapping[str, int] | None = None,
                   extracardiac_ratio: float = 0.5) -> list[dict[str, Any]]:
    """Attenuation patterns and extracardiac activity, named rather than called defects.

    ``induced``: segments with a stress-induced reduction against the same patient's rest
    images (:func:`~.reversibility.paired_difference`) — attenuation does not come and go,
    so a pattern holding one is not taken for attenuation. ``rest_scores``: the rest images'
    reduced segments (key → score), which a breast shadow deeper than the mild pattern must
    repeat. ``extracardiac_ratio``: activity below the inferior wall at this fraction of the
    myocardial maximum or more, both above the body background, is named
    (``PerfusionParams.extracardiac_ratio``, the same bound as for its reaching the
    profile; :func:`~.views.extracardiac_activity`).
    """
    rest_scores = rest_scores or {}
    out: list[dict[str, Any]] = []
    abnormal = reduced_scores(by_state.get(stress_key, []))
    motion_normal: dict[str, bool] = {}
    for w in wall_motion:
        t = str(w.get("territory"))
        motion_normal[t] = motion_normal.get(t, True) and w.get("grade") == "normal"
    name = mild_pattern(abnormal, sex)
    fixed = rest is not None and rest.get("summed_score", 0) >= 1
    shadow = breast_shadow(abnormal, sex) if name is None else None
    if shadow:
        name = "breast attenuation"
        if rest is not None:
            # Deeper than the mild pattern: every reduced segment is reduced at rest too.
            fixed = all(rest_scores.get(k, 0) > 0 for k in abnormal)
    # Attenuation does not come and go: a reversible reduction is not it.
    if name is not None and (rest is None or fixed) and not induced & set(abnormal):
        _, who, territory = ATTENUATION_PATTERNS[name]
        motion = motion_normal.get(territory)
        out.append({
            "artefact": name, "segments": sorted(abnormal),
            "fixed_at_rest": fixed if rest is not None else None,
            "wall_motion_normal": motion,
            "message": (f"{'fixed ' if fixed else ''}reduction confined to {shadow} "
                        f"({', '.join(sorted(abnormal))}), the other views normal, in a "
                        "woman: the shadow of the breast"
                        if shadow else
                        f"mild {'fixed ' if fixed else ''}reduction confined to "
                        f"{', '.join(sorted(abnormal))} in a "
                        f"{'woman' if who is Sex.FEMALE else 'man'}: the pattern of {name}")
                       + ("; wall motion there is normal" if motion else
                          "; no gated wall motion to confirm" if motion is None else
                          "; but wall motion there is reduced"),
        })
    for state_key, views in by_state.items():
        for v in views:
            e = v.extracardiac
            if e and e.get("ratio_above_background") is not None \
                    and e["ratio_above_background"] >= extracardiac_ratio:
                out.append({
                    "artefact": "extracardiac activity",
                    "view": v.image.acquisition.view.value, "state": state_key,
                    "ratio_to_myocardium": round(float(e["ratio"]), 3),
                    "ratio_above_background": round(float(e["ratio_above_background"]), 3),
                    "affects_profile": e["affects_profile"],
                    "message": f"{v.image.acquisition.label}: activity below the inferior "
                               f"wall at {e['ratio_above_background']:.0%} of the myocardial "
                               "maximum, both above the body background "
                               f"({e['ratio']:.0%} in raw counts); it "
                               + ("reaches the background region and may lower (or, by "
                                  "scatter, raise) the inferior profile"
                                  if e["affects_profile"] else "does not reach the profile"),
                })
    return out


def set_aside(attenuation: list[dict[str, Any]], confirmed: dict[str, Any]) -> None:
    """Mark the stress images' attenuation patterns that a confirmed fixed defect overrules
    (in place: ``set_aside`` and the message say why)."""
    for a in attenuation:
        a["set_aside"] = ("the rest images' reductions "
                          f"({', '.join(confirmed['rest_segments'])}) go beyond the pattern")
        a["message"] += f"; set aside: {a['set_aside']}"
