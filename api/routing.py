"""Route registration shared by every router."""


def get_and_head(router, path: str, **kwargs):
    """Registers a GET route and the same handler for HEAD (kept out of the OpenAPI operation ids)."""
    def register(handler):
        router.add_api_route(path, handler, methods=["GET"], **kwargs)
        router.add_api_route(path, handler, methods=["HEAD"], include_in_schema=False, **kwargs)
        return handler
    return register
