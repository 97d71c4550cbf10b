from django.apps import AppConfig


class BrandConfig(AppConfig):
    name = "webapp.brand"
    label = "brand"
