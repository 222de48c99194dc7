from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import UUID_PATTERN, TallyAPIMixin
from config.openapi import ConflictErrorResponseSerializer
from merchants import selectors, services
from merchants.categories import Category
from merchants.filters import MerchantFilterSet
from merchants.models import Merchant
from merchants.serializers import (
    CategorySerializer,
    MerchantCreateInputSerializer,
    MerchantMergeInputSerializer,
    MerchantOutputSerializer,
    MerchantSearchInputSerializer,
    MerchantSearchOutputSerializer,
    merchant_hit_data,
)


class MerchantViewSet(TallyAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The canonical merchant list: any signed-in user reads and searches it;
    staff create and merge."""

    serializer_class = MerchantOutputSerializer
    filterset_class = MerchantFilterSet
    lookup_value_regex = UUID_PATTERN

    schema_model = Merchant

    def user_queryset(self):
        return Merchant.objects.all()

    def get_permissions(self):
        if self.action in ("create", "merge"):
            return [IsAuthenticated(), IsAdminUser()]
        return [IsAuthenticated()]

    @extend_schema(
        request=MerchantCreateInputSerializer,
        responses={201: MerchantOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Staff only. Name trimmed and title-cased, aliases de-duplicated and sorted. "
        "An existing name, an alias equal to another merchant's name or a near match (similarity > 0.8) "
        "answers 409 with existing_id.",
    )
    def create(self, request):
        data = self.validated(MerchantCreateInputSerializer)
        merchant = services.merchant_create(**data)
        return Response(MerchantOutputSerializer(merchant).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[MerchantSearchInputSerializer],
        responses={200: MerchantSearchOutputSerializer},
        description="Tiers: exact name 1.0, alias 0.9, prefix 0.7, trigram similarity >= 0.3; best first.",
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def search(self, request):
        params = self.validated_query(MerchantSearchInputSerializer)
        hits = selectors.merchant_search(q=params["q"], category=params.get("category"), limit=params["limit"])
        return Response({"query": params["q"], "results": [merchant_hit_data(hit) for hit in hits]})

    @extend_schema(
        request=MerchantMergeInputSerializer,
        responses={200: MerchantOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Staff only. Re-points every row referencing the sources to this merchant, adds the sources' "
        "names and aliases as aliases and deletes the sources, in one transaction.",
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def merge(self, request, pk=None):
        target = self.get_object()
        data = self.validated(MerchantMergeInputSerializer)
        merchant = services.merchant_merge(target=target, source_ids=data["source_ids"])
        return Response(MerchantOutputSerializer(merchant).data)


class CategoryListView(TallyAPIMixin, APIView):
    @extend_schema(responses={200: CategorySerializer(many=True)}, description="The fixed category list.")
    def get(self, request):
        return Response([{"value": c.value, "key": c.name} for c in Category])
