"""Activities: log, list, read, edit, delete, review and history."""

from flask.views import MethodView

from api.auth import authenticated, viewer
from api.extensions import db
from api.models import ActivityRevision
from api.resources.common import ETAG_HEADERS, IF_MATCH_DOC, check_if_match, etag, id_page
from api.schemas.activity import (
    ActivityCreateSchema,
    ActivityPageSchema,
    ActivityQuerySchema,
    ActivitySchema,
    ActivityUpdateSchema,
    BulkReviewResponseSchema,
    BulkReviewSchema,
    DisputeSchema,
    HistorySchema,
    ReviewSchema,
)
from api.schemas.common import PageQuerySchema
from api.services import activities, review
from api.web import Blueprint

blp = Blueprint("activities", __name__, url_prefix="/api/v1", description="Activities")

ACTIVITY_ID = "/activities/<uuid:activity_id>"


@blp.route("/activities")
class Activities(MethodView):
    @authenticated()
    @blp.doc(operationId="listActivities")
    @blp.arguments(ActivityQuerySchema, location="query")
    @blp.response(200, ActivityPageSchema)
    def get(self, query):
        """Activities you may see, newest first (filters combine)."""
        filters = {**query, "from": query.get("from_")}
        return activities.list_page(viewer(), filters, query["limit"], query["cursor"])

    @authenticated("officer")
    @blp.doc(operationId="createActivity")
    @blp.arguments(ActivityCreateSchema)
    @blp.response(201, ActivitySchema, headers=ETAG_HEADERS)
    @blp.alt_response(
        200,
        schema=ActivitySchema,
        description="Same id and content: idempotent",
        headers=ETAG_HEADERS,
        success=True,
    )
    @blp.alt_response(403, description="Not assigned to this school")
    @blp.alt_response(409, description="Id already used with different content")
    def post(self, body):
        """Log an activity (officer); the client may choose its UUID."""
        activity, created = activities.create_or_match(viewer(), body)
        return activity, 201 if created else 200, etag(activity.version)


@blp.route(ACTIVITY_ID)
class ActivityItem(MethodView):
    @authenticated()
    @blp.doc(operationId="getActivity")
    @blp.response(200, ActivitySchema, headers=ETAG_HEADERS)
    def get(self, activity_id):
        """One activity; its version is the ETag."""
        activity = activities.get_visible(viewer(), activity_id)
        return activity, 200, etag(activity.version)

    @authenticated()
    @blp.doc(operationId="updateActivity", **IF_MATCH_DOC)
    @blp.arguments(ActivityUpdateSchema)
    @blp.response(200, ActivitySchema, headers=ETAG_HEADERS)
    @blp.alt_response(
        409, description="Changed by another request while this one was saved: reload and retry"
    )
    @blp.alt_response(412, description="Stale If-Match")
    def patch(self, body, activity_id):
        """Edit content (owning officer); a reviewed activity goes back to submitted."""
        activity = activities.get_visible(viewer(), activity_id)
        check_if_match(activity.version)
        activities.edit(activity, viewer(), body)
        db.session.commit()
        return activity, 200, etag(activity.version)

    @authenticated()
    @blp.doc(operationId="deleteActivity", **IF_MATCH_DOC)
    @blp.response(204)
    @blp.alt_response(409, description="Confirmed activities cannot be deleted by officers")
    @blp.alt_response(412, description="Stale If-Match")
    def delete(self, activity_id):
        """Delete (owning officer until confirmed; admin): a tombstone syncs to devices."""
        activity = activities.get_visible(viewer(), activity_id)
        check_if_match(activity.version)
        activities.delete(activity, viewer())
        db.session.commit()


@blp.route(ACTIVITY_ID + "/confirm")
class Confirm(MethodView):
    @authenticated()
    @blp.doc(operationId="confirmActivity")
    @blp.arguments(ReviewSchema)
    @blp.response(200, ActivitySchema, headers=ETAG_HEADERS)
    @blp.alt_response(409, description="Deleted")
    def post(self, body, activity_id):
        """Confirm that it happened (leader of that school)."""
        activity = review.review_one(activity_id, viewer(), "confirm", body["note"])
        return activity, 200, etag(activity.version)


@blp.route(ACTIVITY_ID + "/dispute")
class Dispute(MethodView):
    @authenticated()
    @blp.doc(operationId="disputeActivity")
    @blp.arguments(DisputeSchema)
    @blp.response(200, ActivitySchema, headers=ETAG_HEADERS)
    @blp.alt_response(409, description="Deleted")
    def post(self, body, activity_id):
        """Dispute it, with a reason (leader of that school)."""
        activity = review.review_one(activity_id, viewer(), "dispute", body["reason"], "reason")
        return activity, 200, etag(activity.version)


@blp.route("/activities/review")
class BulkReview(MethodView):
    @authenticated("school_leader")
    @blp.doc(operationId="reviewActivities")
    @blp.arguments(BulkReviewSchema)
    @blp.response(200, BulkReviewResponseSchema)
    def post(self, body):
        """Confirm or dispute many activities at once; one result per id."""
        results = review.review_many(body["ids"], viewer(), body["action"], body["note"])
        return {"results": results}


@blp.route(ACTIVITY_ID + "/history")
class History(MethodView):
    @authenticated()
    @blp.doc(operationId="getActivityHistory")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, HistorySchema)
    def get(self, page, activity_id):
        """Every version, oldest first, a page at a time: who, what, when, and the fields
        that changed."""
        activity = activities.get_visible(viewer(), activity_id, include_deleted=True)
        query = activities.history(activity)
        return id_page(query, ActivityRevision, page["limit"], page["cursor"])
