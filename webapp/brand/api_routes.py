"""API routes of this app, registered on the shared /api/v1/ router."""


def register(router) -> None:
    """Add this app's viewsets to the shared router."""
    from webapp.brand.views import BrandVoiceViewSet, PersonaViewSet

    router.register("brand-voices", BrandVoiceViewSet, basename="brand-voice")
    router.register("personas", PersonaViewSet, basename="persona")
