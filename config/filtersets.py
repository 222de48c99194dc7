import django_filters


class StaticFilterSet(django_filters.FilterSet):
    """A FilterSet whose form class is built once per FilterSet class.

    django-filter builds a new form class on every request (one type() call
    and, for each filter, its form field and a translated label): about 1 ms
    of a transactions page's Python time, for a class that never changes
    when the filters do not depend on the request (no queryset-backed
    choices). The form instance still deep-copies its fields per request."""

    def get_form_class(self):
        cls = type(self)
        if "_static_form_class" not in cls.__dict__:
            cls._static_form_class = super().get_form_class()
        return cls._static_form_class
