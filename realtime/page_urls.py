app_name = "realtime_pages"

urlpatterns = []
