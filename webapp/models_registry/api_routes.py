"""API routes of this app, registered on the shared /api/v1/ router."""


def register(router) -> None:
    """Add this app's viewsets to the shared router."""
    from webapp.models_registry.views import ModelVersionViewSet

    router.register("models", ModelVersionViewSet, basename="model-version")
