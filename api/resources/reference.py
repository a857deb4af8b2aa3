"""Categories, schools and users: reference data and its administration."""

from flask.views import MethodView

from api.auth import authenticated, viewer
from api.models import School, User
from api.models.activity import CATEGORIES
from api.resources.common import (
    ETAG_HEADERS,
    IF_MATCH_DOC,
    check_if_match,
    etag,
    id_page,
    list_page,
)
from api.schemas.account import (
    CategoryListSchema,
    SchoolCreateSchema,
    SchoolPageSchema,
    SchoolSchema,
    SchoolUpdateSchema,
    UserCreateSchema,
    UserPageSchema,
    UserSchema,
    UserUpdateSchema,
)
from api.schemas.common import PageQuerySchema
from api.services import accounts, schools
from api.web import Blueprint

blp = Blueprint("reference", __name__, url_prefix="/api/v1", description="Reference data")


@blp.route("/categories")
class Categories(MethodView):
    @authenticated()
    @blp.doc(operationId="listCategories")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, CategoryListSchema)
    def get(self, query):
        """The five activity categories (one page at the default limit)."""
        items = [
            {"key": key, "label": label, "description": description}
            for key, (label, description) in CATEGORIES.items()
        ]
        return list_page(items, "key", query["limit"], query["cursor"])


@blp.route("/schools")
class Schools(MethodView):
    @authenticated()
    @blp.doc(operationId="listSchools")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, SchoolPageSchema)
    def get(self, page):
        """Schools you work with (managers and admins: all)."""
        return id_page(schools.visible_schools(viewer()), School, page["limit"], page["cursor"])

    @authenticated("admin")
    @blp.doc(operationId="createSchool")
    @blp.arguments(SchoolCreateSchema)
    @blp.response(201, SchoolSchema, headers=ETAG_HEADERS)
    @blp.alt_response(409, description="Code already used")
    def post(self, body):
        """Add a school (admin)."""
        school = schools.create_school(body, viewer())
        return school, 201, etag(school.version)


@blp.route("/schools/<int(min=1, max=2147483647):school_id>")
class SchoolItem(MethodView):
    @authenticated()
    @blp.doc(operationId="getSchool")
    @blp.response(200, SchoolSchema, headers=ETAG_HEADERS)
    def get(self, school_id):
        """One school you work with."""
        school = schools.get_visible_school(viewer(), school_id)
        return school, 200, etag(school.version)

    @authenticated("admin")
    @blp.doc(operationId="updateSchool", **IF_MATCH_DOC)
    @blp.arguments(SchoolUpdateSchema)
    @blp.response(200, SchoolSchema, headers=ETAG_HEADERS)
    @blp.alt_response(409, description="Code already used")
    @blp.alt_response(412, description="Stale If-Match")
    def patch(self, body, school_id):
        """Change a school (admin)."""
        school = schools.get_visible_school(viewer(), school_id)
        check_if_match(school.version)
        school = schools.update_school(school, body, viewer())
        return school, 200, etag(school.version)


@blp.route("/users")
class Users(MethodView):
    @authenticated("admin")
    @blp.doc(operationId="listUsers")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, page):
        """All users (admin)."""
        return id_page(accounts.all_users(), User, page["limit"], page["cursor"])

    @authenticated("admin")
    @blp.doc(operationId="createUser")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema, headers=ETAG_HEADERS)
    @blp.alt_response(409, description="Email already used")
    def post(self, body):
        """Add a user, with a password and school assignments (admin)."""
        user = accounts.create_user(body, viewer())
        return user, 201, etag(user.version)


@blp.route("/users/<int(min=1, max=2147483647):user_id>")
class UserItem(MethodView):
    @authenticated("admin")
    @blp.doc(operationId="getUser")
    @blp.response(200, UserSchema, headers=ETAG_HEADERS)
    def get(self, user_id):
        """One user (admin)."""
        user = accounts.get_user(user_id)
        return user, 200, etag(user.version)

    @authenticated("admin")
    @blp.doc(operationId="updateUser", **IF_MATCH_DOC)
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema, headers=ETAG_HEADERS)
    @blp.alt_response(409, description="Email already used, or the last active admin")
    @blp.alt_response(412, description="Stale If-Match")
    def patch(self, body, user_id):
        """Change a user: role, schools, active, or reset the password (admin)."""
        user = accounts.get_user(user_id)
        check_if_match(user.version)
        user = accounts.update_user(user, body, viewer())
        return user, 200, etag(user.version)
