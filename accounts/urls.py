from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts import views

app_name = "accounts"

router = SimpleRouter(trailing_slash=False)
router.register("sessions", views.SessionViewSet, basename="session")

urlpatterns = [
    path("register", views.RegisterView.as_view(), name="register"),
    path("login", views.LoginView.as_view(), name="login"),
    path("refresh", views.RefreshView.as_view(), name="refresh"),
    path("logout", views.LogoutView.as_view(), name="logout"),
    path("me", views.MeView.as_view(), name="me"),
    path("password/change", views.PasswordChangeView.as_view(), name="password-change"),
    path("password/reset", views.PasswordResetView.as_view(), name="password-reset"),
    path("password/reset/confirm", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("verify-email", views.VerifyEmailView.as_view(), name="verify-email"),
    path("verify-email/confirm", views.VerifyEmailConfirmView.as_view(), name="verify-email-confirm"),
    *router.urls,
]
