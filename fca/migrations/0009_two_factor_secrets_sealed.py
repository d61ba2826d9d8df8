"""Authenticator keys sealed at rest (fca/sealing.py): each key stored so far is sealed
under the current SECRET_KEY, then the plain column goes. Reversed, they are unsealed."""

from django.db import migrations, models

from fca import sealing


def seal_all(apps, schema_editor):
    TwoFactorDevice = apps.get_model("fca", "TwoFactorDevice")
    for device in TwoFactorDevice.objects.only("secret"):
        device.sealed_secret = sealing.seal(device.secret)
        device.save(update_fields=["sealed_secret"])


def unseal_all(apps, schema_editor):
    TwoFactorDevice = apps.get_model("fca", "TwoFactorDevice")
    for device in TwoFactorDevice.objects.only("sealed_secret"):
        device.secret = sealing.unseal(device.sealed_secret)
        device.save(update_fields=["secret"])


class Migration(migrations.Migration):
    dependencies = [("fca", "0008_token_uses_now_in_the_audit_log")]

    operations = [
        migrations.AddField(
            model_name="twofactordevice",
            name="sealed_secret",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.RunPython(seal_all, unseal_all),
        # A default, so that reversed, the column comes back on rows that have keys.
        migrations.AlterField(
            model_name="twofactordevice",
            name="secret",
            field=models.CharField(max_length=64, default=""),
        ),
        migrations.RemoveField(model_name="twofactordevice", name="secret"),
    ]
