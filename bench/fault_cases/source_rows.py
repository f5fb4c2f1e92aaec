"""Bad rows in the source tables, through real runs: each must be quarantined with its rule and reason while the
project is still scored, or, when the row cannot even be read, stop the run naming table, column and value."""

from __future__ import annotations

from fault_cases.lab import CLEAR, FAILED, SURVIVED, Case, Lab

PROJECT, FOREIGN, UNREADABLE = 103, 101, 2


def _plant(lab: Lab) -> dict:
    metrics = [r[0] for r in lab.query(f"SELECT metric_id FROM public.metrics WHERE project_id = {PROJECT} ORDER BY 1")]
    nan_metric, negative_metric = metrics[:2]
    ids = [
        r[0]
        for r in lab.query(
            f"SELECT id FROM public.normalisedvalue WHERE project_id = {PROJECT} AND metric_id NOT IN "
            f"({nan_metric}, {negative_metric}) ORDER BY id LIMIT 6"
        )
    ]
    (foreign_metric,) = lab.query(f"SELECT min(metric_id) FROM public.metrics WHERE project_id = {FOREIGN}")[0]
    brand, period = lab.query(f"SELECT brand_id, period FROM public.business_outcomes WHERE project_id = {PROJECT}")[0]
    (outsider,) = lab.query(
        f"SELECT min(brand_id) FROM public.brands WHERE brand_id NOT IN (SELECT brand_id FROM public.project_brands "
        f"WHERE project_id = {PROJECT})"
    )[0]
    copy_row = (
        "INSERT INTO public.normalisedvalue (project_id, brand_id, metric_id, period, normalized_value, source, "
        "created_at, updated_at) SELECT project_id, {brand}, {metric}, period, 50, source, now(), now() "
        f"FROM public.normalisedvalue WHERE id = {ids[0]}"
    )
    lab.execute(
        f"UPDATE public.normalisedvalue SET normalized_value = 'NaN' WHERE id IN ({ids[0]}, {ids[1]}, {ids[2]})",
        f"UPDATE public.normalisedvalue SET normalized_value = 150 WHERE id = {ids[3]}",
        f"UPDATE public.normalisedvalue SET normalized_value = -3 WHERE id = {ids[4]}",
        f"UPDATE public.metrics SET weight = 'NaN' WHERE metric_id = {nan_metric}",
        f"UPDATE public.metrics SET weight = -1 WHERE metric_id = {negative_metric}",
        f"UPDATE public.business_outcomes SET revenue = 'NaN' WHERE project_id = {PROJECT} AND brand_id = {brand} "
        f"AND period = '{period}'",
        copy_row.format(brand="brand_id", metric=foreign_metric),
        copy_row.format(brand=outsider, metric=f"(SELECT metric_id FROM public.normalisedvalue WHERE id = {ids[5]})"),
    )
    return {"bad_metrics": {nan_metric, negative_metric}, "foreign_metric": foreign_metric, "outsider": outsider}


def _reasons(lab: Lab, rule: str) -> list[str]:
    rows = lab.query("SELECT reason FROM dc_dq.quarantine WHERE project_id = %s AND rule_id = %s", (PROJECT, rule))
    return [r[0] for r in rows]


def bad_rows(lab: Lab) -> list[Case]:
    planted = _plant(lab)
    summary = lab.run([f"p{PROJECT}"], job="scoring_job")
    (scored,) = lab.query("SELECT count(*) FROM dc_core.dc_scores WHERE project_id = %s AND dc_score IS NOT NULL",
                          (PROJECT,))[0]  # fmt: skip
    ok = not summary.failed and scored > 0
    why = "project scored" if ok else f"project not scored: {summary.failed.get(f'p{PROJECT}', 'no scores')[:120]}"
    v1, v4, v5, v2, v3 = (_reasons(lab, r) for r in ("V1", "V4", "V5", "V2", "V3"))
    validated = {r[0] for r in lab.query("SELECT metric_id FROM dc_core.validated_metrics WHERE project_id = %s",
                                         (PROJECT,))}  # fmt: skip

    def case(name: str, handled: bool, evidence: str) -> Case:
        return Case(name, SURVIVED if ok and handled else FAILED, f"{evidence}; {why}")

    nan_values = sum(r.startswith("value_not_finite: normalized_value NaN") for r in v1)
    out_of_range = sum(r.startswith("value_out_of_range") for r in v1)
    bad_definitions = [r for r in v4 if r.startswith("invalid_metric_definition: weight")]
    foreign = [r for r in v2 if f"metric_id {planted['foreign_metric']} belongs to project {FOREIGN}" in r]
    return [
        case("NaN in normalisedvalue.normalized_value (3 rows)", nan_values == 3, f"V1 quarantined {nan_values}"),
        case("normalized_value 150 and -3", out_of_range == 2, f"V1 out of range quarantined {out_of_range}"),
        case(
            "NaN and negative metrics.weight",
            len(bad_definitions) == 2 and not validated & planted["bad_metrics"],
            f"V4 quarantined {len(bad_definitions)} definitions, excluded from scoring: "
            f"{not validated & planted['bad_metrics']}",
        ),
        case("NaN in business_outcomes.revenue", len(v5) == 1 and "revenue nan" in v5[0], f"V5: {v5[:1]}"),
        case("value of another project's metric", len(foreign) == 1, f"V2: {(foreign or v2 or ['none'])[0][:90]}"),
        case("value of a brand that is not a member", len(v3) >= 1, f"V3 quarantined {len(v3)}"),
    ]


def unreadable_value(lab: Lab) -> Case:
    """A date the reader cannot type ('infinity'): the run must stop naming table, column and value, and keep the
    project's previous tables."""
    assert not lab.run([f"p{UNREADABLE}"], job="scoring_job").failed
    before = lab.project_rows(UNREADABLE)
    lab.execute(
        "UPDATE public.normalisedvalue SET period = 'infinity' WHERE id = "
        f"(SELECT min(id) FROM public.normalisedvalue WHERE project_id = {UNREADABLE})"
    )
    summary = lab.run([f"p{UNREADABLE}"], job="scoring_job")
    message = summary.failed.get(f"p{UNREADABLE}", "")
    lab.texts.append(("unreadable value failure", message))
    after = lab.project_rows(UNREADABLE)
    lost = sum(max(0, n - after.get(t, 0)) for t, n in before.items())
    named = "column period" in message and "'infinity'" in message
    lab.execute(
        "UPDATE public.normalisedvalue SET period = (SELECT min(period) FROM public.normalisedvalue WHERE "
        f"project_id = {UNREADABLE} AND period <> 'infinity') WHERE period = 'infinity'"
    )
    return Case("date 'infinity' in normalisedvalue.period", CLEAR if named and summary.failed else FAILED,
                message[:140] or "the run succeeded", lost)  # fmt: skip
