"""Issue 16: the demo's generated summaries agree with their referral fields."""

from sqlalchemy import select

from api.extensions import db
from api.models import Activity
from api.models.activity import REFERRALS
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
