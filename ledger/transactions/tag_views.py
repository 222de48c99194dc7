"""/api/v1/tags: the caller's tags with counts; rename, recolor, merge, delete."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config import serializers
from config.api import UUID_PATTERN
from config.openapi import ConflictErrorResponseSerializer
from config.pagination import StrictLimitOffsetPagination
from ledger.models import Tag
from ledger.transactions import tags as services

# "" (no colour) is allow_blank's; \Z, not $: Python's $ also matches before a final newline.
COLOR = r"^#[0-9a-fA-F]{6}\Z"


class TagOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    color = serializers.CharField()
    count = serializers.IntegerField(help_text="Live transactions carrying the tag.")
    created_at = serializers.DateTimeField()


class TagInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=services.TAG_NAME_MAX)
    color = serializers.RegexField(COLOR, required=False, allow_blank=True, default="", help_text="#rrggbb")


class TagUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=services.TAG_NAME_MAX, required=False)
    color = serializers.RegexField(COLOR, required=False, allow_blank=True)


class TagMergeInputSerializer(serializers.Serializer):
    into = serializers.UUIDField(help_text="The tag that stays; this one's transactions move to it.")


def _out(tag, count=None):
    if count is not None:
        tag.count = count
    return TagOutputSerializer(tag).data


@extend_schema_view(
    create=extend_schema(
        request=TagInputSerializer, responses={201: TagOutputSerializer, 409: ConflictErrorResponseSerializer}
    ),
    partial_update=extend_schema(
        request=TagUpdateInputSerializer, responses={200: TagOutputSerializer, 409: ConflictErrorResponseSerializer}
    ),
    destroy=extend_schema(responses={204: None}, description="The tag's transactions lose it (audited)."),
)
class TagViewSet(viewsets.GenericViewSet):
    pagination_class = StrictLimitOffsetPagination
    serializer_class = TagOutputSerializer
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Tag.objects.none()
        return services.tag_list(user=self.request.user)

    def _get(self, pk):
        return services.tag_get(user=self.request.user, tag_id=pk)

    def _counted(self, tag):
        return self.get_queryset().get(pk=tag.pk)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TagOutputSerializer(page, many=True).data)

    def create(self, request):
        data = TagInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tag = services.tag_create(user=request.user, **data.validated_data)
        return Response(_out(tag, 0), status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        data = TagUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tag = services.tag_update(tag=self._get(pk), **data.validated_data)
        return Response(_out(self._counted(tag)))

    def destroy(self, request, pk=None):
        services.tag_delete(tag=self._get(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=TagMergeInputSerializer,
        responses={200: TagOutputSerializer},
        description="Move this tag's transactions to `into` and delete this tag (audited).",
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def merge(self, request, pk=None):
        data = TagMergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        into = services.tag_get(user=request.user, tag_id=data.validated_data["into"])
        tag = services.tag_merge(tag=self._get(pk), into=into, actor=request.user)
        return Response(_out(self._counted(tag)))
