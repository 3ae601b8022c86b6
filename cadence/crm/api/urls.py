from cadence.crm.api.views import CompanyViewSet, ContactViewSet


def register(router) -> None:
    router.register("companies", CompanyViewSet, basename="company")
    router.register("contacts", ContactViewSet, basename="contact")
