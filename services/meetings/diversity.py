"""Who came, as counts per dimension (age band, gender, origin, group) of the voluntary
self-descriptions of an event or a whole process, with small counts hidden.

Each dimension is one row of counts whose total is shown (the number of self-descriptions).
A count of 1 to MIN_GROUP-1 is hidden, and so is whatever would give it back (the total minus
the shown counts): the survey results' complementary suppression (`suppress_reach`), with
the dimension's values as the groups of a one-tier table whose every cell may hold up to the
total. Below MIN_GROUP self-descriptions nothing is shown.
"""

from __future__ import annotations

from pydantic import BaseModel

from services.surveys.suppression import MIN_GROUP, suppress_reach

DIMENSIONS = ("age_band", "gender", "origin", "group_key")
# The process templates' checklist item this summary answers (matched by its title, as the
# templates name it; the keys differ between templates).
CHECKLIST_TITLE = ("Teilnahme von Akteuren unterschiedlicher Gruppen, unterschiedlichen Alters, "
                   "verschiedener Geschlechter und Nationalitäten")
NOT_GIVEN = "keine_angabe"
# German labels of the dimensions and of the fixed answers (services/meetings/schemas.py);
# a group is a stakeholder group key and is labelled with the organisation's groups.
DIMENSION_LABELS = {"age_band": "Alter", "gender": "Geschlecht", "origin": "Herkunft",
                    "group_key": "Gruppe"}
VALUE_LABELS = {
    "keine_angabe": "keine Angabe",
    "unter_18": "unter 18", "18_26": "18–26", "27_44": "27–44", "45_64": "45–64",
    "65_plus": "65 und älter", "weiblich": "weiblich", "maennlich": "männlich",
    "divers": "divers", "deutsch": "deutsch", "eu": "EU-Staatsangehörigkeit",
    "nicht_eu": "andere Staatsangehörigkeit",
    "migrationsgeschichte": "deutsch mit Einwanderungsgeschichte",
}


class CountOut(BaseModel):
    value: str
    count: int | None  # None: hidden (fewer than MIN_GROUP, or it would reveal one)


class DimensionOut(BaseModel):
    dimension: str
    total: int | None
    counts: list[CountOut]
    # At least two different answers (other than "keine Angabe") were given.
    varied: bool


class DiversityOut(BaseModel):
    min_group: int = MIN_GROUP
    total: int | None
    dimensions: list[DimensionOut]
    # The checklist's "Teilnahme von Akteuren unterschiedlicher Gruppen, unterschiedlichen
    # Alters, verschiedener Geschlechter und Nationalitäten": varied in every dimension.
    checklist_met: bool


def dimension(name: str, counts: dict[str, int]) -> DimensionOut:
    total = sum(counts.values())
    values = sorted(counts)
    varied = len([v for v in values if v != NOT_GIVEN and counts[v] > 0]) >= 2
    if total < MIN_GROUP:
        return DimensionOut(dimension=name, total=None,
                            counts=[CountOut(value=v, count=None) for v in values],
                            varied=varied)
    hidden = suppress_reach({(v, 1): counts[v] for v in values},
                            {(v, 1): total for v in values})
    return DimensionOut(dimension=name, total=total, varied=varied, counts=[
        CountOut(value=v, count=None if hidden.cell(v, 1) else counts[v]) for v in values])


def summarise(counts: dict[str, dict[str, int]]) -> DiversityOut:
    dims = [dimension(d, counts.get(d, {})) for d in DIMENSIONS]
    total = sum(counts.get(DIMENSIONS[0], {}).values())
    return DiversityOut(total=total if total >= MIN_GROUP else None, dimensions=dims,
                        checklist_met=all(d.varied for d in dims))
