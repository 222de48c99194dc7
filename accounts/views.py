from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import AuthenticationFailed, NotFound, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import Session
from accounts.serializers import (
    DetailOutputSerializer,
    LoginInputSerializer,
    PasswordChangeInputSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    SessionOutputSerializer,
    TokenConfirmInputSerializer,
    TokenPairOutputSerializer,
    UserOutputSerializer,
    UserUpdateInputSerializer,
)
from accounts.throttling import client_ip, login_attempt_finish, login_attempt_reserve
from config.api import TallyAPIMixin
from config.openapi import ThrottledErrorResponseSerializer


def _token_pair_body(pair):
    return TokenPairOutputSerializer(
        {"access": pair.access, "refresh": pair.refresh, "session_id": pair.session.id, "user": pair.session.user}
    ).data


def _device(request):
    return {"user_agent": request.META.get("HTTP_USER_AGENT", ""), "ip": client_ip(request.META) or None}


class PublicAPIView(TallyAPIMixin, APIView):
    """No authentication, but a refused token still answers 401 (with a
    WWW-Authenticate challenge), not 403."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


class RegisterView(PublicAPIView):
    @extend_schema(request=RegisterInputSerializer, responses={201: TokenPairOutputSerializer})
    def post(self, request):
        data = self.validated(RegisterInputSerializer)
        user = services.user_create(**data)
        pair = services.session_start(user=user, **_device(request))
        return Response(_token_pair_body(pair), status=status.HTTP_201_CREATED)


class LoginView(PublicAPIView):
    @extend_schema(
        request=LoginInputSerializer,
        responses={200: TokenPairOutputSerializer, 429: ThrottledErrorResponseSerializer},
        description="5 failed attempts per client IP per 15 minutes, then 429 with Retry-After.",
    )
    def post(self, request):
        device = _device(request)
        reservation = login_attempt_reserve(device["ip"] or "unknown")
        if not reservation.allowed:
            detail = (
                "Too many logins in progress from this address; retry in a second."
                if reservation.reason == "busy"
                else "Too many failed logins from this address."
            )
            raise Throttled(wait=reservation.retry_after, detail=detail)
        wrong_password = False
        try:
            data = self.validated(LoginInputSerializer)
            pair = services.login(email=data["email"], password=data["password"], **device)
        except AuthenticationFailed:
            wrong_password = True
            raise
        finally:
            # Only a wrong password counts; bad input or a server error is refunded.
            login_attempt_finish(reservation, failed=wrong_password)
        return Response(_token_pair_body(pair))


class RefreshView(PublicAPIView):
    @extend_schema(request=RefreshInputSerializer, responses={200: TokenPairOutputSerializer})
    def post(self, request):
        data = self.validated(RefreshInputSerializer)
        pair = services.session_refresh(refresh_token=data["refresh"])
        return Response(_token_pair_body(pair))


class LogoutView(TallyAPIMixin, APIView):
    @extend_schema(request=RefreshInputSerializer, responses={204: None})
    def post(self, request):
        data = self.validated(RefreshInputSerializer)
        services.logout(user=request.user, refresh_token=data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(TallyAPIMixin, APIView):
    @extend_schema(responses={200: UserOutputSerializer})
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(request=UserUpdateInputSerializer, responses={200: UserOutputSerializer})
    def patch(self, request):
        data = self.validated(UserUpdateInputSerializer)
        user = services.user_update(user=request.user, data=data)
        return Response(UserOutputSerializer(user).data)


class PasswordChangeView(TallyAPIMixin, APIView):
    @extend_schema(request=PasswordChangeInputSerializer, responses={200: DetailOutputSerializer})
    def post(self, request):
        data = self.validated(PasswordChangeInputSerializer)
        services.password_change(
            user=request.user, current_session_id=getattr(request.user, "current_session_id", None), **data
        )
        return Response({"detail": "Password changed. Your other sessions have been signed out."})


class PasswordResetView(PublicAPIView):
    @extend_schema(request=PasswordResetInputSerializer, responses={202: DetailOutputSerializer})
    def post(self, request):
        data = self.validated(PasswordResetInputSerializer)
        services.password_reset_request(email=data["email"])
        return Response(
            {"detail": "If the address has an account, a reset link is on its way."}, status=status.HTTP_202_ACCEPTED
        )


class PasswordResetConfirmView(PublicAPIView):
    @extend_schema(request=PasswordResetConfirmInputSerializer, responses={200: DetailOutputSerializer})
    def post(self, request):
        data = self.validated(PasswordResetConfirmInputSerializer)
        services.password_reset_confirm(**data)
        return Response({"detail": "Password reset. Please sign in again."})


class VerifyEmailView(TallyAPIMixin, APIView):
    @extend_schema(request=None, responses={202: DetailOutputSerializer})
    def post(self, request):
        services.email_verification_send(user=request.user)
        return Response(
            {"detail": "If the address is unverified, a link is on its way."}, status=status.HTTP_202_ACCEPTED
        )


class VerifyEmailConfirmView(PublicAPIView):
    @extend_schema(request=TokenConfirmInputSerializer, responses={200: UserOutputSerializer})
    def post(self, request):
        data = self.validated(TokenConfirmInputSerializer)
        user = services.email_verification_confirm(**data)
        return Response(UserOutputSerializer(user).data)


class SessionViewSet(TallyAPIMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = SessionOutputSerializer
    pagination_class = None

    schema_model = Session

    def user_queryset(self):
        return selectors.session_list(user=self.request.user)

    def get_object(self):
        session = selectors.session_get(user=self.request.user, session_id=self.kwargs["pk"])
        if session is None:
            raise NotFound("No such session.")
        return session

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "current_session_id": getattr(self.request.user, "current_session_id", None),
        }

    def perform_destroy(self, instance):
        services.session_revoke(session=instance)
