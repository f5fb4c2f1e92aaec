"""Envelope building blocks: number formatting, citation checks, health, confidence, signing."""

from __future__ import annotations

import pytest

from dc_pipeline.domain.json_values import to_jsonable
from dc_pipeline.domain.reports.envelope import (
    Figure,
    canonical_json,
    check_envelope_schema,
    check_insights_cite_numbers,
    confidence,
    executive_summary,
    health,
    insight,
    reason,
    sign,
    verify_signature,
    with_signature,
)
from dc_pipeline.domain.reports.insights import format_number
from dc_pipeline.domain.reports.json_values import PointerError, join_pointer, resolve_pointer


def _envelope(text: str, figures: list[dict]) -> dict:
    return {
        "analysis": {
            "block": {
                "status": "ok",
                "reason": None,
                "dc": 75.84,
                "name": "Brand 7",
                "delta": -2.96,
                "revenue": 1093996.4,
                "a/b": 3,
            }
        },
        "key_insights": [{"id": "I1", "text": text, "figures": figures, "priority": 0.5}],
    }


def test_format_number_is_deterministic_and_never_negative_zero():
    assert format_number(2.6, 1, signed=True) == "+2.6"
    assert format_number(-0.04, 1) == "0.0" and format_number(-0.04, 1, signed=True) == "+0.0"
    assert format_number(1093996.4, 0, grouping=True) == "1,093,996"


def test_insight_text_numbers_come_from_figures():
    item = insight(
        "I1",
        "{brand} moved {delta} to {dc}",
        [
            Figure("brand", "Brand 7", "/analysis/block/name"),
            Figure("delta", -2.96, "/analysis/block/delta", 2, signed=True),
            Figure("dc", 75.84, "/analysis/block/dc", 1),
        ],
        priority=1.7,
    )
    assert item["text"] == "Brand 7 moved -2.96 to 75.8" and item["priority"] == 1.0
    env = _envelope(item["text"], item["figures"])
    assert check_insights_cite_numbers(env) == []  # the 7 in "Brand 7" is a cited name, not a number


@pytest.mark.parametrize(
    "text, problem",
    [
        ("DC is 75.9", "75.9"),  # not a rounding of 75.84
        ("moved +2.96", "+2.96"),  # sign flipped
        ("Brand 8 has 75.8", "8"),  # digit outside a cited string
    ],
)
def test_uncited_numbers_are_reported(text, problem):
    figures = [
        {"name": "dc", "value": 75.84, "path": "/analysis/block/dc"},
        {"name": "delta", "value": -2.96, "path": "/analysis/block/delta"},
        {"name": "name", "value": "Brand 7", "path": "/analysis/block/name"},
    ]
    problems = check_insights_cite_numbers(_envelope(text, figures))
    assert any(f"number {problem} " in p for p in problems), problems


def test_roundings_and_grouped_numbers_pass():
    figures = [
        {"name": "dc", "value": 75.84, "path": "/analysis/block/dc"},
        {"name": "rev", "value": 1093996.4, "path": "/analysis/block/revenue"},
        {"name": "n", "value": 3, "path": "/analysis/block/a~1b"},
    ]
    assert (
        check_insights_cite_numbers(_envelope("DC 76, 75.8 or 75.84; 1,093,996 per point; 3 brands in Q3", figures))
        == []
    )


def test_bad_paths_and_value_mismatch_are_reported():
    figures = [{"name": "dc", "value": 75.84, "path": "/analysis/block/missing"}]
    assert any("does not resolve" in p for p in check_insights_cite_numbers(_envelope("DC 75.8", figures)))
    figures = [{"name": "dc", "value": 75.8, "path": "/analysis/block/delta"}]
    assert any("differs" in p for p in check_insights_cite_numbers(_envelope("DC 75.8", figures)))


def test_json_pointer_and_jsonable():
    doc = to_jsonable({"a": {"x/y": [1, float("nan")], 2: "z"}})
    assert doc == {"a": {"x/y": [1, None], "2": "z"}}
    assert resolve_pointer(doc, join_pointer("a", "x/y", 0)) == 1
    assert resolve_pointer(doc, "/a/2") == "z"
    with pytest.raises(PointerError, match="out of range"):
        resolve_pointer(doc, "/a/x~1y/5")


def test_confidence_is_dq_times_adequacy_times_validation():
    c = confidence(0.9, 6, 10, validation_ok=False)
    assert c["value"] == pytest.approx(0.9 * 0.6 * 0.7) and c["adequacy"] == pytest.approx(0.6)
    assert confidence(0.9, 40, 12, True)["adequacy"] == 1.0
    assert confidence(None, 6, 10, True)["value"] is None


def test_health_rules():
    ok = {"b": {"status": "ok", "reason": None}}
    assert health(analysis=ok, dq_score=0.95) == {"status": "PASS", "reasons": []}
    assert health(analysis=ok, dq_score=0.59)["status"] == "FAIL"
    assert health(analysis=ok, dq_score=0.79)["status"] == "REVIEW"
    quarantined = health(analysis=ok, dq_score=0.95, quarantined_rows={"V3": 4, "U1": 0, "K1": 2})
    assert quarantined["status"] == "REVIEW" and quarantined["reasons"][0]["message"].endswith("K1 2, V3 4")
    short = {
        "b": {
            "status": "insufficient_data",
            "reason": "insufficient history: 1 period, 2 needed",
            "observed": 1,
            "required": 2,
        }
    }
    r = health(analysis=short, dq_score=0.95)["reasons"][0]
    assert (r["code"], r["value"], r["threshold"]) == ("insufficient_data", 1, 2)
    skipped = {"b": {"status": "skipped_by_depth", "reason": "depth"}}
    assert health(analysis=skipped, dq_score=0.95)["status"] == "PASS"
    unmet = health(analysis=ok, dq_score=0.95, minimum_problems=[reason("minimum_data_unmet", "x", 0, 1)])
    assert unmet["status"] == "FAIL"


def test_signature_ignores_its_own_field_and_marks_dev_key():
    env = {"b": 1, "a": [1.5, "x"], "system_metadata": {"seed": 42, "signature": "old"}}
    assert canonical_json(env) == '{"a":[1.5,"x"],"b":1,"system_metadata":{"seed":42}}'
    assert sign(env, b"k", dev=False).startswith("hmac-sha256:") and "dev:" not in sign(env, b"k", dev=False)
    signed = with_signature(env, b"k", dev=False)
    assert verify_signature(signed, b"k")
    signed["b"] = 2
    assert not verify_signature(signed, b"k")
    with pytest.raises(ValueError, match="SECRET_KEY"):
        sign(env, b"", dev=False)
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_schema_check_and_summary_name_problems():
    assert "missing top-level key 'health'" in check_envelope_schema({"report_id": "dc_score_performance_analysis"})
    env = {
        "report_id": "nope",
        "title": "t",
        "category": "dc_score_intelligence",
        "analysis": {"b": {"status": "insufficient_data", "reason": None}},
        "key_insights": [],
        "strategic_recommendations": [],
        "visualizations": {"v": {"type": "pie"}},
        "data_context": {},
        "executive_summary": "",
        "health": {"status": "FAIL", "reasons": []},
    }
    problems = "\n".join(check_envelope_schema(env))
    for expected in (
        "unknown report_id",
        "without a reason",
        "type must be",
        "missing 'observations'",
        "FAIL without reasons",
    ):
        assert expected in problems
    env["health"]["reasons"] = [reason("dq_poor", "project DQ 0.500 < 0.6", 0.5, 0.6)]
    env["data_context"] = {
        "data_quality": {"score": 0.5, "band": "poor"},
        "confidence": {"value": 0.3, "dq": 0.5, "adequacy": 0.6, "validation": 1.0},
        "missing_inputs": ["revenue"],
    }
    summary = executive_summary(env)
    assert "**Health: FAIL**" in summary and "project DQ 0.500 \\< 0.6" in summary and "poor" in summary
    assert "- b: None" in summary and "missing input: revenue" in summary
