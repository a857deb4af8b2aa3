"""Issue 16: the demo's generated summaries agree with their referral and outcome fields."""

from sqlalchemy import select

from api.extensions import db
from api.models import Activity
from api.models.activity import OUTCOMES, REFERRALS
from api.services import demo

# The words by which a summary names each service.
SERVICE_WORDS = {
    "mental_health": "mental health",
    "youth_services": "youth services",
    "family_services": "family services",
    "addictions": "addictions",
    "housing": "housing",
    "victim_services": "victim services",
}


def test_every_referral_has_its_own_summaries():
    assert set(demo.REFERRAL_SUMMARIES) == set(REFERRALS)
    for referral, summaries in demo.REFERRAL_SUMMARIES.items():
        assert summaries
        for summary in summaries:
            named = {key for key, words in SERVICE_WORDS.items() if words in summary.lower()}
            assert named <= {referral}, (referral, summary)
            if referral in SERVICE_WORDS:
                assert named == {referral}, (referral, summary)


def test_demo_summaries_agree_with_referral_fields(app):
    with app.app_context():
        demo.load_demo(400)
        rows = db.session.execute(
            select(Activity.category, Activity.referral_to, Activity.summary)
        ).all()
    referrals = [row for row in rows if row.referral_to is not None]
    assert referrals, "the demo has community referrals"
    assert {row.referral_to for row in referrals} > {"housing"}
    for category, referral, summary in rows:
        named = {key for key, words in SERVICE_WORDS.items() if words in summary.lower()}
        if referral is None:
            assert category != "community_referral"
            assert not named, summary
        else:
            assert summary in demo.REFERRAL_SUMMARIES[referral], (referral, summary)
            assert named <= {referral}, (referral, summary)


# Words by which a summary says an outcome happened; each belongs to one outcome only.
OUTCOME_WORDS = {
    "referral_made": ("referral", "referred", "connected"),
    "alternative_measures": ("alternative measures",),
    "charge_laid": ("charge",),
}
# Words of an activity in which nothing can have happened to anyone.
NO_INCIDENT = ("drill", "plan with", "lunch", "presentation", "classroom talk", "session on")


def _outcomes_said(summary: str) -> set[str]:
    text = summary.lower()
    return {key for key, words in OUTCOME_WORDS.items() if any(w in text for w in words)}


def test_every_outcome_summary_says_its_own_outcome():
    assert set(demo.OUTCOME_SUMMARIES) <= set(OUTCOMES)
    for outcome, by_category in demo.OUTCOME_SUMMARIES.items():
        assert set(by_category) == set(demo.OUTCOME_CATEGORIES)
        for summary in (s for summaries in by_category.values() for s in summaries):
            assert _outcomes_said(summary) == {outcome}, summary
    for category, summaries in demo.SUMMARIES.items():
        if category != "community_referral":
            assert all(_outcomes_said(s) == set() for s in summaries), category


def test_demo_summaries_agree_with_outcome_fields(app):
    with app.app_context():
        demo.load_demo(400)
        rows = db.session.execute(
            select(Activity.category, Activity.outcome, Activity.summary)
        ).all()
    seen = {row.outcome for row in rows}
    assert set(OUTCOME_WORDS) <= seen, "the demo has every outcome that happened to someone"
    for category, outcome, summary in rows:
        if category == "community_referral":
            assert outcome == "referral_made"
            continue
        assert _outcomes_said(summary) == ({outcome} & set(OUTCOME_WORDS)), (outcome, summary)
        if outcome in OUTCOME_WORDS:
            assert not any(w in summary.lower() for w in NO_INCIDENT), (outcome, summary)
