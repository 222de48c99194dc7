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
from accounts.throttling import (
    ProtectionUnavailable,
    client_ip,
    login_attempt_finish,
    login_attempt_reserve,
    password_reset_wait,
)
from config.api import UUID_PATTERN, TallyAPIMixin
from config.exceptions import ServiceUnavailable
from config.openapi import (
    ClientErrorResponseSerializer,
    ConflictErrorResponseSerializer,
    ServiceUnavailableErrorResponseSerializer,
    ThrottledErrorResponseSerializer,
)


def _token_pair_body(pair):
    return TokenPairOutputSerializer(
        {"access": pair.access, "refresh": pair.refresh, "session_id": pair.session.id, "user": pair.session.user}
    ).data


class ProtectionUnavailableError(ServiceUnavailable):
    """Login protection cannot count (Redis down): refuse rather than allow
    unlimited guessing."""

    default_detail = "Sign-in is unavailable right now; try again shortly."

    def __init__(self, wait):
        super().__init__(wait=wait)


def _device(request):
    return {"user_agent": request.META.get("HTTP_USER_AGENT", ""), "ip": client_ip(request.META) or None}


class PublicAPIView(TallyAPIMixin, APIView):
    """No authentication, but a refused token still answers 401 (with a
    WWW-Authenticate challenge), not 403."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


REGISTER_ACCEPTED = "Check your inbox: the link in the e-mail we sent finishes signing up; then sign in."


class RegisterView(PublicAPIView):
    @extend_schema(
        request=RegisterInputSerializer,
        responses={202: DetailOutputSerializer},
        description="The same 202 whether or not the address already has an account (its owner is mailed "
        "instead), so the answer reveals nothing. Sign in with `login` afterwards.",
    )
    def post(self, request):
        data = self.validated(RegisterInputSerializer)
        services.user_create(**data)
        return Response({"detail": REGISTER_ACCEPTED}, status=status.HTTP_202_ACCEPTED)


class LoginView(PublicAPIView):
    @extend_schema(
        request=LoginInputSerializer,
        responses={
            200: TokenPairOutputSerializer,
            401: ClientErrorResponseSerializer,
            429: ThrottledErrorResponseSerializer,
            503: ServiceUnavailableErrorResponseSerializer,
        },
        description="A wrong e-mail or password is a 401. "
        "5 failed attempts per client IP per 15 minutes, then 429 with Retry-After. "
        "10 failed attempts for one account from any address lock it for 15 minutes (429 with Retry-After; "
        "the owner is mailed). 503 with Retry-After while the counters are unavailable.",
    )
    def post(self, request):
        device = _device(request)
        try:
            reservation = login_attempt_reserve(device["ip"] or "unknown")
        except ProtectionUnavailable as exc:
            raise ProtectionUnavailableError(exc.retry_after)
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
        except ProtectionUnavailable as exc:
            raise ProtectionUnavailableError(exc.retry_after)
        finally:
            # Only a wrong password counts; bad input or a server error is refunded.
            login_attempt_finish(reservation, failed=wrong_password)
        return Response(_token_pair_body(pair))


class RefreshView(PublicAPIView):
    @extend_schema(
        request=RefreshInputSerializer,
        responses={200: TokenPairOutputSerializer, 401: ClientErrorResponseSerializer},
        description="A refresh token that is invalid, expired, revoked or already rotated is a 401.",
    )
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

    @extend_schema(
        request=UserUpdateInputSerializer,
        responses={200: UserOutputSerializer, 202: UserOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="A new base_currency answers 202 with base_currency_recomputing true: every transaction's "
        "amount_base is being recomputed by a task. Another change while that runs is a 409.",
    )
    def patch(self, request):
        data = self.validated(UserUpdateInputSerializer)
        before = request.user.base_currency
        user = services.user_update(user=request.user, data=data)
        changed = user.base_currency != before
        return Response(
            UserOutputSerializer(user).data, status=status.HTTP_202_ACCEPTED if changed else status.HTTP_200_OK
        )


class PasswordChangeView(TallyAPIMixin, APIView):
    @extend_schema(request=PasswordChangeInputSerializer, responses={200: DetailOutputSerializer})
    def post(self, request):
        data = self.validated(PasswordChangeInputSerializer)
        services.password_change(
            user=request.user, current_session_id=getattr(request.user, "current_session_id", None), **data
        )
        return Response({"detail": "Password changed. Your other sessions have been signed out."})


class PasswordResetView(PublicAPIView):
    @extend_schema(
        request=PasswordResetInputSerializer,
        responses={
            202: DetailOutputSerializer,
            429: ThrottledErrorResponseSerializer,
            503: ServiceUnavailableErrorResponseSerializer,
        },
        description="Limited per client IP and per address (429 with Retry-After); "
        "the same 202 whether or not the address has an account.",
    )
    def post(self, request):
        data = self.validated(PasswordResetInputSerializer)
        try:
            wait = password_reset_wait(ip=_device(request)["ip"] or "unknown", email=data["email"])
        except ProtectionUnavailable as exc:
            raise ProtectionUnavailableError(exc.retry_after)
        if wait:
            raise Throttled(wait=wait, detail="Too many reset requests; try again later.")
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
    lookup_value_regex = UUID_PATTERN
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
