app_name = "merchants"

urlpatterns = []
