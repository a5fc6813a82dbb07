from django.db import migrations, models


def mark_scenario_jobs(apps, schema_editor):
    """Jobs already submitted for a scenario still standing; those of deleted ones cannot be told."""
    apps.get_model("jobs", "Job").objects.filter(scenario__isnull=False).update(for_scenario=True)


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0003_job_status_created"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="for_scenario",
            field=models.BooleanField(
                default=False,
                help_text="Submitted for a scenario (kept when the scenario is deleted: no Retry then).",
            ),
        ),
        migrations.RunPython(mark_scenario_jobs, migrations.RunPython.noop),
    ]
