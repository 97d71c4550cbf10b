"""API routes of this app, registered on the shared /api/v1/ router."""


def register(router) -> None:
    """Add this app's viewsets to the shared router."""
    from webapp.campaigns.views import CampaignViewSet

    router.register("campaigns", CampaignViewSet, basename="campaign")
