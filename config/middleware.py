"""Middleware of our own."""


class SyncChainMiddleware:
    """Keeps the whole middleware chain synchronous under ASGI.

    Django's MiddlewareMixin middleware can run sync or async; under ASGI it
    picks async while the handler below is async, and then every
    process_request/process_response crosses to a worker thread and back
    (about twenty thread hops a request for our list). Being sync-only and
    last, this middleware makes Django choose sync mode for every middleware
    above it, so a request costs one hop into a thread and one back for the
    view. Nothing here is async, so nothing is lost.
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
