"""The API's OpenAPI schema: the bearer-token security scheme, the shapes of its errors and
pages, and a hook that says ids are positive (so clients and fuzzers send real-looking ids,
and the URL patterns, which take digits only, match them); and ``paginated``, the one way
an endpoint answers a page of a list, so every page has the shape the schema says."""

from functools import cache

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


def paginated(request, rows, serializer=None):
    """A page of ``rows`` (``?page=``), each through ``serializer`` (or as they are, for
    rows already plain values), with count, next and previous."""
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(rows, request)
    data = (
        page
        if serializer is None
        else serializer(page, many=True, context={"request": request}).data
    )
    return paginator.get_paginated_response(data)


class BearerToken(OpenApiAuthenticationExtension):
    target_class = "fca.tokens.TokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token (acts as you) or a room's or pathway's feed "
            "token, made on its page: `Authorization: Bearer fca_…`",
        }


class Detail(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words")


ERRORS = {
    400: OpenApiResponse(
        {"type": "object", "additionalProperties": True},
        description="What cannot be saved: each key a field (non_field_errors for the whole) "
        "and its value a list of messages; or `problems`, a list of messages naming the row",
    ),
    401: OpenApiResponse(Detail, description="No credentials, or a token not valid"),
    403: OpenApiResponse(Detail, description="You may see this but not do this"),
    404: OpenApiResponse(Detail, description="No such object, or not one you may see"),
    429: OpenApiResponse(
        Detail, description="Over the rate limit: try again after Retry-After seconds"
    ),
}


def responses(ok: dict, *codes: int) -> dict:
    """The success responses and the errors an endpoint can give (401, 404 and 429 always)."""
    return {**ok, **{code: ERRORS[code] for code in sorted({401, 404, 429, *codes})}}


class AutoSchema(SpectacularAutoSchema):
    def get_operation_id(self) -> str:
        """The view function's name (room_list, session_log): one endpoint per operation,
        so it is unique and says what the operation does."""
        return self.view.__class__.__name__


@cache  # one component per name, however many endpoints send pages of it
def page_of(serializer, name: str):
    """A page of a list, as PageNumberPagination sends it."""
    return inline_serializer(
        name=f"{name}Page",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer(many=True),
        },
    )


PAGE = {
    "name": "page",
    "in": "query",
    "required": False,
    "description": "Which page of the list, from 1 (a page is 100 items)",
    "schema": {"type": "integer"},
}


def ids_are_positive(result, generator, request, public):
    """Lists take a page number; integer path parameters (ids) and page numbers start at 1.
    (A function view names no paginator for the generator to find.)"""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            ok = operation.get("responses", {}).get("200", {})
            ref = ok.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            if ref and ref.endswith("Page"):
                operation.setdefault("parameters", []).append(
                    dict(PAGE, schema={"type": "integer"})
                )
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if schema.get("type") == "integer" and parameter["in"] in ("path", "query"):
                    schema["minimum"] = 1
    return result
