from config import serializers
from ledger.models import Attachment


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=False,
        help_text="JPEG, PNG, WebP, HEIC or PDF (recognised from the bytes); at most ATTACHMENT_MAX_BYTES.",
    )


class AttachmentOutputSerializer(serializers.ModelSerializer):
    transaction = serializers.UUIDField(source="transaction_id", read_only=True)
    url = serializers.SerializerMethodField(help_text="Download (owner's token only).")

    class Meta:
        model = Attachment
        fields = ["id", "transaction", "filename", "content_type", "size", "sha256", "cid", "url", "created_at"]

    def get_url(self, obj) -> str:
        return f"/api/v1/attachments/{obj.id}"
