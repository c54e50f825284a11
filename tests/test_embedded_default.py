"""`make run`'s embedded default: SQLite, in-process tasks, the demo story served, search by plain matching."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """
from django.test import Client
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("seed_demo", stdout=open(os.devnull, "w"))
call_command("seed_demo", stdout=open(os.devnull, "w"))
c = Client()
home = c.get("/")
article = c.get("/news/face-recognition-sold-to-police/")
search = c.get("/search/", {"q": "clinic"})
gallery = c.get("/news/face-recognition-sold-to-police/gallery/")
from articles.models import ArticleImage
print(home.status_code, article.status_code, search.status_code, gallery.status_code)
print("recognition" in home.content.decode(), "View 3 images" in article.content.decode())
print("A tech giant is selling face recognition" in search.content.decode())
print(all(image.renditions for image in ArticleImage.objects.all()))
from articles.models import Article
from articles.services.publishing import article_save
story = Article.objects.get(slug="face-recognition-sold-to-police")
story.title = "A corrected headline"
article_save(article=story)
print("A corrected headline" in c.get("/news/face-recognition-sold-to-police/").content.decode())
"""


def test_demo_story_is_served_on_sqlite_with_tasks_in_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_", "DJANGO_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "1",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DJANGO_VAR_DIR": str(tmp_path),
        }
    )
    code = "import os, django; django.setup()\n" + SCRIPT
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()[-5:]
    # The last line: the local-memory cache serves the story's copy, and an edit replaces it at once.
    assert lines == ["200 200 200 200", "True True", "True", "True", "True"], result.stdout[-3000:]
