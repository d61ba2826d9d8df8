from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from fca import academy_views, api_docs_views, audit_views, sso_views, twofactor_views, views
from fca.forms import NHSPasswordChangeForm, NHSPasswordResetForm, NHSSetPasswordForm

accounts = [
    path("sign-in/", twofactor_views.SignInView.as_view(), name="login"),
    path("two-factor/", twofactor_views.two_factor_account, name="two_factor_account"),
    path("two-factor/code/", twofactor_views.two_factor_code, name="two_factor_code"),
    path("two-factor/set-up/", twofactor_views.two_factor_setup, name="two_factor_setup"),
    path(
        "two-factor/recovery-codes/",
        twofactor_views.two_factor_recovery_codes,
        name="two_factor_recovery_codes",
    ),
    path("two-factor/change/", twofactor_views.two_factor_change, name="two_factor_change"),
    path("sign-out/", views.sign_out, name="logout"),
    path("email-link/", views.email_link, name="email_link"),
    path("sso/<str:provider>/", sso_views.sso_start, name="sso_start"),
    path("sso/<str:provider>/callback/", sso_views.sso_callback, name="sso_callback"),
    path("email-link/<str:link>/", views.email_link_sign_in, name="email_link_sign_in"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(form_class=NHSPasswordResetForm),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=NHSSetPasswordForm),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(form_class=NHSPasswordChangeForm),
        name="password_change",
    ),
    path("invitation/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("tokens/", views.personal_tokens, name="personal_tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

academy = [
    path("", academy_views.academy_home, name="academy_home"),
    path("cohorts/new/", academy_views.cohort_create, name="cohort_create"),
    path("cohorts/<int:cohort_id>/", academy_views.cohort_detail, name="cohort_detail"),
    path("cohorts/<int:cohort_id>/enrol/", academy_views.enrolment_new, name="enrolment_new"),
    path(
        "enrolments/<int:enrolment_id>/",
        academy_views.enrolment_detail,
        name="enrolment_detail",
    ),
    path(
        "cohorts/<int:cohort_id>/days/new/",
        academy_views.taught_day_create,
        name="taught_day_create",
    ),
    path("days/<int:day_id>/", academy_views.taught_day_attendance, name="taught_day_attendance"),
    path("coaches/<int:coach_id>/", academy_views.coach_detail, name="coach_detail"),
    path("coaches/<int:coach_id>/pair/", academy_views.coach_pair, name="coach_pair"),
    path("coaches/<int:coach_id>/resend/", academy_views.coach_resend, name="coach_resend"),
    path("programme/", academy_views.programme, name="programme"),
    path("two-factor-reset/", twofactor_views.two_factor_reset, name="two_factor_reset"),
    path("programme.csv", academy_views.programme_csv, name="programme_csv"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("academy/", include(academy)),
    path("health/", views.health, name="health"),
    path("glossary/", views.glossary, name="glossary"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("audit.csv", audit_views.audit_log_csv, name="audit_log_csv"),
    path("account/", include(accounts)),
    path("", include("bigrooms.urls")),
    path("", include("measures.urls")),
    path("", include("pathways.urls")),
    path("api/v1/", include("measures.api_urls")),
    path("api/v1/", include("pathways.api_urls")),
    path("api/v1/", include("bigrooms.api_urls")),
    path("api/v1/", include("fca.api_urls")),
    # The schema answers 401 to callers without credentials; its docs pages, for people in
    # a browser, send them to sign in. The reference is our own page, made from the schema;
    # Swagger UI stays for trying requests out (its markup is not ours to make accessible).
    # The split view's script is a static file: no inline script for the CSP to refuse.
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", api_docs_views.api_reference, name="api_docs"),
    path(
        "api/docs/try/",
        login_required(
            SpectacularSwaggerSplitView.as_view(
                url_name="api_schema", template_name="api/docs.html"
            )
        ),
        name="api_docs_try",
    ),
]

handler400 = "fca.errors.bad_request"
handler403 = "fca.errors.permission_denied"
handler404 = "fca.errors.page_not_found"
handler500 = "fca.errors.server_error"
