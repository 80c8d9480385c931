from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "onestop.accounts"
    label = "accounts"

    def ready(self) -> None:
        from onestop.core import revisions

        # What a bearer token's check keeps per process (accounts.services) changes
        # when a user or a token changes; new users and tokens change no kept answer,
        # nor does a login's timestamp or a token's last use.
        user = self.get_model("User")
        token = self.get_model("ApiToken")
        revisions.watch("accounts", user, on_insert=False, ignore=("last_login",))
        revisions.watch("accounts", token, on_insert=False, ignore=("last_used_at",))
