app_name = "realtime"

urlpatterns = []
