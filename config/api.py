"""Small pieces every app's API shares."""

# Routers' {id} pattern: only a UUID is an id, so `transactions/import`,
# `merchants/search` and friends never reach a detail route.
UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class TallyAPIMixin:
    """What every Tally API view shares (mix into APIView or a viewset):

    - ``validated(SerializerClass)`` / ``validated_query(SerializerClass)``:
      the request body's (or query string's) validated data, a 400 otherwise.
    - ``get_queryset`` calls ``user_queryset()`` (the view's selector call);
      while drf-spectacular inspects the view (no user) it is
      ``schema_model``'s empty queryset instead."""

    schema_model = None

    def user_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.schema_model._default_manager.none()
        return self.user_queryset()

    def validated(self, serializer_class, data=None, **kwargs) -> dict:
        serializer = serializer_class(data=self.request.data if data is None else data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def validated_query(self, serializer_class, **kwargs) -> dict:
        return self.validated(serializer_class, self.request.query_params, **kwargs)
