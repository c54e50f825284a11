"""Full-text search on PostgreSQL: a trigger keeps Article.search_vector current, a GIN index serves queries.

Weights: title A, standfirst B, body C. On SQLite (the embedded default) nothing is created, and search falls back
to plain matching (articles.selectors.article_search).
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION articles_article_search_vector() RETURNS trigger AS $$
BEGIN
  NEW.search_vector :=
    setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(NEW.standfirst, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(NEW.body_text, '')), 'C');
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER articles_article_search_vector_update
  BEFORE INSERT OR UPDATE OF title, standfirst, body_text ON articles_article
  FOR EACH ROW EXECUTE FUNCTION articles_article_search_vector();

CREATE INDEX articles_article_search_gin ON articles_article USING gin (search_vector);

UPDATE articles_article SET title = title;
"""

BACKWARD = """
DROP INDEX IF EXISTS articles_article_search_gin;
DROP TRIGGER IF EXISTS articles_article_search_vector_update ON articles_article;
DROP FUNCTION IF EXISTS articles_article_search_vector();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("articles", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
