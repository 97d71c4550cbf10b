"""Root URLs: admin, the versioned API with its schema, and the browser UI."""

from importlib import import_module

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

DOMAIN_APPS = (
    "accounts",
    "brand",
    "campaigns",
    "models_registry",
    "generation",
    "review",
    "training",
)

router = DefaultRouter()
for app in DOMAIN_APPS:
    import_module(f"webapp.{app}.api_routes").register(router)

# Each app's urls.py holds its API endpoints that are not router viewsets.
api_urlpatterns = [path("", include(f"webapp.{app}.urls")) for app in DOMAIN_APPS]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_urlpatterns)),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path("models/", include("webapp.training.ui_urls")),
    path("", include("webapp.ui.urls")),
]
