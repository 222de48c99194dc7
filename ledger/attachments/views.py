"""/api/v1/transactions/{id}/attachments (list, upload) and /api/v1/attachments/{id} (download, delete)."""

import json

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import (
    ClientErrorResponseSerializer,
    ConflictErrorResponseSerializer,
    PayloadTooLargeErrorResponseSerializer,
)
from config.pagination import StrictLimitOffsetPagination
from ledger.attachments import selectors, services
from ledger.attachments.serializers import AttachmentOutputSerializer, AttachmentUploadSerializer
from ledger.attachments.sniffing import ALLOWED_TYPES
from ledger.transactions.selectors import transaction_get


class AnyMediaRenderer(BaseRenderer):
    """Lets a download answer whatever Accept the client sends (the file is
    not rendered through DRF); error bodies still come out as JSON."""

    media_type = "*/*"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data).encode()


class TransactionAttachmentsView(APIView):
    parser_classes = [MultiPartParser]
    pagination_class = StrictLimitOffsetPagination

    @extend_schema(
        responses={200: AttachmentOutputSerializer(many=True)},
        description="The transaction's attachments, oldest first.",
    )
    def get(self, request, transaction_id):
        tx = transaction_get(user=request.user, transaction_id=transaction_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.attachment_list(user=request.user, transaction=tx), request, self)
        return paginator.get_paginated_response(AttachmentOutputSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: AttachmentOutputSerializer,
            409: ConflictErrorResponseSerializer,
            413: PayloadTooLargeErrorResponseSerializer,
            # unsupported_file_type: the bytes are not an allowed type (not only the request media type).
            415: ClientErrorResponseSerializer,
        },
        description="Attaches a receipt (multipart `file`). The type is read from the bytes (JPEG, PNG, WebP, "
        "HEIC, PDF; anything else is a 415), over ATTACHMENT_MAX_BYTES is a 413. The first attachment's CID "
        "becomes the transaction's ipfs_cid.",
    )
    def post(self, request, transaction_id):
        tx = transaction_get(user=request.user, transaction_id=transaction_id)
        data = AttachmentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.attachment_create(user=request.user, transaction=tx, upload=data.validated_data["file"])
        return Response(AttachmentOutputSerializer(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentView(APIView):
    renderer_classes = [JSONRenderer, AnyMediaRenderer]

    @extend_schema(
        responses={
            (200, media): OpenApiResponse(OpenApiTypes.BINARY, description="The file, as an attachment.")
            for media in ALLOWED_TYPES
        },
        description="Downloads the file (owner only) with Content-Disposition: attachment and nosniff.",
    )
    def get(self, request, attachment_id):
        attachment = selectors.attachment_get(user=request.user, attachment_id=attachment_id)
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    @extend_schema(responses={204: None}, description="Deletes the attachment and its file.")
    def delete(self, request, attachment_id):
        services.attachment_delete(attachment=selectors.attachment_get(user=request.user, attachment_id=attachment_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
