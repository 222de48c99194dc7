"""Statement imports: upload → preview, commit, revert; import profiles."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from config.api import UUID_PATTERN, TallyAPIMixin
from config.openapi import ConflictErrorResponseSerializer, PayloadTooLargeErrorResponseSerializer
from config.pagination import StrictLimitOffsetPagination
from config.parsers import BoundedJSONParser
from ledger.imports import commits, previews, profiles, selectors
from ledger.imports.serializers import (
    ImportCommitInputSerializer,
    ImportCreateInputSerializer,
    ImportDetailOutputSerializer,
    ImportOutputSerializer,
    ImportPreviewOutputSerializer,
    ImportProfileInputSerializer,
    ImportProfileOutputSerializer,
    ImportProfileUpdateInputSerializer,
    ImportRowsQuerySerializer,
    ImportSaveProfileInputSerializer,
)
from ledger.models import Import, ImportProfile, ImportRow

PREVIEW_ROWS = 20


@extend_schema_view(
    list=extend_schema(description="The caller's imports, newest first: who, when, counts, status."),
    retrieve=extend_schema(
        description="One import with its rows (paginated with limit/offset, filtered by `fate`).",
        parameters=[
            OpenApiParameter("fate", str, enum=ImportRow.Fate.values),
            *(
                OpenApiParameter(p["name"], p["schema"], description=p["description"])
                for p in StrictLimitOffsetPagination().get_schema_operation_parameters(None)
            ),
        ],
        responses={200: ImportDetailOutputSerializer},
    ),
)
class ImportViewSet(TallyAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    schema_model = Import
    lookup_value_regex = UUID_PATTERN
    serializer_class = ImportOutputSerializer
    pagination_class = StrictLimitOffsetPagination

    def user_queryset(self):
        return selectors.import_list(user=self.request.user)

    def _get(self, pk) -> Import:
        return selectors.import_get(user=self.request.user, import_id=pk)

    def retrieve(self, request, pk=None):
        source = self._get(pk)
        query = self.validated_query(ImportRowsQuerySerializer)
        paginator = StrictLimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.import_rows(source=source, fate=query.get("fate")), request)
        source.rows_page = {
            "count": paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": selectors.import_rows_with_rules(source=source, rows=page),
        }
        return Response(ImportDetailOutputSerializer(source).data)

    @extend_schema(
        request={"multipart/form-data": ImportCreateInputSerializer},
        responses={
            201: ImportPreviewOutputSerializer,
            409: ConflictErrorResponseSerializer,
            413: PayloadTooLargeErrorResponseSerializer,
        },
        description="Upload a statement for one of your accounts. It is parsed into a preview (format, profile "
        "used, counts, the first rows with their fate: new, duplicate of an existing transaction, error); "
        "nothing is written to the ledger until POST imports/{id}/commit. `profile` is `auto` (detected "
        "from the header), a built-in key or a profile id; any profile field given here overrides it. "
        "OFX, QFX, QIF, CAMT.053 and MT940 need no profile.",
    )
    def create(self, request):
        data = self.validated(ImportCreateInputSerializer)
        upload, account, profile = data.pop("file"), data.pop("account"), data.pop("profile")
        source = previews.import_preview(
            user=request.user, account_id=account, upload=upload, profile=profile, overrides=data
        )
        source.preview_rows = selectors.import_rows_with_rules(
            source=source, rows=selectors.import_rows(source=source)[:PREVIEW_ROWS]
        )
        return Response(ImportPreviewOutputSerializer(source).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ImportCommitInputSerializer,
        responses={
            200: ImportOutputSerializer,
            202: OpenApiResponse(ImportOutputSerializer, description="Large import: running as a task."),
            409: ConflictErrorResponseSerializer,
        },
        description="Write the preview's new rows (plus `force_rows`, minus `skip_rows`) into the account, then "
        "match transfers, categorise and alert. Once only; a preview expires a day after upload. Large files "
        "run as a task (202) with import_progress events.",
    )
    @action(detail=True, methods=["post"], parser_classes=[BoundedJSONParser, FormParser, MultiPartParser])
    def commit(self, request, pk=None):
        data = self.validated(ImportCommitInputSerializer)
        source = commits.import_commit(
            user=request.user, import_id=pk, force_rows=data["force_rows"], skip_rows=data["skip_rows"]
        )
        code = status.HTTP_202_ACCEPTED if source.status == Import.Status.RUNNING else status.HTTP_200_OK
        return Response(ImportOutputSerializer(source).data, status=code)

    @extend_schema(
        request=None,
        responses={200: ImportOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Revert a committed import: the transactions it created are soft-deleted.",
    )
    def destroy(self, request, pk=None):
        return Response(ImportOutputSerializer(commits.import_revert(user=request.user, import_id=pk)).data)

    @extend_schema(
        request=ImportSaveProfileInputSerializer,
        responses={201: ImportProfileOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Save the profile this import was read with (overrides included) as your own.",
    )
    @action(detail=True, methods=["post"], url_path="save-profile")
    def save_profile(self, request, pk=None):
        data = self.validated(ImportSaveProfileInputSerializer)
        saved = profiles.import_profile_from_import(user=request.user, source=self._get(pk), name=data["name"])
        return Response(ImportProfileOutputSerializer(saved).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(description="Built-in profiles (read-only, `builtin: true`) and your own."),
    create=extend_schema(
        request=ImportProfileInputSerializer,
        responses={201: ImportProfileOutputSerializer, 409: ConflictErrorResponseSerializer},
    ),
    partial_update=extend_schema(
        request=ImportProfileUpdateInputSerializer,
        responses={200: ImportProfileOutputSerializer, 409: ConflictErrorResponseSerializer},  # name taken
    ),
    destroy=extend_schema(responses={204: None}),
)
class ImportProfileViewSet(TallyAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    schema_model = ImportProfile
    lookup_value_regex = UUID_PATTERN
    serializer_class = ImportProfileOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def user_queryset(self):
        return selectors.import_profile_list(user=self.request.user)

    def get_object(self):
        return selectors.import_profile_get(user=self.request.user, profile_id=self.kwargs["pk"])

    def create(self, request):
        saved = profiles.import_profile_create(user=request.user, **self.validated(ImportProfileInputSerializer))
        return Response(ImportProfileOutputSerializer(saved).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        changes = self.validated(ImportProfileUpdateInputSerializer)
        return Response(
            ImportProfileOutputSerializer(profiles.import_profile_update(profile=self.get_object(), **changes)).data
        )

    def destroy(self, request, pk=None):
        profiles.import_profile_delete(profile=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
